"""Indirect exposure in bulk: haircut taint from many sources to every address at once.

The per-trace kernels answer "where did *this* money go" exactly; screening asks "how
much of what each address received came, within N hops, from sources of category C",
for all addresses together. That is haircut as sparse linear algebra: with ``F[a, b]``
the value address ``a`` passed to ``b`` (a UTXO tx splits each input over the outputs
in proportion; an account transfer is one entry), ``R[b]`` all that ``b`` received and
``x`` the tainted share of each address's funds,

    x_{k+1} = min(1, F^T x_k / R),  x at a source = 1,

one sparse matrix-vector product per hop and category (scipy). Service addresses receive
exposure but do not pass it on (pooled customer funds). Shares are ratios (floats), not
amounts: amounts stay exact in ``trace``. Time order is not enforced: a screening signal.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import scipy.sparse as sp

from fundtrail.analysis.trace.accgraph import account_graph
from fundtrail.analysis.trace.graph import UtxoGraph, utxo_graph
from fundtrail.chainstore.store import ChainStore


def utxo_flows(g: UtxoGraph) -> sp.csr_matrix:
    """F[a, b]: value that moved from address a to address b (haircut within each tx)."""
    n = len(g.addr_cluster)
    n_in = np.diff(g.in_ptr)
    n_out = np.diff(g.out_ptr)
    in_tx = np.repeat(np.arange(g.n_txs), n_in)
    total = np.maximum(g.tx_in_total, 1).astype(np.float64)
    ok_in = g.in_addr >= 0
    a_in = sp.csr_matrix(
        (g.in_val[ok_in] / total[in_tx[ok_in]], (g.in_addr[ok_in], in_tx[ok_in])),
        shape=(n, g.n_txs),
    )  # address -> tx: the share of the tx's inputs it put in
    out_tx = np.repeat(np.arange(g.n_txs), n_out)
    ok_out = g.out_addr >= 0
    a_out = sp.csr_matrix(
        (g.out_val[ok_out].astype(np.float64), (out_tx[ok_out], g.out_addr[ok_out])),
        shape=(g.n_txs, n),
    )  # tx -> address: value paid
    return (a_in @ a_out).tocsr()


def account_flows(store: ChainStore) -> sp.csr_matrix:
    g = account_graph(store)
    n = len(g.addr_cluster)
    ok = (g.frm >= 0) & (g.to >= 0) & (g.asset == 0)
    values = np.array([float(v) for v in g.values], dtype=np.float64)
    return sp.csr_matrix((values[ok], (g.frm[ok], g.to[ok])), shape=(n, n))


def propagate(
    flows: sp.csr_matrix, sources: dict[int, str], hops: int, blocked: np.ndarray
) -> dict[int, dict[str, float]]:
    """Share of each address's received value from each category within ``hops``."""
    received = np.asarray(flows.sum(axis=0)).ravel()
    inv = np.divide(1.0, received, out=np.zeros_like(received), where=received > 0)
    ft = flows.T.tocsr()
    out: dict[int, dict[str, float]] = {}
    for category in sorted(set(sources.values())):
        seeds = np.array([a for a, c in sources.items() if c == category], dtype=np.int64)
        x = np.zeros(flows.shape[0])
        x[seeds] = 1.0
        for _ in range(hops):
            passing = np.where(blocked, 0.0, x)
            passing[seeds] = 1.0
            x = np.minimum(ft @ passing * inv, 1.0)
            x[seeds] = 1.0
        x[seeds] = 0.0  # a source's risk is direct, not indirect exposure
        for a in np.flatnonzero(x > 0).tolist():
            out.setdefault(int(a), {})[category] = float(x[a])
    return out


def exposure(
    chain: str, sources: dict[int, str], hops: int = 3, *, home: Path | None = None
) -> dict[int, dict[str, float]]:
    """address_id -> {category: share of its received value from that category's sources}."""
    store = ChainStore(chain, home)
    store.require_data()
    if store.model == "utxo":
        g = utxo_graph(store)
        return propagate(utxo_flows(g), sources, hops, g.addr_stop)
    ag = account_graph(store)
    return propagate(account_flows(store), sources, hops, ag.addr_stop)
