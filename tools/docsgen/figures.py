"""Figures in the docs come from benchmark records, never from a keyboard.

A benchmark run with ``--record`` leaves ``bench/results/NAME.json`` (see
``bench/_record.py``). The docs quote it three ways, and this module checks and fills
all three from the record: an inline ``<!--fig NAME:KEY-->text<!--/fig-->``, a table
region ``<!-- figures NAME:KEY -->``, and a console block ``<!-- console {bench: NAME} -->``
showing the run's command and output. The README's ``figures-sources`` region is the
table of every quoted figure with its benchmark, data, load and date, built here too.

:func:`unsourced` finds numbers that read like measurements (ratios, durations, rates,
percentages, sizes, decimals such as a recall of 0.995) anywhere else in the prose: each must be
quoted from a record or listed in ``allowed.py`` with the reason it is not a
measurement.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path

from docsgen.markdown import FIG, Fence, Region, prose

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))

from _record import RESULTS, Record  # noqa: E402

NUM = r"\d[\d,]*(?:\.\d+)?"
RANGE = rf"{NUM}(?:\s?[-–]\s?{NUM})?"
LOOKS_MEASURED = {
    "ratio": re.compile(rf"(?<![\w.]){RANGE}\s?[x×](?!\w)"),
    "time": re.compile(
        rf"(?<![\w.]){RANGE}\s?(?:ms|µs|us|s|sec|seconds?|min|minutes?|hours?)(?![\w/])"
    ),
    "rate": re.compile(rf"(?<![\w.]){RANGE}\s?(?:[kMG] )?(?:[A-Za-z-]+ ?){{0,2}}/s\b"),
    "percent": re.compile(rf"(?<![\w.]){RANGE}\s?%"),
    "size": re.compile(rf"(?<![\w.]){RANGE}\s?[KMGT]i?B\b"),
    "decimal": re.compile(r"(?<![\w.])\d+\.\d{2,}(?!\w|\.\d)"),
}
_CODE = re.compile(r"`[^`]*`")
_LINK_TARGET = re.compile(r"\]\([^)]*\)")


class FigureError(ValueError):
    """A marker quoting a record or key that does not exist."""


def load_records(results: Path = RESULTS) -> dict[str, Record]:
    """Every ``bench/results/*.json``, by name."""
    return {p.stem: Record.from_json(p.read_text()) for p in sorted(results.glob("*.json"))}


def figure_text(records: dict[str, Record], name: str, key: str, where: str) -> str:
    """The text a record gives a figure; a missing record or key names the marker."""
    rec = records.get(name)
    if rec is None:
        raise FigureError(f"{where}: no bench/results/{name}.json (run its benchmark --record)")
    if key not in rec.figures:
        raise FigureError(f"{where}: {rec.benchmark} recorded no figure {key!r}")
    return rec.figures[key].text


def fill_inline(text: str, records: dict[str, Record], where: str) -> str:
    """``text`` with every inline figure marker's text taken from its record."""

    def sub(m: re.Match[str]) -> str:
        value = figure_text(records, m.group(1), m.group(2), where)
        return f"<!--fig {m.group(1)}:{m.group(2)}-->{value}<!--/fig-->"

    return FIG.sub(sub, text)


def region_body(region: Region, records: dict[str, Record], quoted: list[Quote]) -> list[str]:
    """What a ``figures`` or ``figures-sources`` region must contain."""
    if region.kind == "figures-sources":
        return sources_table(records, quoted)
    name, _, key = region.ref.partition(":")
    rec = records.get(name)
    if rec is None or key not in rec.tables:
        raise FigureError(f"{region.where}: no recorded table {region.ref!r}")
    return rec.tables[key].splitlines()


def bench_block(fence: Fence, records: dict[str, Record]) -> list[str]:
    """The body of a ``{bench: NAME}`` console block: the recorded command and output."""
    assert fence.marker is not None
    name = str(fence.marker["bench"])
    rec = records.get(name)
    if rec is None:
        raise FigureError(f"{fence.where}: no bench/results/{name}.json")
    lines = [line.rstrip() for line in rec.output.splitlines()]
    while lines and not lines[-1]:
        lines.pop()
    return [f"$ {rec.command}", *lines]


@dataclass(frozen=True)
class Quote:
    """Where the docs quote a record: a figure (``key``) or a whole table or output."""

    name: str
    key: str
    path: Path
    line: int


def quotes(path: Path, lines: list[str], fences: list[Fence], regs: list[Region]) -> list[Quote]:
    """Every use of a record in one file."""
    out: list[Quote] = []
    text = "\n".join(lines)
    for m in FIG.finditer(text):
        out.append(Quote(m.group(1), m.group(2), path, text.count("\n", 0, m.start()) + 1))
    for r in regs:
        if r.kind == "figures":
            name, _, key = r.ref.partition(":")
            out.append(Quote(name, f"its table {key!r}", path, r.start + 1))
    for f in fences:
        if f.marker and "bench" in f.marker:
            out.append(Quote(str(f.marker["bench"]), "its output", path, f.start + 1))
    return out


def sources_table(records: dict[str, Record], quoted: list[Quote]) -> list[str]:
    """The README's 'How the figures were measured' table: one row per benchmark run."""
    used = sorted({q.name for q in quoted if q.name in records})
    machines = sorted(
        {
            (m["cpu"], m["cores"], m["memory_gib"], m["python"], m["system"])
            for m in (records[name].machine for name in used)
        }
    )
    out = [
        f"Machine: {cpu}, {cores} cores, {mem:g} GiB, Python {py}, {system}."
        for cpu, cores, mem, py, system in machines
    ]
    out += [
        "",
        "| benchmark run | data | load | recorded | figures quoted (where) |",
        "|---|---|---|---|---|",
    ]
    for name in used:
        rec = records[name]
        shown = []
        keys = {q.key for q in quoted if q.name == name}
        for key in sorted(keys, key=lambda k: (k not in rec.figures, k)):
            where = ", ".join(
                sorted({_doc_link(q.path) for q in quoted if (q.name, q.key) == (name, key)})
            )
            if key in rec.figures:
                fig = rec.figures[key]
                shown.append(f"**{fig.text}**: {fig.about} ({where})")
            else:
                shown.append(f"{key} ({where})")
        out.append(
            f"| `{rec.command}` | {rec.data} | {rec.load_text()} | {rec.recorded[:10]} "
            f"| {'<br>'.join(shown)} |"
        )
    return out


def _doc_link(path: Path) -> str:
    try:
        rel = path.resolve().relative_to(ROOT)
    except ValueError:
        return path.name
    return f"[{rel.stem}]({rel})"


def unsourced(lines: list[str]) -> list[tuple[int, str, str]]:
    """(line, kind, text) of every measurement-like number in prose not quoted from a record."""
    found: list[tuple[int, str, str]] = []
    for i, line in prose(lines):
        bare = _LINK_TARGET.sub("]", _CODE.sub("", FIG.sub("", line)))
        if bare.lstrip().startswith("<!--"):
            continue
        for kind, pattern in LOOKS_MEASURED.items():
            for m in pattern.finditer(bare):
                found.append((i + 1, kind, m.group(0)))
    return found
