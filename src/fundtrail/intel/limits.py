"""Caps every importer applies to a file it did not write: size, YAML aliases, time.

One place for the limits of hostile input (CSV, JSON, STIX, MISP, TagPack, tags,
complaints; from the command line or a web upload). A file over a limit is refused
with a clear error before anything is stored:

- size: ``FUNDTRAIL_IMPORT_MAX_MB`` (default 256 MiB) per file, checked before reading;
- YAML: at most :data:`MAX_YAML_ALIASES` alias uses per document (a few anchors are
  normal; "billion laughs" packs nest thousands), and :data:`MAX_YAML_NODES` nodes
  after aliases are expanded; composing never expands, so the check costs one walk;
- time: ``FUNDTRAIL_IMPORT_MAX_SECONDS`` (default 900 s) per import, checked as rows
  are read: :func:`time_limit` around a whole import (``formats.read_file`` for every
  intel format, complaints CSV), :func:`tick` in every reader's loop.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

import yaml

from fundtrail.errors import InvalidInputError
from fundtrail.settings import get_settings

MAX_YAML_ALIASES = 100
MAX_YAML_NODES = 5_000_000  # expanded nodes: about a million tags of five fields


def max_bytes() -> int:
    return get_settings().import_max_mb * 1024 * 1024


def check_size(path: Path) -> None:
    """Refuse a file larger than the import limit (folders: every file in them)."""
    files = [path] if path.is_file() else (p for p in path.rglob("*") if p.is_file())
    cap = max_bytes()
    for f in files:
        size = f.stat().st_size
        if size > cap:
            raise InvalidInputError(
                f"{f}: {size} bytes is over the import limit of {cap // (1024 * 1024)} MiB "
                "(FUNDTRAIL_IMPORT_MAX_MB); split the file",
                field="file",
            )


def check_bytes(data: bytes, where: str) -> None:
    cap = max_bytes()
    if len(data) > cap:
        raise InvalidInputError(
            f"{where}: {len(data)} bytes is over the import limit of {cap // (1024 * 1024)} "
            "MiB (FUNDTRAIL_IMPORT_MAX_MB); split the file",
            field="file",
        )


class YamlBombError(yaml.YAMLError):
    """A YAML document whose aliases would expand beyond the limits."""


def check_aliases(node: yaml.Node) -> None:
    """Walk a composed document; refuse too many alias uses or too large an expansion.

    ``expanded`` counts every node as often as aliases make a reader visit it, computed
    bottom-up once per distinct node (a shared node's size is added at each use)."""
    aliases = 0
    sizes: dict[int, int] = {}
    on_path: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(node, False)]
    while stack:
        current, done = stack.pop()
        key = id(current)
        if done:
            on_path.discard(key)
            sizes[key] = min(1 + sum(sizes[id(c)] for c in _children(current)), MAX_YAML_NODES + 1)
            if sizes[key] > MAX_YAML_NODES:
                raise YamlBombError(
                    f"YAML document expands to more than {MAX_YAML_NODES} nodes through "
                    "aliases; refused"
                )
        elif key in on_path:
            raise YamlBombError("recursive YAML alias; refused")
        elif key in sizes:  # reached again: an alias
            aliases += 1
            if aliases > MAX_YAML_ALIASES:
                raise YamlBombError(
                    f"more than {MAX_YAML_ALIASES} YAML aliases in one document; refused"
                )
        else:
            on_path.add(key)
            stack.append((current, True))
            stack.extend((c, False) for c in reversed(_children(current)))


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    return []


def compose(data: bytes | str) -> tuple[yaml.Node | None, yaml.CSafeLoader]:
    """Compose one YAML document (safe tags only) after the size and alias checks; the
    loader constructs values from it. Raises ``yaml.YAMLError`` (incl. YamlBombError).

    A document without a ``*`` has no alias, so nothing in it expands: the walk of
    :func:`check_aliases` (a quarter of importing GraphSense's 524k tags) is skipped and
    the byte limit alone bounds it."""
    raw = data.encode() if isinstance(data, str) else data
    check_bytes(raw, "YAML document")
    loader = yaml.CSafeLoader(raw)
    try:
        node = loader.get_single_node()
        if node is not None and b"*" in raw:  # no '*', no alias: a tree, as big as its bytes
            check_aliases(node)
    except BaseException:
        loader.dispose()
        raise
    return node, loader


def safe_load(data: bytes | str) -> Any:
    """``yaml.safe_load`` with the import limits."""
    node, loader = compose(data)
    try:
        return None if node is None else loader.construct_document(node)
    finally:
        loader.dispose()


class Deadline:
    """An import's time limit; :meth:`check` as rows are read."""

    def __init__(self, seconds: float | None = None) -> None:
        self.seconds = float(seconds if seconds is not None else get_settings().import_max_seconds)
        self.end = time.monotonic() + self.seconds

    def check(self) -> None:
        if time.monotonic() > self.end:
            raise InvalidInputError(
                f"the import ran longer than {self.seconds:.0f} s "
                "(FUNDTRAIL_IMPORT_MAX_SECONDS); split the file",
                field="file",
            )


_CURRENT: ContextVar[Deadline | None] = ContextVar("fundtrail_import_deadline", default=None)


@contextmanager
def time_limit(seconds: float | None = None) -> Iterator[Deadline]:
    """The time limit of one import, for every :func:`tick` inside (nested: the outer one)."""
    outer = _CURRENT.get()
    if outer is not None:
        yield outer
        return
    deadline = Deadline(seconds)
    token = _CURRENT.set(deadline)
    try:
        yield deadline
    finally:
        _CURRENT.reset(token)


def tick() -> None:
    """One row or object read: refuse the import once past its time limit."""
    deadline = _CURRENT.get()
    if deadline is not None:
        deadline.check()
