"""A UTXO chain in tx ranges: each range's outputs and inputs grouped by tx, in bounded memory.

Why: whole-chain passes (the attribution's sweep and hot-wallet rules) need, per tx, the
addresses and values of its outputs and the addresses of its inputs. Holding those for
every tx is several GB at 10M txs; a range of ``chunk_rows(tx_bytes, share)`` txs is a
few MB, read from the row groups that hold it (:class:`budget.RangeReader`). Passes that
need the whole chain read it again, range by range: reading is cheaper than RAM.

Within a :class:`TxChunk` txs are local rows ``tx_id - lo``; ``out_ptr[r]:out_ptr[r+1]``
are tx ``lo + r``'s outputs in output order (``n``), likewise its inputs.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from fundtrail.analysis.trace.stops import equal_output_coinjoins
from fundtrail.chainstore.budget import RangeReader, chunk_rows
from fundtrail.chainstore.store import ChainStore

TX_BYTES = 1024  # working memory per tx of a range: its rows and the passes' temporaries
SHARE = 0.25


@dataclass(frozen=True, slots=True)
class TxChunk:
    """The txs ``lo..hi-1``: outputs and inputs grouped by tx (local rows ``tx_id - lo``)."""

    lo: int
    hi: int
    out_ptr: np.ndarray
    out_addr: np.ndarray  # address id of each output, -1: none
    out_val: np.ndarray
    in_ptr: np.ndarray
    in_addr: np.ndarray  # address id of each input's spent output, -1: none
    coinjoin: np.ndarray  # bool per local row

    @property
    def tx_of_out(self) -> np.ndarray:
        return np.repeat(np.arange(self.hi - self.lo, dtype=np.int64), np.diff(self.out_ptr))

    @property
    def tx_of_in(self) -> np.ndarray:
        return np.repeat(np.arange(self.hi - self.lo, dtype=np.int64), np.diff(self.in_ptr))


def tx_ranges(end: int) -> list[tuple[int, int]]:
    """``[lo, hi)`` ranges covering tx ids ``0..end-1``, each within the budget's share."""
    step = chunk_rows(TX_BYTES, SHARE)
    return [(lo, min(lo + step, end)) for lo in range(0, end, step)]


def iter_chunks(
    store: ChainStore,
    ranges: list[tuple[int, int]],
    coinjoin_tx: np.ndarray | None,
) -> Iterator[TxChunk]:
    """Each range of ``ranges`` as a :class:`TxChunk`.

    ``coinjoin_tx``: sorted tx ids the CoinJoin detector marked; None when it has not run,
    then the equal-output shape test of ``analysis.trace.stops`` is applied per tx (it
    looks at one tx's outputs only, so a range gives the whole chain's answer)."""
    outputs = RangeReader(store, "outputs", ["n", "address_id", "value"])
    inputs = RangeReader(store, "inputs", ["n", "address_id"])
    for lo, hi in ranges:
        outs, ins = outputs.read(lo, hi), inputs.read(lo, hi)
        o_tx, o_addr, o_val = _grouped(outs, lo, ["address_id", "value"])
        i_tx, i_addr = _grouped(ins, lo, ["address_id"])
        out_ptr, in_ptr = _ptr(o_tx, hi - lo), _ptr(i_tx, hi - lo)
        if coinjoin_tx is None:
            coin = equal_output_coinjoins(out_ptr, o_val, np.diff(in_ptr))
        else:
            coin = np.zeros(hi - lo, dtype=bool)
            a, b = np.searchsorted(coinjoin_tx, [lo, hi])
            coin[coinjoin_tx[a:b] - lo] = True
        yield TxChunk(lo, hi, out_ptr, o_addr, o_val, in_ptr, i_addr, coin)


def _grouped(t: object, lo: int, columns: list[str]) -> tuple[np.ndarray, ...]:
    """Local tx rows and ``columns`` of a range's rows, ordered by (tx, n)."""
    tx = np.asarray(t.column("tx_id").to_numpy(), dtype=np.int64) - lo  # type: ignore[attr-defined]
    n = np.asarray(t.column("n").to_numpy(), dtype=np.int64)  # type: ignore[attr-defined]
    cols = [np.asarray(t.column(c).to_numpy(), dtype=np.int64) for c in columns]  # type: ignore[attr-defined]
    if len(tx) > 1 and not (
        bool(np.all(tx[1:] >= tx[:-1])) and bool(np.all((tx[1:] > tx[:-1]) | (n[1:] > n[:-1])))
    ):
        order = np.lexsort((n, tx))
        tx, cols = tx[order], [c[order] for c in cols]
    return (tx, *cols)


def _ptr(tx: np.ndarray, rows: int) -> np.ndarray:
    ptr = np.zeros(rows + 1, dtype=np.int64)
    np.cumsum(np.bincount(tx, minlength=rows), out=ptr[1:])
    return ptr
