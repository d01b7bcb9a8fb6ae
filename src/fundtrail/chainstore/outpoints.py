"""The outputs an input spends, on disk: txid -> tx_id, and (tx_id, n) -> (address id, value).

Why: resolving a batch's inputs with a join over every stored output made each batch
cost more than the last (and held the join in memory). Here a txid is found through a
hash table checked against the txid column (:class:`~fundtrail.chainstore.idmap.IdMap`),
and its outputs through three id-ordered columns: ``first_out`` (row of each tx's first
output), ``out_address`` and ``out_value`` (per output row). A batch touches only the
pages its inputs point at, so the last million transactions cost what the first did,
and it holds them only a window at a time (see ``_gather``), so memory stays flat too.

Like the address map this is a cache of the committed ``txs``/``outputs`` tables: cut
back to them or caught up from them when a writer opens it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from fundtrail.chainstore.bucketorder import bucket_order
from fundtrail.chainstore.budget import FAULT_AROUND, iter_batches, touch_windows
from fundtrail.chainstore.column import AppendColumn
from fundtrail.chainstore.idmap import IdMap
from fundtrail.chainstore.schema import NO_ADDRESS
from fundtrail.chainstore.store import ChainStore
from fundtrail.errors import StorageError


@dataclass(slots=True)
class Spent:
    """What each input spends: tx_id (-1 unresolved), output address id and value."""

    tx_id: np.ndarray
    address_id: np.ndarray
    value: np.ndarray

    @property
    def unresolved(self) -> int:
        return int((self.tx_id < 0).sum())


class OutpointMap:
    def __init__(self, store: ChainStore) -> None:
        self.store = store
        folder = store.index_dir
        self.txids = IdMap(folder, "txids")
        self.first_out = AppendColumn(folder / "first_out.i64", np.int64)
        self.out_address = AppendColumn(folder / "out_address.i64", np.int64)
        self.out_value = AppendColumn(folder / "out_value.i64", np.int64)
        self._sync(store.row_count("txs"), store.row_count("outputs"))

    @property
    def n_txs(self) -> int:
        return len(self.txids)

    @property
    def n_outputs(self) -> int:
        return len(self.out_value)

    def _sync(self, txs: int, outputs: int) -> None:
        """Agree with the committed tables: cut back to them, or rebuild from them when
        the map holds less than they do (a store written before the map existed)."""
        self.truncate(txs, outputs)
        lengths = {self.n_txs, len(self.first_out)}
        if lengths != {txs} or {self.n_outputs, len(self.out_address)} != {outputs}:
            self.truncate(0, 0)
            self._catch_up()

    def _catch_up(self) -> None:
        end = 0
        for b in iter_batches(self.store, "txs", ["tx_id", "txid", "n_outputs"]):
            if b.num_rows and int(b.column(0)[0].as_py()) != self.n_txs:
                raise StorageError(f"{self.store.root}: tx ids are not dense and in order")
            raw = b"".join(bytes.fromhex(h)[::-1] for h in b.column(1).to_pylist())
            counts = b.column(2).to_numpy().astype(np.int64)
            self.txids.add(_fixed32(raw, len(counts)))
            self.first_out.append(end + _starts(counts))
            end += int(counts.sum())
        for b in iter_batches(self.store, "outputs", ["address_id", "value"]):
            self.out_address.append(b.column(0).to_numpy())
            self.out_value.append(b.column(1).to_numpy())
        if self.n_outputs != end:
            raise StorageError(f"{self.store.root}: outputs do not match the txs' n_outputs")
        self.flush()

    def truncate(self, txs: int, outputs: int) -> None:
        self.txids.truncate(txs)
        self.first_out.truncate(txs)
        self.out_address.truncate(outputs)
        self.out_value.truncate(outputs)

    def add_batch(
        self, txids: bytes, n_outputs: np.ndarray, address_id: np.ndarray, value: np.ndarray
    ) -> None:
        """Append one batch's txs (txids: 32 bytes each, internal order) and outputs."""
        counts = np.asarray(n_outputs, dtype=np.int64)
        self.txids.add(_fixed32(txids, len(counts)))
        self.first_out.append(self.n_outputs + _starts(counts))
        self.out_address.append(address_id)
        self.out_value.append(value)

    def resolve(self, prev: bytes, prev_n: np.ndarray, spender: np.ndarray) -> Spent:
        """What each input (prev txid, index; the spending tx_id) spends. Inputs whose tx is
        unknown, later than the spender, or lacks that output stay unresolved (-1)."""
        m = len(prev_n)
        first = self.first_out.view()
        if not m or not len(first):
            none = np.full(m, -1, dtype=np.int64)
            return Spent(none, none.copy(), np.zeros(m, dtype=np.int64))
        tx = self.txids.get(_fixed32(prev, m))
        ok = (tx >= 0) & (tx < np.asarray(spender))
        txs = np.where(ok, tx, 0)
        order = bucket_order(txs, len(first))  # gathers walk the columns front to back
        start = _gather(self.first_out, txs, order)
        end = _gather(self.first_out, np.minimum(txs + 1, len(first) - 1), order)
        end[txs + 1 >= len(first)] = self.n_outputs
        row = start + np.asarray(prev_n, dtype=np.int64)
        ok &= row < end
        rows = np.where(ok, row, 0)
        address_id = np.where(ok, _gather(self.out_address, rows, order), NO_ADDRESS)
        value = np.where(ok, _gather(self.out_value, rows, order), 0)
        return Spent(np.where(ok, tx, -1), address_id, value)

    def flush(self, later: list[Callable[[], None]] | None = None) -> None:
        """Durable before the manifest swap that commits the batch; with ``later``, the
        waits on the disk are appended there, for the committer to run before that swap."""
        if later is None:
            self.txids.flush()
            for c in (self.first_out, self.out_address, self.out_value):
                c.sync()
            return
        later.append(self.txids.deferred_flush())
        later.extend(c.deferred_sync() for c in (self.first_out, self.out_address, self.out_value))


def _gather(col: AppendColumn, rows: np.ndarray, order: np.ndarray) -> np.ndarray:
    """``col[rows]``, reading ``rows[order]`` (near-ascending) window by window and releasing
    the column's pages between windows: an input batch's rows are spread over the whole
    chain's outputs, so one gather used to leave a page per input resident."""
    view = col.view()
    out = np.empty(len(rows), dtype=view.dtype)
    for lo, hi in touch_windows(len(rows), FAULT_AROUND, view.nbytes):
        sel = order[lo:hi]
        out[sel] = view[rows[sel]]
        col.release()
    return out


def _starts(counts: np.ndarray) -> np.ndarray:
    """Offset of each group's first row, given the group sizes."""
    out = np.zeros(len(counts), dtype=np.int64)
    np.cumsum(counts[:-1], out=out[1:])
    return out


def _fixed32(raw: bytes, n: int) -> pa.Array:
    """``n`` 32-byte values as a fixed-stride binary Arrow array (no per-value objects)."""
    if len(raw) != 32 * n:
        raise ValueError("txids are 32 bytes each")
    offsets = pa.py_buffer(np.arange(0, 32 * n + 1, 32, dtype=np.int32).tobytes())
    return pa.Array.from_buffers(pa.binary(), n, [None, offsets, pa.py_buffer(raw)])
