"""The shape of each tx of a chunk in cluster terms: what the behaviour rules read.

Per tx: the smallest and largest input and output cluster ids (so "one input cluster",
"one other output cluster" are two comparisons), and whether its inputs are one cluster's
and it is no CoinJoin. Shared by :mod:`behaviour` and :mod:`hotchains`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fundtrail.analysis.txchunks import TxChunk
from fundtrail.chainstore.workarray import WorkArray

BIG = np.iinfo(np.int64).max


@dataclass(frozen=True, slots=True)
class Txs:
    """Per tx of one chunk: the input and output clusters' span, flags."""

    in_c: np.ndarray  # cluster of each input address (-1: none)
    out_c: np.ndarray  # cluster of each output address (-1: none)
    tx_of_in: np.ndarray
    tx_of_out: np.ndarray
    i_min: np.ndarray
    i_max: np.ndarray
    o_min: np.ndarray
    o_max: np.ndarray
    one_in: np.ndarray  # inputs all from one cluster, not a CoinJoin


def _segment(values: np.ndarray, ptr: np.ndarray, ufunc: np.ufunc, empty: int) -> np.ndarray:
    out = np.full(len(ptr) - 1, empty, dtype=np.int64)
    nonempty = ptr[:-1] < ptr[1:]
    if nonempty.any():
        out[nonempty] = ufunc.reduceat(values, ptr[:-1][nonempty])
    return out


Relabel = tuple[np.ndarray, np.ndarray]  # (sorted cluster ids, the id each is read as)


def relabel_clusters(c: np.ndarray, relabel: Relabel | None) -> np.ndarray:
    """``c`` with the clusters of ``relabel`` read as their group's id (a chunk's worth:
    the whole chain's cluster array is never copied)."""
    if relabel is None or not len(relabel[0]):
        return c
    keys, values = relabel
    hit = np.isin(c, keys)
    c[hit] = values[np.searchsorted(keys, c[hit])]
    return c


def tx_shapes(ch: TxChunk, cluster: WorkArray, relabel: Relabel | None = None) -> Txs:
    addr = np.concatenate([ch.out_addr, ch.in_addr])  # one look at the cluster ids
    c = np.where(addr >= 0, cluster.take(np.maximum(addr, 0)), -1).astype(np.int64)
    out_c, in_c = c[: len(ch.out_addr)], c[len(ch.out_addr) :]
    out_c, in_c = relabel_clusters(out_c, relabel), relabel_clusters(in_c, relabel)
    o_min = _segment(np.where(out_c >= 0, out_c, BIG), ch.out_ptr, np.minimum, BIG)
    o_max = _segment(out_c, ch.out_ptr, np.maximum, -1)
    i_min = _segment(np.where(in_c >= 0, in_c, BIG), ch.in_ptr, np.minimum, BIG)
    i_max = _segment(in_c, ch.in_ptr, np.maximum, -1)
    one_in = (i_max >= 0) & (i_min == i_max) & ~ch.coinjoin
    return Txs(in_c, out_c, ch.tx_of_in, ch.tx_of_out, i_min, i_max, o_min, o_max, one_in)
