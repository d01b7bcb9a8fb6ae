"""A readable money-flow diagram: clusters as boxes (named by their entity), arrows with amounts.

Drawn with matplotlib (no system dependency): columns are steps away from the start,
colours say what a cluster is to the trace (start, transit, cash-out, held, limit,
CoinJoin). Only the largest flows are drawn so the picture stays legible; the caption
says how many were left out. SVG or PNG by the file's suffix.
"""

from __future__ import annotations

from collections import deque
from pathlib import Path

from fundtrail.analysis.trace.result import Edge, Node, TraceResult
from fundtrail.errors import InvalidInputError
from fundtrail.model import display

COLOURS = {
    "start": "#f4a261",
    "transit": "#e9ecef",
    "cash-out": "#2a9d8f",
    "held": "#8ecae6",
    "limit": "#ced4da",
    "coinjoin": "#b388eb",
}
MAX_NODES = 16


def fmt_amount(amount: int, asset: str, chain: str) -> str:
    """An amount in its asset's units, through the one display layer."""
    return display.amount(amount, asset, chain=chain)


def _pick(result: TraceResult) -> tuple[list[Node], list[Edge]]:
    """The largest flows, until MAX_NODES clusters are in; the starts always are."""
    nodes = {n.cluster_id: n for n in result.nodes}
    keep = {n.cluster_id for n in result.nodes if n.role == "start"}
    edges: list[Edge] = []
    for e in sorted(result.edges, key=lambda e: -e.amount):
        new = {e.source, e.target} - keep
        if len(keep) + len(new) > MAX_NODES:
            continue
        keep |= new
        edges.append(e)
    drawn = {c for e in edges for c in (e.source, e.target)} | {
        c for c in keep if nodes[c].role == "start"
    }
    return [nodes[c] for c in nodes if c in drawn], edges


def _layers(nodes: list[Node], edges: list[Edge]) -> dict[int, int]:
    out: dict[int, list[int]] = {}
    for e in edges:
        out.setdefault(e.source, []).append(e.target)
    layer = {n.cluster_id: 0 for n in nodes if n.role == "start"}
    queue = deque(layer)
    while queue:
        c = queue.popleft()
        for d in out.get(c, []):
            if d not in layer:
                layer[d] = layer[c] + 1
                queue.append(d)
    deepest = max(layer.values(), default=0)
    for n in nodes:
        layer.setdefault(n.cluster_id, deepest + 1)
    return layer


def _name(n: Node) -> str:
    return n.label or f"cluster {n.cluster_id}"


def draw(result: TraceResult, path: Path) -> None:
    """Write the diagram to ``path`` (.svg or .png)."""
    suffix = path.suffix.lower()
    if suffix not in (".svg", ".png"):
        raise InvalidInputError(
            f"picture must be a .svg or .png file, not {path.name!r}", field="picture"
        )
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import FancyBboxPatch

    nodes, edges = _pick(result)
    layer = _layers(nodes, edges)
    columns: dict[int, list[Node]] = {}
    for n in sorted(nodes, key=lambda n: -n.amount):
        columns.setdefault(layer[n.cluster_id], []).append(n)
    pos = {
        n.cluster_id: (x * 3.2, -y * 1.3) for x, col in columns.items() for y, n in enumerate(col)
    }
    width = max(len(columns), 1) * 3.2
    height = max((len(c) for c in columns.values()), default=1) * 1.3
    fig, ax = plt.subplots(figsize=(min(2.2 + width * 1.1, 18), min(1.8 + height * 1.1, 14)))
    chain = str(result.summary.get("chain", "BTC"))
    for e in edges:
        (x0, y0), (x1, y1) = pos[e.source], pos[e.target]
        ax.annotate("", xy=(x1 - 1.1, y1), xytext=(x0 + 1.1, y0),
                    arrowprops={"arrowstyle": "-|>", "color": "#495057", "lw": 1.2,
                                "connectionstyle": "arc3,rad=0.08"})  # fmt: skip
        lx, ly = x0 + 1.1 + 0.6 * (x1 - x0 - 2.2), y0 + 0.6 * (y1 - y0)
        ax.text(lx, ly + 0.12, fmt_amount(e.amount, e.asset, chain),
                ha="center", fontsize=7, color="#212529",
                bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none",
                      "alpha": 0.8})  # fmt: skip
    for n in nodes:
        x, y = pos[n.cluster_id]
        ax.add_patch(FancyBboxPatch((x - 1.1, y - 0.38), 2.2, 0.76,
                                    boxstyle="round,pad=0.04", fc=COLOURS.get(n.role, "#fff"),
                                    ec="#343a40", lw=1))  # fmt: skip
        sub = n.category or n.role
        ax.text(x, y + 0.1, _name(n), ha="center", va="center", fontsize=8, weight="bold")
        ax.text(x, y - 0.18, sub, ha="center", va="center", fontsize=7, color="#343a40")
    s = result.summary
    left_out = len(result.nodes) - len(nodes)
    title = f"{s.get('method', '')} trace {s.get('direction', '')} on {chain}"
    if left_out > 0:
        title += f" ({left_out} smaller clusters not drawn)"
    ax.set_title(title, fontsize=10)
    ax.set_xlim(-1.5, width - 1.7)
    ax.set_ylim(-height + 0.5, 0.9)
    ax.axis("off")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format=suffix[1:], dpi=90)
    plt.close(fig)
