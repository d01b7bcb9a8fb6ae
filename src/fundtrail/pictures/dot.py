"""Money-flow pictures drawn by Graphviz ``dot`` (Debian's ``graphviz``), SVG or PNG.

Why dot: it is the well-kept layered ("Sugiyama") layout for directed graphs, it places
edge labels as part of the layout (so amounts never overlap each other or a box), and
ranks can be fixed: every box gets the column :mod:`fundtrail.pictures.flowgraph`
computed (the same ranks the web canvas gives to dagre), with ``minlen`` on each arrow,
so arrows point left to right, i.e. forward in time. The picture is made to be printed:
text is 9.5 pt (small lines 8.5 pt) at natural size, and :func:`fit_for_page` drops boxes
until the drawing fits an A4 column at a scale that keeps every text at 8 pt or more.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from html import escape
from pathlib import Path

from fundtrail.analysis.trace.result import TraceResult
from fundtrail.errors import InvalidInputError, SourceError
from fundtrail.pictures.flowgraph import FiatLookup, FlowGraph, FlowNode, build

FONT_PT, SMALL_PT, MIN_PT = 9.5, 8.5, 8.0
# the report's money-flow page: A4 landscape, 14 mm margins, room for heading and caption
PAGE_W_PT, PAGE_H_PT = 760.0, 430.0

FILL = {
    "start": "#fde2c8",
    "transit": "#eef1f4",
    "cash-out": "#cdeee9",
    "held": "#d7ecf7",
    "limit": "#e4e7ea",
    "coinjoin": "#e6dcf7",
    "dispersed": "#ffffff",
    "return": "#fff4d6",
}
CATEGORY_BORDER = {
    "exchange": "#0b5fff",
    "scam": "#d3272f",
    "investment-scam": "#d3272f",
    "ransomware": "#9b0d14",
    "mixer": "#7b3fb3",
    "sanctions": "#000000",
}


def to_dot(graph: FlowGraph) -> str:
    """The DOT text of the drawn graph (labels escaped: entity names come from outside)."""
    lines = [
        "digraph flow {",
        "  graph [rankdir=LR, newrank=true, nodesep=0.18, ranksep=0.25, pad=0.1, "
        f'fontname="DejaVu Sans", fontsize={FONT_PT:g}, labelloc=t, '
        f"label=<<b>{escape(_title(graph))}</b>>];",
        f'  node [shape=box, style="rounded,filled", fontname="DejaVu Sans", '
        f'fontsize={FONT_PT:g}, margin="0.10,0.05", penwidth=1.2];',
        f'  edge [fontname="DejaVu Sans", fontsize={SMALL_PT:g}, color="#5b6875", arrowsize=0.7];',
    ]
    for n in graph.nodes:
        border = CATEGORY_BORDER.get(n.category or "", "#3c4650")
        style = '"rounded,filled,dashed"' if n.kind == "dispersed" else '"rounded,filled"'
        lines.append(
            f'  "{_id(n.id)}" [label=<{_node_label(n)}>, fillcolor="{FILL.get(n.kind, "#fff")}",'
            f' color="{border}", style={style}];'
        )
    by_rank: dict[int, list[str]] = {}
    for n in graph.nodes:
        by_rank.setdefault(n.rank, []).append(_id(n.id))
    for _, ids in sorted(by_rank.items()):
        members = " ".join(f'"{i}";' for i in ids)
        lines.append(f"  {{ rank=same; {members} }}")
    rank_of = {n.id: n.rank for n in graph.nodes}
    for e in graph.edges:
        minlen = max(1, rank_of[e.target] - rank_of[e.source])
        width = 1.0 + 5.0 * e.weight
        label = escape(e.amount_text) + (
            f'<br/><font point-size="{SMALL_PT:g}">{escape(e.fiat_text)}</font>'
            if e.fiat_text
            else ""
        )
        style = ", style=dashed" if e.dashed else ""
        lines.append(
            f'  "{_id(e.source)}" -> "{_id(e.target)}" [label=<{label}>, '
            f"minlen={minlen}, penwidth={width:.2f}{style}];"
        )
    lines.append("}")
    return "\n".join(lines) + "\n"


def _title(graph: FlowGraph) -> str:
    return graph.title or "money flow"


def _node_label(n: FlowNode) -> str:
    rows = [f"<b>{escape(n.title)}</b>"]
    small = [n.subtitle]
    if n.amount_text:
        rows.append(escape(n.amount_text))
    if n.fiat_text:
        small.append(n.fiat_text)
    if n.held_text:
        small.append(n.held_text)
    if n.time_text and n.time_text != "-":
        small.append(n.time_text)  # when money first entered (the legend says so)
    rows += [f'<font point-size="{SMALL_PT:g}">{escape(s)}</font>' for s in small if s]
    return "<br/>".join(rows)


def _id(node_id: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "_", node_id)


def render(dot_text: str, fmt: str) -> bytes:
    """Run ``dot`` and return the picture (``svg``, ``png`` or ``json`` with positions)."""
    exe = shutil.which("dot")
    if exe is None:
        raise SourceError(
            "Graphviz is not installed: the money-flow picture needs `dot` "
            "(Debian package graphviz; `.ci/run` installs it)"
        )
    done = subprocess.run(
        [exe, f"-T{fmt}", "-Gdpi=96" if fmt == "png" else "-Gdpi=72"],
        input=dot_text.encode(),
        capture_output=True,
        timeout=120,
        check=False,
    )
    if done.returncode != 0:
        raise SourceError(f"Graphviz dot failed: {done.stderr.decode(errors='replace')[:400]}")
    return done.stdout


@dataclass(frozen=True, slots=True)
class Fitted:
    """A picture sized for an A4 column: the SVG, its natural size and the print scale."""

    graph: FlowGraph
    svg: bytes
    width_pt: float
    height_pt: float
    scale: float

    @property
    def print_width_pt(self) -> float:
        return self.width_pt * self.scale


def svg_size(svg: bytes) -> tuple[float, float]:
    head = svg[:2000].decode(errors="replace")
    w = re.search(r'<svg[^>]*\bwidth="([\d.]+)pt"', head, re.S)
    h = re.search(r'<svg[^>]*\bheight="([\d.]+)pt"', head, re.S)
    if not (w and h):
        raise SourceError("Graphviz SVG without a size")
    return float(w.group(1)), float(h.group(1))


def fit_for_page(
    result: TraceResult,
    *,
    fiat: FiatLookup | None = None,
    width_pt: float = PAGE_W_PT,
    height_pt: float = PAGE_H_PT,
    budgets: tuple[int, ...] = (24, 18, 14, 10, 7, 5),
) -> Fitted:
    """The largest drawing (fewest boxes dropped) that prints with text >= 8 pt: peel
    chains folded into one arrow first, then fewer boxes, then nearer endpoints."""
    fitted: Fitted | None = None
    # first with the ways to the largest cash-outs kept (their plain wallets folded into
    # arrows), then, for traces too deep to print that way, the nearest endpoints only
    tries = [(b, True) for b in budgets] + [(b, False) for b in budgets]
    for budget, whole_ways in tries:
        graph = build(result, max_nodes=budget, fiat=fiat, squash_chains=True,
                      keep_ways=whole_ways)  # fmt: skip
        if len(graph.nodes) > 2 * budget:  # ways that do not fold: too many boxes to print
            continue
        svg = render(to_dot(graph), "svg")
        w, h = svg_size(svg)
        scale = min(1.0, width_pt / w, height_pt / h)
        fitted = Fitted(graph, svg, w, h, scale)
        if scale * SMALL_PT >= MIN_PT:
            return fitted
    assert fitted is not None
    return fitted


def draw(result: TraceResult, path: Path, *, fiat: FiatLookup | None = None) -> Fitted:
    """Write the money-flow picture of ``result`` to ``path`` (.svg or .png)."""
    suffix = path.suffix.lower()
    if suffix not in (".svg", ".png"):
        raise InvalidInputError(
            f"picture must be a .svg or .png file, not {path.name!r}", field="picture"
        )
    fitted = fit_for_page(result, fiat=fiat)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = fitted.svg if suffix == ".svg" else render(to_dot(fitted.graph), "png")
    path.write_bytes(data)
    return fitted
