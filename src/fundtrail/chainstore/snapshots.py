"""One DuckDB connection per chain-store snapshot, kept across a server's requests.

Why: every API call and web page about an address, a transaction or a trace opened a
fresh in-memory DuckDB database (20-30 ms, more than the query it served) and
bound a view over every table's parts. A server reads the same snapshot again and again
between two ingests, so it keeps that connection and hands each read a cursor of it (a
cursor is a new connection to the same database: 25 µs; its temporary tables and
registered Arrow tables stay its own).

A snapshot is named by the store's root and the exact list of part files of every table
(part files are immutable and uniquely named), so a new commit, a rollback or a
workspace deleted and ingested again is a new snapshot: a read never sees views of
another state. The few most recent snapshots are kept; an older one is dropped, not
closed, so that a cursor still reading it finishes (DuckDB frees the database with its
last cursor).
"""

from __future__ import annotations

import contextlib
import contextvars
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator

import duckdb

KEPT = 16  # snapshots: a few chains, each with the state before and after a commit


class SnapshotConnections:
    """A small LRU of connections by snapshot key; thread-safe."""

    def __init__(self, kept: int = KEPT) -> None:
        self.kept = kept
        self._cons: OrderedDict[Hashable, duckdb.DuckDBPyConnection] = OrderedDict()
        self._lock = threading.Lock()

    def cursor(
        self, key: Hashable, build: Callable[[], duckdb.DuckDBPyConnection]
    ) -> duckdb.DuckDBPyConnection:
        """A cursor of the snapshot's connection, built by ``build`` on first use."""
        with self._lock:
            con = self._cons.get(key)
            if con is None:
                con = self._cons[key] = build()
                while len(self._cons) > self.kept:
                    self._cons.popitem(last=False)  # dropped: its cursors keep it alive
            else:
                self._cons.move_to_end(key)
            return con.cursor()

    def __len__(self) -> int:
        return len(self._cons)


_KEPT: contextvars.ContextVar[SnapshotConnections | None] = contextvars.ContextVar(
    "chainstore_kept_snapshots", default=None
)


@contextlib.contextmanager
def reading_from(cache: SnapshotConnections) -> Iterator[None]:
    """Chain-store reads inside reuse ``cache``'s connections (the server wraps every
    request in it; a one-shot CLI command has nothing to reuse and does not)."""
    token = _KEPT.set(cache)
    try:
        yield
    finally:
        _KEPT.reset(token)


def kept() -> SnapshotConnections | None:
    return _KEPT.get()
