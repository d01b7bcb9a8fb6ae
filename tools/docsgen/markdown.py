"""Finding the generated parts of a Markdown file: fenced blocks, their markers, regions.

A marker is an HTML comment (invisible on GitHub) whose body, after its keyword, is
YAML: ``<!-- console {session: cases, suite: true} -->`` or a multi-line comment with a
``setup: |`` script. Keeping the options in the page beside the block means a reader
of the raw Markdown sees how the block is made.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

FENCE = re.compile(r"^(`{3,})(.*)$")
FIG = re.compile(r"<!--fig ([\w.-]+):([\w.-]+)-->(.*?)<!--/fig-->")
REGION_OPEN = re.compile(r"^<!-- (figures|figures-sources)( [\w.:-]+)? -->\s*$")
REGION_CLOSE = re.compile(r"^<!-- /(figures|figures-sources) -->\s*$")


class MarkerError(ValueError):
    """A marker that cannot be read: named with its file and line."""


@dataclass
class Fence:
    """A fenced block (lines ``start`` and ``end`` are the fences themselves)."""

    path: Path
    start: int
    end: int
    info: str
    body: list[str]
    marker: dict[str, Any] | None = None

    @property
    def where(self) -> str:
        return f"{_rel(self.path)}:{self.start + 1}"

    @property
    def is_console(self) -> bool:
        """A terminal session: ``console`` blocks, and bare fences that start with ``$ ``."""
        return self.info == "console" or (
            not self.info and bool(self.body) and self.body[0].startswith("$ ")
        )


@dataclass
class Region:
    """Lines between ``<!-- figures NAME:KEY -->`` and ``<!-- /figures -->``."""

    path: Path
    kind: str
    ref: str
    start: int
    end: int
    body: list[str] = field(default_factory=list)

    @property
    def where(self) -> str:
        return f"{_rel(self.path)}:{self.start + 1}"


def _rel(path: Path) -> Path:
    try:
        return path.resolve().relative_to(Path.cwd())
    except ValueError:
        return path


def _marker_before(path: Path, lines: list[str], fence_line: int) -> dict[str, Any] | None:
    """Options of the ``<!-- console ... -->`` comment ending just above a fence."""
    end = fence_line - 1
    if end < 0 or not lines[end].rstrip().endswith("-->"):
        return None
    begin = end
    while begin >= 0 and "<!--" not in lines[begin]:
        begin -= 1
    if begin < 0:
        return None
    text = "\n".join(lines[begin : end + 1]).strip()
    m = re.fullmatch(r"<!--\s*console\b(.*?)-->", text, re.S)
    if not m:
        return None
    try:
        options = yaml.safe_load(m.group(1)) if m.group(1).strip() else {}
    except yaml.YAMLError as exc:
        raise MarkerError(f"{path}:{begin + 1}: console marker is not YAML: {exc}") from exc
    if not isinstance(options, dict):
        raise MarkerError(f"{path}:{begin + 1}: console marker must be a YAML mapping")
    return options


def fences(path: Path, lines: list[str]) -> list[Fence]:
    """Every fenced block of the file, with the console marker above it if any."""
    out: list[Fence] = []
    i = 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        ticks, info = m.group(1), m.group(2).strip()
        j = i + 1
        while j < len(lines) and lines[j].rstrip() != ticks:
            j += 1
        if j == len(lines):
            raise MarkerError(f"{path}:{i + 1}: fence never closed")
        out.append(Fence(path, i, j, info, lines[i + 1 : j], _marker_before(path, lines, i)))
        i = j + 1
    return out


def regions(path: Path, lines: list[str]) -> list[Region]:
    """Every ``figures`` / ``figures-sources`` region of the file."""
    out: list[Region] = []
    open_: Region | None = None
    for i, line in enumerate(lines):
        if m := REGION_OPEN.match(line):
            if open_:
                raise MarkerError(f"{path}:{i + 1}: region opened inside {open_.where}")
            open_ = Region(path, m.group(1), (m.group(2) or "").strip(), i, -1)
        elif m := REGION_CLOSE.match(line):
            if not open_ or open_.kind != m.group(1):
                raise MarkerError(f"{path}:{i + 1}: closing a region that is not open")
            open_.end = i
            open_.body = lines[open_.start + 1 : i]
            out.append(open_)
            open_ = None
    if open_:
        raise MarkerError(f"{open_.where}: region never closed")
    return out


def prose(lines: list[str]) -> list[tuple[int, str]]:
    """(line number, text) of every line outside fences and generated regions."""
    out: list[tuple[int, str]] = []
    inside: str | None = None
    in_region = False
    for i, line in enumerate(lines):
        if inside:
            if line.rstrip() == inside:
                inside = None
            continue
        if m := FENCE.match(line):
            inside = m.group(1)
            continue
        if REGION_OPEN.match(line):
            in_region = True
            continue
        if REGION_CLOSE.match(line):
            in_region = False
            continue
        if not in_region:
            out.append((i, line))
    return out


def replace_lines(lines: list[str], edits: list[tuple[int, int, list[str]]]) -> list[str]:
    """Apply ``(start, end, new)`` edits (``lines[start:end] = new``), which must not overlap."""
    out = list(lines)
    for start, end, new in sorted(edits, key=lambda e: e[0], reverse=True):
        out[start:end] = new
    return out
