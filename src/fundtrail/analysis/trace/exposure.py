"""Indirect exposure in bulk: haircut taint from many sources to every address at once.

The per-trace kernels answer "where did *this* money go" exactly; screening asks "how
much of what each address received came, within N hops, from sources of category C",
for all addresses together. That is haircut as sparse linear algebra: a transaction
moves value from its input addresses to its output addresses in proportion (UTXO), a
transfer moves value from sender to receiver (account chains, per asset). With W[a, b]
the value that flowed from a to b and R[b] everything b received,

    x_k[b] = min(1, (W^T x_{k-1})[b] / R[b]),  x_k[seed] = 1

one sparse matrix-vector product per hop, category and asset (scipy). Service
addresses (exchanges) receive exposure but do not pass it on: their pooled funds would
otherwise taint every customer. Shares are ratios (floats), not amounts: amounts stay
exact in ``trace``. Time order inside the window is not enforced: this is a screening
signal, not evidence (the tracer produces evidence).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from fundtrail.analysis.trace.stops import read_clusters, read_entities, stop_mask
from fundtrail.chains.ledger import ledger_for
from fundtrail.chainstore.store import ChainStore


@dataclass(slots=True)
class FlowGraph:
    """One value-flow matrix per asset; rows send, columns receive."""

    n: int
    flows: list[sp.csr_matrix]
    received: list[np.ndarray]


def _n_addresses(store: ChainStore) -> int:
    con = store.connect()
    try:
        rows = con.sql("SELECT coalesce(max(address_id) + 1, 0) FROM addresses").fetchall()
        return int(rows[0][0])
    finally:
        con.close()


def flow_graph(store: ChainStore) -> FlowGraph:
    n = _n_addresses(store)
    con = store.connect()
    try:
        if ledger_for(store).shape == "utxo":
            edges = con.sql(
                """
                WITH i AS (SELECT tx_id, address_id a, sum(value) v FROM inputs
                           WHERE address_id >= 0 GROUP BY ALL),
                     t AS (SELECT tx_id, sum(v) tot FROM i GROUP BY ALL),
                     o AS (SELECT tx_id, address_id b, sum(value) v FROM outputs
                           WHERE address_id >= 0 GROUP BY ALL)
                SELECT i.a, o.b, sum(i.v::DOUBLE * o.v::DOUBLE / t.tot::DOUBLE) w
                FROM i JOIN t USING (tx_id) JOIN o USING (tx_id)
                WHERE i.a <> o.b AND t.tot > 0 GROUP BY ALL
                """
            ).fetchnumpy()
            recv = con.sql(
                "SELECT address_id, sum(value)::DOUBLE r FROM outputs WHERE address_id >= 0 "
                "GROUP BY ALL"
            ).fetchnumpy()
            return FlowGraph(n, [_matrix(n, edges)], [_vector(n, recv)])
        assets = [
            int(r[0])
            for r in con.sql(
                "SELECT DISTINCT asset_id FROM transfers "
                "WHERE kind IN ('native','internal','token')"
            ).fetchall()
        ]
        flows, received = [], []
        for asset in assets:
            edges = con.sql(
                f"""SELECT from_id a, to_id b, sum(coalesce(value::DOUBLE, 0)) w FROM transfers
                    WHERE asset_id = {asset} AND kind IN ('native','internal','token')
                      AND from_id <> to_id AND from_id >= 0 AND to_id >= 0 GROUP BY ALL"""
            ).fetchnumpy()
            recv = con.sql(
                f"""SELECT to_id address_id, sum(coalesce(value::DOUBLE, 0)) r FROM transfers
                    WHERE asset_id = {asset} AND to_id >= 0
                      AND kind IN ('native','internal','token','genesis','reward') GROUP BY ALL"""
            ).fetchnumpy()
            flows.append(_matrix(n, edges))
            received.append(_vector(n, recv))
        return FlowGraph(n, flows, received)
    finally:
        con.close()


def _matrix(n: int, edges: dict[str, np.ndarray]) -> sp.csr_matrix:
    a = np.asarray(edges["a"], dtype=np.int64)
    b = np.asarray(edges["b"], dtype=np.int64)
    w = np.asarray(edges["w"], dtype=np.float64)
    return sp.csr_matrix((w, (a, b)), shape=(n, n))


def _vector(n: int, recv: dict[str, np.ndarray]) -> np.ndarray:
    out = np.zeros(n, dtype=np.float64)
    out[np.asarray(recv["address_id"], dtype=np.int64)] = np.asarray(recv["r"], dtype=np.float64)
    return out


def propagate(
    graph: FlowGraph, seeds: np.ndarray, hops: int, stop: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Exposure share (0..1) of every address to ``seeds`` and the hop it first appears at.

    ``seeds`` are address ids; ``stop`` a boolean mask of addresses that do not pass
    exposure on. Seeds themselves report share 0 (their risk is direct, not indirect).
    """
    n = graph.n
    best = np.zeros(n, dtype=np.float64)
    first = np.zeros(n, dtype=np.uint8)
    if n == 0 or len(seeds) == 0:
        return best, first
    seed_mask = np.zeros(n, dtype=bool)
    seed_mask[seeds] = True
    for flow, recv in zip(graph.flows, graph.received, strict=True):
        x = seed_mask.astype(np.float64)
        safe = np.where(recv > 0, recv, 1.0)
        flow_t = flow.T.tocsr()
        for hop in range(1, hops + 1):
            send = x if stop is None else np.where(stop & ~seed_mask, 0.0, x)
            new = np.minimum(1.0, (flow_t @ send) / safe)
            new[recv <= 0] = 0.0
            new[seed_mask] = 1.0
            appeared = (new > 1e-12) & (first == 0) & ~seed_mask
            first[appeared] = hop
            if np.allclose(new, x):
                x = new
                break
            x = new
        share = np.where(seed_mask, 0.0, x)
        best = np.maximum(best, share)
    first[best <= 1e-12] = 0
    return best, first


def exposure(
    chain: str, sources: dict[int, str], hops: int = 3, *, home: Path | None = None
) -> dict[int, dict[str, float]]:
    """address_id -> {category: share of its received value from that category's sources}."""
    store = ChainStore(chain, home)
    store.require_data()
    graph = flow_graph(store)
    stop = stop_mask(read_clusters(store, graph.n), read_entities(store))
    out: dict[int, dict[str, float]] = {}
    for category in sorted(set(sources.values())):
        seeds = np.array([a for a, c in sources.items() if c == category], dtype=np.int64)
        share, _first = propagate(graph, seeds, hops, stop)
        for a in np.flatnonzero(share > 0).tolist():
            out.setdefault(int(a), {})[category] = float(share[a])
    return out
