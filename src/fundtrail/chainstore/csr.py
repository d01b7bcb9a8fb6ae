"""Compressed sparse row (CSR) arrays built from the chain store's Parquet, cached on disk.

Graph work (clustering, tracing) walks "all inputs of tx t" or "all transfers out of
address a" millions of times; numpy arrays in CSR form make each of those a slice.

Rows are dense integer ids (tx_id, address_id). ``indptr[r]:indptr[r + 1]`` is row r's
slice of ``indices`` and of every ``data`` column. Caches live in
``<chain>/cache/csr/<name>.npz`` with the list of Parquet parts they were built from:
parts are immutable and appended, so a cache whose parts are a prefix of today's is
*extended* with the new parts only; anything else (a reorg rewrote a part) rebuilds.
"""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from numpy.typing import NDArray

from fundtrail.chainstore.store import ChainStore
from fundtrail.errors import StorageError

IntArray = NDArray[np.int64]


@dataclass(frozen=True)
class CSR:
    """Rows 0..n_rows-1, each a slice of ``indices`` (and of each ``data`` column)."""

    indptr: IntArray
    indices: IntArray
    data: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def n_rows(self) -> int:
        return int(self.indptr.shape[0] - 1)

    @property
    def n_entries(self) -> int:
        return int(self.indices.shape[0])

    def degree(self) -> IntArray:
        return np.diff(self.indptr)

    def row(self, r: int) -> IntArray:
        return self.indices[self.indptr[r] : self.indptr[r + 1]]

    def row_data(self, name: str, r: int) -> np.ndarray:
        return self.data[name][self.indptr[r] : self.indptr[r + 1]]

    def row_of_entry(self) -> IntArray:
        """The row each entry of ``indices`` belongs to."""
        return np.repeat(np.arange(self.n_rows, dtype=np.int64), self.degree())

    def tail(self, first_row: int) -> CSR:
        """Rows ``first_row..`` only, renumbered from 0 (the new part of a chain)."""
        first_row = min(max(first_row, 0), self.n_rows)
        lo = int(self.indptr[first_row])
        return CSR(
            self.indptr[first_row:] - lo,
            self.indices[lo:],
            {k: v[lo:] for k, v in self.data.items()},
        )


def build_csr(rows: IntArray, cols: IntArray, n_rows: int, **data: np.ndarray) -> CSR:
    """CSR from an edge list; entries keep their input order within a row (stable)."""
    rows = np.asarray(rows, dtype=np.int64)
    cols = np.asarray(cols, dtype=np.int64)
    if rows.size and (rows.min() < 0 or rows.max() >= n_rows):
        raise ValueError(f"row id outside 0..{n_rows - 1}")
    if rows.size > 1 and not bool(np.all(rows[1:] >= rows[:-1])):
        order = np.argsort(rows, kind="stable")
        rows, cols = rows[order], cols[order]
        data = {k: np.asarray(v)[order] for k, v in data.items()}
    counts = np.bincount(rows, minlength=n_rows) if rows.size else np.zeros(n_rows, np.int64)
    indptr = np.zeros(n_rows + 1, dtype=np.int64)
    np.cumsum(counts, out=indptr[1:])
    return CSR(indptr, cols, {k: np.asarray(v) for k, v in data.items()})


def concat_rows(head: CSR, tail: CSR, n_rows: int) -> CSR:
    """Rows of ``head`` then the later rows of ``tail``.

    ``tail`` spans all ``n_rows`` rows but has no entries in ``head``'s rows.
    """
    h = head.n_rows
    indptr = np.concatenate([head.indptr, tail.indptr[h + 1 : n_rows + 1] + head.indptr[-1]])
    return CSR(
        indptr,
        np.concatenate([head.indices, tail.indices]),
        {k: np.concatenate([v, tail.data[k]]) for k, v in head.data.items()},
    )


# ---- cache --------------------------------------------------------------------------------
def _cache_dir(store: ChainStore) -> Path:
    path = store.root / "cache" / "csr"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _save(path: Path, csr: CSR, parts: list[str]) -> None:
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp.npz")
    arrays: dict[str, np.ndarray] = {"indptr": csr.indptr, "indices": csr.indices}
    arrays.update({f"data__{k}": v for k, v in csr.data.items()})
    arrays["parts"] = np.frombuffer(json.dumps(parts).encode(), dtype=np.uint8)
    np.savez(tmp, **arrays)  # type: ignore[arg-type]
    os.replace(tmp, path)


def _load(path: Path) -> tuple[CSR, list[str]] | None:
    if not path.exists():
        return None
    try:
        with np.load(path) as z:
            parts = json.loads(bytes(z["parts"]).decode())
            data = {k[6:]: z[k] for k in z.files if k.startswith("data__")}
            return CSR(z["indptr"], z["indices"], data), list(parts)
    except (OSError, ValueError, KeyError):
        path.unlink(missing_ok=True)  # a damaged cache is rebuilt, never trusted
        return None


def _read_parts(files: list[Path], columns: list[str]) -> pa.Table:
    try:
        tables = [pq.read_table(f, columns=columns) for f in files]
    except (OSError, pa.ArrowInvalid) as exc:
        raise StorageError(f"cannot read chain-store part: {exc}") from exc
    return (
        pa.concat_tables(tables)
        if tables
        else pa.table({c: pa.array([], pa.int64()) for c in columns})
    )


def _tx_keyed(
    store: ChainStore,
    table: str,
    col: str,
    data_cols: list[str],
    n_rows_fn: Callable[[ChainStore], int],
) -> CSR:
    """CSR of ``table`` keyed by tx_id, cached and extended as parts are appended."""
    files = store.parts(table)
    names = [f.name for f in files]
    key = hashlib.sha1(f"{table}:{col}:{','.join(data_cols)}".encode()).hexdigest()[:10]
    path = _cache_dir(store) / f"{table}-{key}.npz"
    n_rows = n_rows_fn(store)
    cached = _load(path)
    if cached is not None:
        csr, old = cached
        if old == names and csr.n_rows == n_rows:
            return csr
        if names[: len(old)] == old and csr.n_rows <= n_rows:
            new = _read_parts(files[len(old) :], ["tx_id", col, *data_cols])
            tx = new.column("tx_id").to_numpy()
            if tx.size == 0 or tx.min() >= csr.n_rows:
                tail = build_csr(
                    tx,
                    new.column(col).to_numpy(),
                    n_rows,
                    **{c: new.column(c).to_numpy() for c in data_cols},
                )
                csr = concat_rows(csr, tail, n_rows)
                _save(path, csr, names)
                return csr
    t = _read_parts(files, ["tx_id", col, *data_cols])
    csr = build_csr(
        t.column("tx_id").to_numpy(),
        t.column(col).to_numpy(),
        n_rows,
        **{c: t.column(c).to_numpy() for c in data_cols},
    )
    _save(path, csr, names)
    return csr


def n_txs(store: ChainStore) -> int:
    """Number of tx ids (max tx_id + 1) of a UTXO chain."""
    con = store.connect()
    try:
        row = con.sql("SELECT max(tx_id) FROM txs").fetchall()[0][0]
    finally:
        con.close()
    return 0 if row is None else int(row) + 1


def n_addresses(store: ChainStore) -> int:
    """Number of address ids (max address_id + 1)."""
    con = store.connect()
    try:
        row = con.sql("SELECT max(address_id) FROM addresses").fetchall()[0][0]
    finally:
        con.close()
    return 0 if row is None else int(row) + 1


def tx_inputs(store: ChainStore) -> CSR:
    """UTXO: tx_id -> input address ids (NO_ADDRESS = -1 kept); data: value."""
    return _tx_keyed(store, "inputs", "address_id", ["value"], n_txs)


def tx_outputs(store: ChainStore) -> CSR:
    """UTXO: tx_id -> output address ids (NO_ADDRESS = -1 kept); data: value, n."""
    return _tx_keyed(store, "outputs", "address_id", ["value", "n"], n_txs)


def tx_spends(store: ChainStore) -> CSR:
    """UTXO: spent tx_id -> the txs spending its outputs; data: spent_n, value."""
    t = store.read_table("inputs", ["spent_tx_id", "tx_id", "spent_n", "value"])
    spent = t.column("spent_tx_id").to_numpy()
    keep = spent >= 0  # coinbase inputs spend nothing
    return build_csr(
        spent[keep],
        t.column("tx_id").to_numpy()[keep],
        n_txs(store),
        spent_n=t.column("spent_n").to_numpy()[keep],
        value=t.column("value").to_numpy()[keep],
    )


def transfers_out(store: ChainStore) -> CSR:
    """Account chains: from address -> to addresses; data: row (transfer row number), block.

    Values stay exact in the ``transfers`` table (``row`` indexes it); CSR holds no amounts
    that could lose digits.
    """
    t = store.read_table("transfers", ["from_id", "to_id", "block"])
    src = t.column("from_id").to_numpy()
    dst = t.column("to_id").to_numpy()
    keep = (src >= 0) & (dst >= 0)
    rows = np.arange(t.num_rows, dtype=np.int64)
    return build_csr(
        src[keep],
        dst[keep],
        n_addresses(store),
        row=rows[keep],
        block=t.column("block").to_numpy()[keep],
    )
