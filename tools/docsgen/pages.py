"""Check or regenerate the generated parts of the README and the guides.

One pass per file collects edits from the cheap parts (figures, recorded tables and
outputs, the sources table) and, if asked, from console sessions re-run; ``check``
reports every difference, otherwise the edits are written back.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from docsgen import allowed
from docsgen.figures import (
    RESULTS,
    FigureError,
    Quote,
    Record,
    bench_block,
    fill_inline,
    load_records,
    quotes,
    region_body,
    unsourced,
)
from docsgen.markdown import Fence, MarkerError, Region, fences, regions, replace_lines
from docsgen.session import SHARED, Options, SessionError, run_session, session_names

ROOT = Path(__file__).resolve().parents[2]
Sessions = Literal["all", "suite", "none"]


def pages() -> list[Path]:
    """The README and every guide: the pages whose figures and output must stay true."""
    return [ROOT / "README.md", *sorted((ROOT / "docs" / "guide").glob("*.md"))]


@dataclass
class Outcome:
    """What a pass found: drift (with diffs), errors, sessions skipped, files rewritten."""

    drift: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    written: list[Path] = field(default_factory=list)
    ran: list[str] = field(default_factory=list)
    check: bool = True

    @property
    def ok(self) -> bool:
        """No errors, and in a check no drift (a regeneration has just fixed its drift)."""
        return not self.errors and not (self.check and self.drift)


@dataclass
class _Page:
    path: Path
    lines: list[str]
    fences: list[Fence]
    regions: list[Region]

    @property
    def name(self) -> str:
        """The page as the legacy table and messages name it: relative to the repository."""
        try:
            return str(self.path.resolve().relative_to(ROOT))
        except ValueError:
            return str(self.path)

    @classmethod
    def read(cls, path: Path) -> _Page:
        lines = path.read_text().splitlines()
        return cls(path, lines, fences(path, lines), regions(path, lines))


def process(
    paths: Iterable[Path] | None = None,
    *,
    check: bool,
    sessions: Sessions = "all",
    only: str | None = None,
    results: Path = RESULTS,
    say: Callable[[str], None] | None = None,
) -> Outcome:
    """Check (``check=True``) or regenerate the given pages (default: README and guides).

    ``sessions`` picks which console sessions run: all, those marked ``suite``, or
    none (figures only); ``only`` restricts to one session name.
    """
    outcome = Outcome(check=check)
    records = load_records(results)
    chosen = [_Page.read(p) for p in (paths or pages())]
    quoted: list[Quote] = []
    for path in {p.resolve() for p in pages()} | {pg.path.resolve() for pg in chosen}:
        other = _Page.read(path)
        quoted += quotes(other.path, other.lines, other.fences, other.regions)
    for pg in chosen:
        edits: list[tuple[int, int, list[str]]] = []
        try:
            edits += _figure_edits(pg, records, quoted)
            edits += _session_edits(pg, sessions, only, outcome, say)
            text = fill_inline("\n".join(replace_lines(pg.lines, edits)), records, pg.name)
        except (FigureError, MarkerError, SessionError) as exc:
            outcome.errors.append(str(exc))
            continue
        new = text.splitlines()
        if new != pg.lines:
            changed = [
                f"{pg.name}:{i + 1}"
                for i, (a, b) in enumerate(zip(pg.lines, new, strict=False))
                if a != b
            ]
            if check:
                outcome.drift.append(
                    f"{pg.name}: generated parts differ ({', '.join(changed[:5])})"
                )
            else:
                pg.path.write_text(text + "\n")
                outcome.written.append(pg.path)
        outcome.errors += _problems(pg)
    return outcome


def _figure_edits(
    pg: _Page, records: dict[str, Record], quoted: list[Quote]
) -> list[tuple[int, int, list[str]]]:
    edits = []
    for r in pg.regions:
        edits.append((r.start + 1, r.end, region_body(r, records, quoted)))
    for f in pg.fences:
        if f.marker and "bench" in f.marker:
            edits.append((f.start + 1, f.end, bench_block(f, records)))
    return edits


def _session_edits(
    pg: _Page,
    sessions: Sessions,
    only: str | None,
    outcome: Outcome,
    say: Callable[[str], None] | None,
) -> list[tuple[int, int, list[str]]]:
    edits: list[tuple[int, int, list[str]]] = []
    if sessions == "none":
        return edits
    rel = pg.name
    for name, group in session_names(pg.fences).items():
        opts = Options.merge(group)
        label = f"{rel} session {name!r}"
        if (only and name != only) or (sessions == "suite" and not opts.suite):
            continue
        if opts.realdata and not (SHARED / "data").is_dir():
            outcome.skipped.append(f"{label}: {SHARED / 'data'} is absent")
            continue
        if say:
            say(f"running {label} ({sum(len(f.body) for f in group)} lines)")
        results = run_session(group)
        outcome.ran.append(label)
        for res in results:
            if res.diff:
                outcome.drift.append(f"{res.fence.where}:\n" + "\n".join(res.diff))
            edits.append((res.fence.start + 1, res.fence.end, res.body))
    return edits


def _problems(pg: _Page) -> list[str]:
    """Unsourced figures and hand-written output blocks, beyond the page's legacy count."""
    rel = pg.name
    figures = [
        f"{rel}:{line}: {kind} {found!r} has no source (quote it from a benchmark record)"
        for line, kind, found in unsourced(pg.lines)
        if not allowed.is_allowed(rel, pg.lines[line - 1], found)
    ]
    blocks = [
        f"{f.where}: console block shows output but is not generated (add a console marker)"
        for f in pg.fences
        if f.is_console and f.marker is None and _shows_output(f)
    ]
    out: list[str] = []
    for found, allowance, what in zip(
        (figures, blocks),
        allowed.legacy(rel),
        ("unsourced figures", "hand-written blocks"),
        strict=True,
    ):
        if len(found) > allowance:
            out += found
        elif len(found) < allowance:
            out.append(
                f"{rel}: {len(found)} legacy {what} left, not {allowance}: lower its count in "
                "tools/docsgen/allowed.py"
            )
    return out


def _shows_output(f: Fence) -> bool:
    """A console block with any line that is not a command or a continuation of one."""
    continuing = False
    for line in f.body:
        if continuing or line.startswith("$ "):
            continuing = line.endswith("\\")
            continue
        if line.strip() and not re.fullmatch(r"\s*#.*", line):
            return True
    return False
