"""Compact arrays of a UTXO chain for traversal (built from Parquet, cached per store version).

Every tx is a *position* ``0..T-1`` in chain order (sorted by ``tx_id``), every output an
index ``0..O-1`` sorted by (tx, n). Two CSR layouts join them:

    out_ptr[t]..out_ptr[t+1]   the outputs tx t created        (forward: where money goes)
    in_ptr[t]..in_ptr[t+1]     the inputs of tx t; in_src = the output index each spends
    out_spent[o]               position of the tx that spent output o, or -1 (unspent)

A spending tx always comes after the tx that funded it, so walking positions in increasing
order (forward) or decreasing order (backward) sees every input's taint before it is used.
The arrays are cached in memory (keyed by the store's manifest version) and on disk as a
``.npz`` next to the store, so a second trace on the same data starts at once.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

from fundtrail.analysis.trace.stops import equal_output_coinjoins, read_clusters, read_coinjoins
from fundtrail.chainstore.budget import duckdb_limits
from fundtrail.chainstore.store import ChainStore

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
                self.tx_time, self.coinjoin)  # fmt: skip

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
    """The arrays for ``store`` at its current version: from memory, disk cache, or Parquet."""
    store.refresh()
    key = (str(store.root), store.version)
    with _LOCK:
        cached = _CACHE.get(key)
        if cached is not None:
            return cached
        path = store.root / "cache" / f"trace-utxo-v{store.version}.npz"
        graph = _load(path) if path.exists() else None
        if graph is None:
            graph = build_utxo_graph(store)
            _save(path, graph)
        graph.store = store
        _CACHE.clear()
        _CACHE[key] = graph
        return graph


def _load(path: Path) -> UtxoGraph | None:
    try:
        with np.load(path) as data:
            return UtxoGraph(**{k: data[k] for k in ARRAYS})
    except (OSError, ValueError, KeyError):
        return None  # a torn or old cache file is simply rebuilt


def _save(path: Path, graph: UtxoGraph) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    for old in path.parent.glob("trace-utxo-v*.npz"):
        old.unlink(missing_ok=True)
    tmp = path.with_suffix(".tmp.npz")
    np.savez(tmp, **{k: getattr(graph, k) for k in ARRAYS})
    tmp.replace(path)


def open_tables(store: ChainStore, tables: tuple[str, ...]) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection with views over just ``tables`` (cheaper than every view)."""
    con = duckdb.connect()
    for table in tables:
        files = store.parts(table)
        if files:
            paths = ", ".join(f"'{p.as_posix()}'" for p in files)
            con.execute(f"CREATE VIEW {table} AS SELECT * FROM read_parquet([{paths}])")
        else:
            con.register(table, pa.Table.from_batches([], schema=store.schemas[table]))
    return con


def _col(table: object, name: str, dtype: type) -> np.ndarray:
    return np.asarray(table.column(name).to_numpy(zero_copy_only=False), dtype=dtype)  # type: ignore[attr-defined]


def build_utxo_graph(store: ChainStore) -> UtxoGraph:
    """Build the traversal arrays from the store's Parquet tables (vectorised numpy)."""
    con = open_tables(store, ("txs", "outputs", "inputs", "addresses"))
    # the whole-chain sorts under the budget, spilling (DuckDB's default is 80% of RAM)
    duckdb_limits(con, spill=store.root / "cache" / "spill")
    try:
        txs = con.sql("SELECT tx_id, time FROM txs ORDER BY tx_id").to_arrow_table()
        outs = con.sql(
            "SELECT tx_id, n, address_id, value FROM outputs ORDER BY tx_id, n"
        ).to_arrow_table()
        ins = con.sql(
            "SELECT tx_id, spent_tx_id, spent_n, address_id, value FROM inputs ORDER BY tx_id, n"
        ).to_arrow_table()
        n_addr = con.execute("SELECT coalesce(max(address_id), -1) + 1 FROM addresses").fetchall()[
            0
        ]
    finally:
        con.close()
    tx_ids = _col(txs, "tx_id", np.int64)
    n_tx = len(tx_ids)
    out_tx = np.searchsorted(tx_ids, _col(outs, "tx_id", np.int64))
    out_ptr = np.zeros(n_tx + 1, dtype=np.int64)
    np.cumsum(np.bincount(out_tx, minlength=n_tx), out=out_ptr[1:])
    out_n = _col(outs, "n", np.int64)
    in_tx = np.searchsorted(tx_ids, _col(ins, "tx_id", np.int64))
    in_ptr = np.zeros(n_tx + 1, dtype=np.int64)
    np.cumsum(np.bincount(in_tx, minlength=n_tx), out=in_ptr[1:])
    in_val = _col(ins, "value", np.int64)
    in_src = _resolve_spent(
        tx_ids, out_ptr, out_n, _col(ins, "spent_tx_id", np.int64), _col(ins, "spent_n", np.int64)
    )
    out_spent = np.full(len(out_n), -1, dtype=np.int64)
    known = in_src >= 0
    out_spent[in_src[known]] = in_tx[known]
    n_in = np.diff(in_ptr)
    tx_in_total = np.zeros(n_tx, dtype=np.int64)
    np.add.at(tx_in_total, in_tx, in_val)
    out_val = _col(outs, "value", np.int64)
    marked = read_coinjoins(store)
    if marked is None:
        coinjoin = equal_output_coinjoins(out_ptr, out_val, n_in)
    else:
        coinjoin = np.zeros(n_tx, dtype=bool)
        pos = np.searchsorted(tx_ids, marked)
        ok = (pos < n_tx) & (tx_ids[np.minimum(pos, n_tx - 1)] == marked) if n_tx else pos < 0
        coinjoin[pos[ok]] = True
    n_addresses = max(int((n_addr or (0,))[0] or 0), 1)
    addr_cluster = read_clusters(store, n_addresses)
    return UtxoGraph(
        tx_ids=tx_ids,
        tx_time=_col(txs, "time", np.int64),
        out_ptr=out_ptr,
        out_n=out_n,
        out_addr=_col(outs, "address_id", np.int64),
        out_val=out_val,
        out_spent=out_spent,
        out_tx=out_tx.astype(np.int64),
        in_ptr=in_ptr,
        in_src=in_src,
        in_addr=_col(ins, "address_id", np.int64),
        in_val=in_val,
        tx_in_total=tx_in_total,
        coinjoin=coinjoin,
        addr_cluster=addr_cluster,
    )


def _resolve_spent(
    tx_ids: np.ndarray,
    out_ptr: np.ndarray,
    out_n: np.ndarray,
    spent_tx: np.ndarray,
    spent_n: np.ndarray,
) -> np.ndarray:
    """Output index of each input's spent (tx_id, n); -1 for coinbase or unknown outputs."""
    n_tx = len(tx_ids)
    src = np.full(len(spent_tx), -1, dtype=np.int64)
    if n_tx == 0 or len(spent_tx) == 0:
        return src
    pos = np.searchsorted(tx_ids, spent_tx)
    ok = (spent_tx >= 0) & (pos < n_tx)
    ok[ok] &= tx_ids[pos[ok]] == spent_tx[ok]
    cand = out_ptr[pos[ok]] + spent_n[ok]
    inside = cand < out_ptr[pos[ok] + 1]
    good = inside.copy()
    good[inside] = out_n[cand[inside]] == spent_n[ok][inside]
    idx = np.flatnonzero(ok)
    src[idx[good]] = cand[good]
    return src
