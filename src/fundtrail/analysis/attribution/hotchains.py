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


def groups(
    chunks: Callable[[], Iterable[TxChunk]], cluster: WorkArray, ws: WorkSpace
) -> tuple[np.ndarray, np.ndarray]:
    """(clusters in a chain, sorted; the group of each: its smallest member), from two
    passes over the chain. Only clusters in a chain are listed: memory by the chains'
    size, not the chain's (one bool per cluster id aside, a work array of ``ws``)."""
    batcher = ws.zeros(len(cluster), bool)
    for ch in chunks():
        t = tx_shapes(ch, cluster)
        batch, _ = _batches(ch, t)
        batcher.put(t.i_min[batch], True)
    a_parts, b_parts = [], []
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
    ws.free(batcher)
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
