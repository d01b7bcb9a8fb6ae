"""Compact arrays of a UTXO chain for traversal (built from Parquet, cached per store version).

Every tx is a *position* ``0..T-1`` in chain order (sorted by ``tx_id``), every output an
index ``0..O-1`` sorted by (tx, n). Two CSR layouts join them:

    out_ptr[t]..out_ptr[t+1]   the outputs tx t created        (forward: where money goes)
    in_ptr[t]..in_ptr[t+1]     the inputs of tx t; in_src = the output index each spends
    out_spent[o]               position of the tx that spent output o, or -1 (unspent)
    out_fresh[o]               o is the first output ever paid to its address

A spending tx always comes after the tx that funded it, so walking positions in increasing
order (forward) or decreasing order (backward) sees every input's taint before it is used.
The arrays are cached in memory (keyed by the store's manifest version) and on disk as
memory-mapped ``.npy`` files next to the store (``graphfiles``), so a second trace on the
same data starts at once and a process holds only the pages it reads.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

from fundtrail.analysis.trace import graphfiles
from fundtrail.chainstore import duck
from fundtrail.chainstore.store import ChainStore
from fundtrail.errors import StorageError

_CACHE: dict[tuple[str, int], UtxoGraph] = {}
_LOCK = threading.Lock()
ARRAYS = [
    "tx_ids",
    "tx_time",
    "out_ptr",
    "out_n",
    "out_addr",
    "out_val",
    "out_spent",
    "out_tx",
    "out_fresh",
    "in_ptr",
    "in_src",
    "in_addr",
    "in_val",
    "tx_in_total",
    "coinjoin",
    "addr_cluster",
]


@dataclass
class UtxoGraph:
    """The traversal arrays of one UTXO chain store at one manifest version."""

    tx_ids: np.ndarray  # tx_id of each position (sorted)
    tx_time: np.ndarray
    out_ptr: np.ndarray
    out_n: np.ndarray
    out_addr: np.ndarray
    out_val: np.ndarray
    out_spent: np.ndarray
    out_tx: np.ndarray
    out_fresh: np.ndarray  # bool per output: the first output ever paid to its address
    in_ptr: np.ndarray
    in_src: np.ndarray  # output index spent by each input, -1 if unknown (coinbase)
    in_addr: np.ndarray
    in_val: np.ndarray
    tx_in_total: np.ndarray
    coinjoin: np.ndarray  # bool per position
    addr_cluster: np.ndarray  # cluster id per address id
    store: ChainStore | None = None
    _con: duckdb.DuckDBPyConnection | None = None

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A DuckDB cursor over txs and addresses (one connection per graph, reused)."""
        if self._con is None:
            assert self.store is not None
            self._con = open_tables(self.store, ("txs", "addresses"))
        return self._con.cursor()

    def kernel_arrays(self) -> tuple[np.ndarray, ...]:
        """The chain arrays ``walk.walk_kernel`` takes, in its order."""
        return (self.out_ptr, self.out_addr, self.out_val, self.out_spent, self.out_tx,
                self.in_ptr, self.in_src, self.in_val, self.tx_in_total,
                self.tx_time, self.coinjoin, self.out_fresh)  # fmt: skip

    @property
    def n_txs(self) -> int:
        return len(self.tx_ids)

    def position(self, tx_ids: np.ndarray) -> np.ndarray:
        """Positions of stored tx_ids (dense ids map to themselves)."""
        return np.searchsorted(self.tx_ids, tx_ids)

    def output_index(self, pos: int, n: int) -> int:
        """Index of output ``n`` of the tx at ``pos``, or -1."""
        lo, hi = int(self.out_ptr[pos]), int(self.out_ptr[pos + 1])
        if lo + n < hi and int(self.out_n[lo + n]) == n:
            return lo + n
        found = np.flatnonzero(self.out_n[lo:hi] == n)
        return lo + int(found[0]) if len(found) else -1


def utxo_graph(store: ChainStore) -> UtxoGraph:
    """The arrays for ``store`` at its current version: from memory, or mapped from their
    files (built first, in tx ranges, when missing: see ``graphfiles``)."""
    store.refresh()
    key = (str(store.root), store.version)
    with _LOCK:
        cached = _CACHE.get(key)
        if cached is not None:
            return cached
        graph = _load(graphfiles.folder_for(store))
        if graph is None:
            graph = build_utxo_graph(store)
        graph.store = store
        _CACHE.clear()
        _CACHE[key] = graph
        return graph


def _load(folder: Path) -> UtxoGraph | None:
    arrays = graphfiles.load(folder, ARRAYS)
    return None if arrays is None else UtxoGraph(**arrays)  # type: ignore[arg-type]


def build_utxo_graph(store: ChainStore) -> UtxoGraph:
    """Build the traversal arrays from the store's Parquet tables, one tx range at a time."""
    graph = _load(graphfiles.build(store, ARRAYS))
    if graph is None:
        raise StorageError(f"the trace arrays of {store.root} could not be read back")
    return graph


def open_tables(store: ChainStore, tables: tuple[str, ...]) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection with views over just ``tables`` (cheaper than every view)."""
    con = duck.connect()
    for table in tables:
        files = store.parts(table)
        if files:
            paths = ", ".join(f"'{p.as_posix()}'" for p in files)
            con.execute(f"CREATE VIEW {table} AS SELECT * FROM read_parquet([{paths}])")
        else:
            con.register(table, pa.Table.from_batches([], schema=store.schemas[table]))
    return con
