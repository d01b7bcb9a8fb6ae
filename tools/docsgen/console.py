"""Console blocks: what a person would type, and what it printed when it was last run.

A block's body is ``$ command`` lines (a trailing ``\\`` continues a command) each
followed by its output. Comparing a shown output with a fresh run must ignore what
legitimately differs between two runs and nothing else:

- ``vary`` patterns (durations by default) are replaced by one placeholder;
- ``ids`` patterns (a new UUID, key or case number per run) are numbered in order of
  first appearance in the session, so the same id must reappear where the page shows
  it again, and a later command that quotes an id the page showed is run with the id
  this run produced;
- runs of spaces and of box-drawing rules collapse, so a table whose column grew by
  one character still matches;
- a line that is exactly ``...`` stands for any number of lines the page leaves out.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

DEFAULT_VARY = (
    r"\d+(?:\.\d+)?\s?(?:ms|s)\b",  # "0.6 s", "in 2.0s", "84.8 s"
    r"\b\d+:\d{2}:\d{2}\b",  # a progress bar's elapsed and remaining time
)
ELLIPSIS = "..."
_RULES = re.compile(r"[─━═]+")
_SPACES = re.compile(r"[ \t]+")


@dataclass
class Step:
    """One command and the output a page shows under it."""

    command: list[str]
    output: list[str]

    @property
    def script(self) -> str:
        return "\n".join(line for line in self.command)


def parse_steps(body: Iterable[str]) -> list[Step]:
    """Split a console block into steps; text before the first ``$`` is an error."""
    steps: list[Step] = []
    continuing = False
    for line in body:
        if continuing:
            steps[-1].command.append(line)
            continuing = line.endswith("\\")
        elif line.startswith("$ ") or line == "$":
            steps.append(Step([line[2:]], []))
            continuing = line.endswith("\\")
        elif not steps:
            raise ValueError(f"console block starts with output, not a '$ ' command: {line!r}")
        else:
            steps[-1].output.append(line)
    return steps


def format_steps(steps: Iterable[Step]) -> list[str]:
    """The block body again: ``$ `` before each command's first line."""
    out: list[str] = []
    for step in steps:
        out.append("$ " + step.command[0])
        out += step.command[1:]
        out += step.output
    return out


@dataclass
class Masks:
    """The session's view of what may differ between runs (see the module docstring)."""

    vary: list[re.Pattern[str]]
    ids: dict[str, re.Pattern[str]]
    _seen: dict[str, dict[str, str]] = field(default_factory=dict)

    @classmethod
    def from_options(cls, vary: Iterable[str] = (), ids: dict[str, str] | None = None) -> Masks:
        return cls(
            [re.compile(p) for p in (*DEFAULT_VARY, *vary)],
            {name: re.compile(p) for name, p in (ids or {}).items()},
        )

    def normalise(self, line: str, side: str) -> str:
        """``line`` with its ids numbered (per ``side``: 'page' or 'run') and noise folded."""
        seen = self._seen.setdefault(side, {})
        for name, pattern in self.ids.items():

            def number(m: re.Match[str], name: str = name) -> str:
                key = f"{name}:{m.group(0)}"
                if key not in seen:
                    seen[key] = f"<{name}{sum(k.startswith(name + ':') for k in seen) + 1}>"
                return seen[key]

            line = pattern.sub(number, line)
        for pattern in self.vary:
            line = pattern.sub("<~>", line)
        line = _RULES.sub("─", line)
        return _SPACES.sub(" ", line).strip()

    def translate(self, text: str) -> str:
        """A command as the page shows it, with ids the page showed replaced by this run's."""
        page, run = self._seen.get("page", {}), self._seen.get("run", {})
        by_placeholder = {v: k.split(":", 1)[1] for k, v in run.items()}
        for key, placeholder in sorted(page.items(), key=lambda kv: -len(kv[0])):
            value = key.split(":", 1)[1]
            if placeholder in by_placeholder:
                text = text.replace(value, by_placeholder[placeholder])
        return text


def match(pattern: list[str], actual: list[str]) -> list[int] | None:
    """Where each non-``...`` pattern line sits in ``actual``, or None when they differ.

    Both sides are normalised already. A ``...`` line matches any run of lines (none
    included); without one, the two must be equal line for line.
    """
    if ELLIPSIS not in pattern:
        return list(range(len(actual))) if pattern == actual else None
    segments: list[list[str]] = [[]]
    for line in pattern:
        if line == ELLIPSIS:
            segments.append([])
        else:
            segments[-1].append(line)

    def fits(seg: list[str], at: int) -> bool:
        return at >= 0 and at + len(seg) <= len(actual) and actual[at : at + len(seg)] == seg

    first, *middle, last = segments
    if not fits(first, 0):
        return None
    placed = list(range(len(first)))
    pos = len(first)
    for seg in middle:
        while pos + len(seg) <= len(actual) and not fits(seg, pos):
            pos += 1
        if not fits(seg, pos):
            return None
        placed += range(pos, pos + len(seg))
        pos += len(seg)
    tail = len(actual) - len(last)
    if tail < pos or not fits(last, tail):
        return None
    return placed + list(range(tail, len(actual)))


def fill(pattern: list[str], placed: list[int], actual: list[str]) -> list[str]:
    """The page's lines with every non-``...`` line replaced by the run's matching line."""
    out: list[str] = []
    it = iter(placed)
    for line in pattern:
        out.append(line if line == ELLIPSIS else actual[next(it)])
    return out
