"""Indirect exposure in bulk: how much of what each address received came from seeds.

Screening asks, for every address at once, "what share of the value it received came,
within N hops, from sources of category C", and must answer it with the tracer's own
taint semantics, or a deposit fed by a gang a few peels down screens clean while the
tracer finds it. So on UTXO chains ``indirect_exposure`` runs the tracer's kernel
(``walk.walk_kernel``, forward haircut) once from every output the seeds received:
peel chains are one hop, change and consolidations are no hop, CoinJoins pass taint in
proportion, services (and their deposit clusters) receive taint but pass none on, and
chain order holds. Each address's share is its tainted value over its received value;
its origin is the seed address (and the tx) its largest tainted payment came from.

Account chains keep the per-asset sparse propagation below (haircut as linear algebra,
one sparse matrix-vector product per hop: ``x_k[b] = min(1, (W^T x_{k-1})[b] / R[b])``),
with the same stops; it does not enforce time order. Shares are ratios (floats), not
amounts: amounts stay exact in ``trace``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from fundtrail.analysis.trace.stops import read_clusters
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
    """The value-flow matrices of an account chain, one per asset."""
    n = _n_addresses(store)
    con = store.connect()
    try:
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


@dataclass(frozen=True, slots=True)
class Exposure:
    """Indirect exposure of every reached address to one set of seeds (parallel arrays).

    ``share``: taint received over value received (0..1], ``hops``: the fewest hops at
    which tainted value arrived, ``origin``: the seed-cluster address whose coins make up
    the largest tainted payment the address received, ``origin_txid``: the tx in which
    those coins left it (so a reason can say "from X, in tx T, N hops away").
    """

    address: np.ndarray  # int64 address ids
    share: np.ndarray  # float64
    hops: np.ndarray  # uint8
    origin: np.ndarray  # int64 address ids
    origin_txid: list[str | None]


def indirect_exposure(
    store: ChainStore,
    seeds: np.ndarray,
    *,
    hops: int = 3,
    home: Path | None = None,
    max_cluster: int = 100_000,
) -> Exposure:
    """Exposure of every address to ``seeds`` under the tracer's own rules, in bulk.

    UTXO chains: one forward haircut walk of ``walk.walk_kernel`` from every output the
    seeds' clusters received (a seed stands for its cluster, unless that is a service or
    bigger than ``max_cluster``), with the trace's hop rule (a peel chain is one hop,
    change and consolidations no hop), CoinJoins passed in proportion, and services
    (attributed or recognised by behaviour, with their deposit clusters) receiving taint
    but passing none on. Chain order is respected: a payment made before the tainted
    money arrived is not tainted. Account chains: the per-asset sparse propagation of
    ``propagate`` with the same stops. Seeds themselves are not reported (their risk is
    direct).
    """
    from fundtrail.analysis.attribution import attribution

    att = attribution(store, home=home)
    seeds = np.unique(np.asarray(seeds, dtype=np.int64))
    if ledger_for(store).shape != "utxo":
        return _account_exposure(store, seeds, hops, att.stop_mask)
    from fundtrail.analysis.trace.graph import utxo_graph
    from fundtrail.analysis.trace.walk import FAR, HAIRCUT, walk_kernel

    g = utxo_graph(store)
    cluster = g.addr_cluster
    stop = att.stop_mask(cluster)
    seeds = seeds[(seeds >= 0) & (seeds < len(cluster))]
    members = _expand(cluster, seeds[~stop[seeds]], max_cluster)
    members = np.union1d(members, seeds)
    is_seed = np.zeros(len(cluster), dtype=bool)
    is_seed[members] = True
    start = np.flatnonzero((g.out_addr >= 0) & is_seed[np.maximum(g.out_addr, 0)])
    empty = Exposure(np.zeros(0, np.int64), np.zeros(0), np.zeros(0, np.uint8),
                     np.zeros(0, np.int64), [])  # fmt: skip
    if len(start) == 0:
        return empty
    taint, hop, _status, src, _lost, _visited = walk_kernel(
        g.kernel_arrays(), cluster, stop, start, g.out_val[start], HAIRCUT, True, hops, FAR
    )
    reached = np.flatnonzero((taint > 0) & (g.out_addr >= 0))
    reached = reached[~is_seed[g.out_addr[reached]]]
    if len(reached) == 0:
        return empty
    addr = g.out_addr[reached]
    uniq, inv = np.unique(addr, return_inverse=True)
    tainted = np.bincount(inv, weights=taint[reached].astype(np.float64), minlength=len(uniq))
    outs = np.flatnonzero(np.isin(g.out_addr, uniq))
    values = g.out_val[outs].astype(np.float64)
    at = np.searchsorted(uniq, g.out_addr[outs])
    received = np.bincount(at, weights=values, minlength=len(uniq))
    first = np.full(len(uniq), 255, dtype=np.int64)
    np.minimum.at(first, inv, hop[reached].astype(np.int64))
    # the largest tainted payment of each address, followed back to a seed output
    order = np.lexsort((-taint[reached], inv))
    best = reached[order][np.r_[True, inv[order][1:] != inv[order][:-1]]]
    root = _roots(src, best, is_seed[np.maximum(g.out_addr, 0)] & (g.out_addr >= 0))
    share = np.minimum(1.0, tainted / np.maximum(received, 1.0))
    txids = _txids(g, g.out_spent[root])
    return Exposure(uniq, share, np.clip(first, 1, 255).astype(np.uint8), g.out_addr[root], txids)


def _expand(cluster: np.ndarray, seeds: np.ndarray, max_cluster: int) -> np.ndarray:
    """Every address of the seeds' clusters (those not bigger than ``max_cluster``)."""
    if len(seeds) == 0:
        return seeds
    wanted = np.unique(cluster[seeds])
    sizes = np.bincount(np.searchsorted(wanted, cluster[np.isin(cluster, wanted)]),
                        minlength=len(wanted))  # fmt: skip
    keep = wanted[sizes <= max_cluster]
    return np.flatnonzero(np.isin(cluster, keep))


def _roots(src: np.ndarray, outs: np.ndarray, is_start: np.ndarray) -> np.ndarray:
    """For each output, the start output its taint came from (pointer doubling on ``src``)."""
    up = np.where(is_start | (src < 0), np.arange(len(src)), src)
    cur = outs.copy()
    while True:
        nxt = up[cur]
        if np.array_equal(nxt, cur):
            return cur
        cur = up[nxt]


def _txids(g: object, positions: np.ndarray) -> list[str | None]:
    tx_ids = g.tx_ids  # type: ignore[attr-defined]
    ok = positions >= 0
    con = g.cursor()  # type: ignore[attr-defined]
    try:
        import pyarrow as pa

        want = np.unique(tx_ids[positions[ok]])
        con.register("want_origin", pa.table({"tx_id": pa.array(want, pa.int64())}))
        names = dict(con.execute(
            "SELECT tx_id, txid FROM txs SEMI JOIN want_origin USING (tx_id)"
        ).fetchall())  # fmt: skip
    finally:
        con.close()
    return [names.get(int(tx_ids[p])) if p >= 0 else None for p in positions.tolist()]


def _account_exposure(
    store: ChainStore, seeds: np.ndarray, hops: int, stop_mask: Callable[[np.ndarray], np.ndarray]
) -> Exposure:
    from fundtrail.analysis.trace.accgraph import account_graph

    graph = flow_graph(store)
    # the account graph's stops add the protocol's venues (TRON's pools, shielded pool)
    stop = account_graph(store).with_stops(stop_mask(read_clusters(store, graph.n))).addr_stop
    share, first = propagate(graph, seeds[(seeds >= 0) & (seeds < graph.n)], hops, stop)
    hit = np.flatnonzero(share > 0)
    origin = np.full(len(hit), seeds[0] if len(seeds) == 1 else -1, dtype=np.int64)
    return Exposure(hit, share[hit], first[hit], origin, [None] * len(hit))


def exposure(
    chain: str, sources: dict[int, str], hops: int = 3, *, home: Path | None = None
) -> dict[int, dict[str, float]]:
    """address_id -> {category: share of its received value from that category's sources}."""
    store = ChainStore(chain, home)
    store.require_data()
    out: dict[int, dict[str, float]] = {}
    for category in sorted(set(sources.values())):
        seeds = np.array([a for a, c in sources.items() if c == category], dtype=np.int64)
        found = indirect_exposure(store, seeds, hops=hops, home=home)
        for a, share in zip(found.address.tolist(), found.share.tolist(), strict=True):
            out.setdefault(int(a), {})[category] = float(share)
    return out
