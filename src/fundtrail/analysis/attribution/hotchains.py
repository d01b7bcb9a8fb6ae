"""Hot wallets that never spend their addresses together, joined by their change.

An exchange that pays each batch of withdrawals from one hot address and sends the change
to another (an existing hot address or a fresh one) leaves no multi-input link between its
hot addresses: every one is a cluster of its own, fed by a sweep or two and paying a few
customers, too little for :mod:`behaviour` to recognise any. What joins them is the
change: a *batch* (a tx whose one input cluster pays three or more outputs to other
clusters) whose output goes to a cluster that itself pays batches is the payer's next hot
address. Exactly one such output per batch: a batch paying two batch payers is no change
chain (an exchange paying another's hot wallets, a payroll). Clusters linked so are one
*group*; :func:`behaviour.find` then judges each group as one wallet (its sweeps in, its
payees), so an exchange rotating its hot addresses is recognised as a whole. A gang's
fan-outs chained by change form a group too, and stay no hot wallet for the same reason a
gang's cluster does (it pays mostly services' deposits, not customers).

A hot address that never pays a batch itself (it pays one customer at a time, or has not
paid anyone yet: the exchange's fresh change address) joins its payer's group by what
feeds it: it received the *largest* output of a batch payer's tx (the change: a hot
wallet keeps most of its coins) and otherwise only *sweeps* (a cluster's coins moved
whole into it: deposits, cold storage, a miner selling), at least one. A customer paid by
a batch is paid by others too (change kept, other payers), and a gang's collection
address is paid by its victims with their change: neither is fed by sweeps alone.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from fundtrail.analysis.attribution.txshape import Txs, tx_shapes
from fundtrail.analysis.txchunks import TxChunk
from fundtrail.chainstore.workarray import WorkArray, WorkSpace

MIN_BATCH = 3  # outputs to other clusters: a batch of withdrawals (a payment has one or two)


def _batches(ch: TxChunk, t: Txs) -> tuple[np.ndarray, np.ndarray]:
    """(bool per tx: a batch from one input cluster, bool per output: to another cluster)."""
    other = (t.out_c >= 0) & (t.out_c != t.i_min[t.tx_of_out])
    n_other = np.bincount(t.tx_of_out[other], minlength=ch.hi - ch.lo)
    return t.one_in & (n_other >= MIN_BATCH), other


def _sweeps(t: Txs) -> np.ndarray:
    """bool per tx: one cluster's coins moved whole into one other cluster."""
    return t.one_in & (t.o_max >= 0) & (t.o_min == t.o_max) & (t.o_min != t.i_min)


def _change_outputs(
    ch: TxChunk, t: Txs, other: np.ndarray, batcher: WorkArray
) -> tuple[np.ndarray, np.ndarray]:
    """(bool per output: the one largest output to another cluster of a tx from one
    batch payer's cluster; bool per output to another cluster paid otherwise: not that
    output and not in a sweep)."""
    n = ch.hi - ch.lo
    from_batcher = t.one_in.copy()
    from_batcher[from_batcher] = batcher.take(t.i_min[from_batcher])
    val = np.where(other, ch.out_val, -1)
    top = np.full(n, -1, dtype=np.int64)
    np.maximum.at(top, t.tx_of_out, val)
    largest = other & (val == top[t.tx_of_out])
    once = np.bincount(t.tx_of_out[largest], minlength=n) == 1
    change = largest & (from_batcher & once)[t.tx_of_out]
    return change, other & ~change & ~_sweeps(t)[t.tx_of_out]


def groups(
    chunks: Callable[[], Iterable[TxChunk]], cluster: WorkArray, ws: WorkSpace
) -> tuple[np.ndarray, np.ndarray]:
    """(clusters in a chain, sorted; the group of each: its smallest member), from two
    passes over the chain. Only clusters in a chain are listed: memory by the chains'
    size, not the chain's (a few numbers per cluster id aside, work arrays of ``ws``)."""
    n = len(cluster)
    batcher = ws.zeros(n, bool)
    swept = ws.zeros(n, bool)  # received a sweep (coins moved whole into it)
    for ch in chunks():
        t = tx_shapes(ch, cluster)
        batch, _ = _batches(ch, t)
        batcher.put(t.i_min[batch], True)
        swept.put(t.o_min[_sweeps(t)], True)
    a_parts, b_parts = [], []
    change_of = ws.zeros(n, np.int64)  # 1 + a batch payer whose largest output it received
    other_fed = ws.zeros(n, bool)  # paid otherwise than by sweeps and batch payers' change
    for ch in chunks():
        t = tx_shapes(ch, cluster)
        batch, other = _batches(ch, t)
        sel = other & batch[t.tx_of_out]
        to_batcher = sel.copy()
        to_batcher[sel] = batcher.take(t.out_c[sel])
        per_tx = np.bincount(t.tx_of_out[to_batcher], minlength=ch.hi - ch.lo)
        link = to_batcher & (per_tx[t.tx_of_out] == 1)
        a_parts.append(t.i_min[t.tx_of_out[link]])
        b_parts.append(t.out_c[link])
        change, fed_other = _change_outputs(ch, t, other, batcher)
        change_of.put(t.out_c[change], t.i_min[t.tx_of_out[change]] + 1)
        other_fed.put(t.out_c[fed_other], True)
    ws.free(batcher)
    # a sibling fed only by sweeps and by a batch payer's change joins that payer
    fed = change_of.where(lambda v: v > 0)
    fed = fed[swept.take(fed) & ~other_fed.take(fed)]
    a_parts.append(change_of.take(fed) - 1)
    b_parts.append(fed)
    for arr in (swept, change_of, other_fed):
        ws.free(arr)
    a = np.concatenate(a_parts) if a_parts else np.zeros(0, np.int64)
    b = np.concatenate(b_parts) if b_parts else np.zeros(0, np.int64)
    if not len(a):
        z = np.zeros(0, np.int64)
        return z, z
    nodes, idx = np.unique(np.concatenate([a, b]), return_inverse=True)
    k = len(nodes)
    graph = coo_matrix((np.ones(len(a), np.int8), (idx[: len(a)], idx[len(a) :])), (k, k))
    n_groups, label = connected_components(graph, directed=False)
    smallest = np.full(n_groups, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(smallest, label, nodes)
    return nodes, smallest[label]
