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

Account chains run the account tracer's walk the same way (``accexposure``: balances
replayed in chain order, a peel chain through fresh addresses one hop, the same stops).
Shares are ratios (floats), not amounts: amounts stay exact in ``trace``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from fundtrail.arrays import distinct
from fundtrail.chains.ledger import ledger_for
from fundtrail.chainstore.budget import ranges, release
from fundtrail.chainstore.store import ChainStore

OUT_BYTES = 24  # working memory per output of a pass over the mapped output addresses


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
    money arrived is not tainted. Account chains: the account tracer's forward
    haircut walk from every payment the seeds received (``accexposure``), with the same
    rules. Seeds themselves are not reported (their risk is direct).
    """
    from fundtrail.analysis.attribution import attribution

    att = attribution(store, home=home)
    seeds = distinct(np.asarray(seeds, dtype=np.int64))
    if ledger_for(store).shape != "utxo":
        from fundtrail.analysis.trace.accexposure import account_exposure

        return Exposure(*account_exposure(store, seeds, hops, att, max_cluster))
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
    start = outputs_to(g.out_addr, is_seed)
    empty = Exposure(np.zeros(0, np.int64), np.zeros(0), np.zeros(0, np.uint8),
                     np.zeros(0, np.int64), [])  # fmt: skip
    if len(start) == 0:
        return empty
    w = walk_kernel(
        g.kernel_arrays(), cluster, stop, start, g.out_val[start], HAIRCUT, True, hops, FAR
    )
    taint = w.taint
    reached = w.reached[(taint[w.reached] > 0) & (g.out_addr[w.reached] >= 0)]
    reached = reached[~is_seed[g.out_addr[reached]]]
    if len(reached) == 0:
        return empty
    addr = g.out_addr[reached]
    uniq, inv = np.unique(addr, return_inverse=True)
    tainted = np.bincount(inv, weights=taint[reached].astype(np.float64), minlength=len(uniq))
    wanted = np.zeros(len(cluster), dtype=bool)
    wanted[uniq] = True
    outs = outputs_to(g.out_addr, wanted)
    del wanted
    values = g.out_val[outs].astype(np.float64)
    at = np.searchsorted(uniq, g.out_addr[outs])
    received = np.bincount(at, weights=values, minlength=len(uniq))
    first = np.full(len(uniq), 255, dtype=np.int64)
    np.minimum.at(first, inv, w.hop[reached].astype(np.int64))
    # the largest tainted payment of each address, followed back to a seed output
    order = np.lexsort((-taint[reached], inv))
    best = reached[order][np.r_[True, inv[order][1:] != inv[order][:-1]]]
    root = _roots(w.src, best, g.out_addr, is_seed)
    share = np.minimum(1.0, tainted / np.maximum(received, 1.0))
    txids = _txids(g, g.out_spent[root])
    return Exposure(uniq, share, np.clip(first, 1, 255).astype(np.uint8), g.out_addr[root], txids)


def outputs_to(out_addr: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """Indices of the outputs paid to an address marked in ``wanted`` (bool per address id),
    in order, read a range at a time: the mapped ``out_addr`` spans the chain, and a
    whole-array mask and gather took 9 bytes per output more than the answer."""
    found = []
    for lo, hi in ranges(len(out_addr), OUT_BYTES, 0.25):
        a = np.asarray(out_addr[lo:hi])
        found.append(lo + np.flatnonzero((a >= 0) & wanted[np.maximum(a, 0)]))
        release(out_addr)
    return np.concatenate(found) if found else np.zeros(0, dtype=np.int64)


def _expand(cluster: np.ndarray, seeds: np.ndarray, max_cluster: int) -> np.ndarray:
    """Every address of the seeds' clusters (those not bigger than ``max_cluster``)."""
    if len(seeds) == 0:
        return seeds
    wanted = distinct(cluster[seeds])
    sizes = np.bincount(np.searchsorted(wanted, cluster[np.isin(cluster, wanted)]),
                        minlength=len(wanted))  # fmt: skip
    keep = wanted[sizes <= max_cluster]
    return np.flatnonzero(np.isin(cluster, keep))


def _roots(
    src: np.ndarray, outs: np.ndarray, out_addr: np.ndarray, is_seed: np.ndarray
) -> np.ndarray:
    """For each output, the start output its taint came from: ``src`` followed back until
    an output paid to a seed address, or one without a source.

    Only the outputs on those paths are read (``src`` holds values at reached outputs
    only, see ``walk.Walk``)."""
    cur = outs.copy()
    while len(cur):
        a = out_addr[cur]
        up = src[cur]
        move = ~((a >= 0) & is_seed[np.maximum(a, 0)]) & (up >= 0)
        if not move.any():
            break
        cur[move] = up[move]
    return cur


def _txids(g: object, positions: np.ndarray) -> list[str | None]:
    tx_ids = g.tx_ids  # type: ignore[attr-defined]
    ok = positions >= 0
    con = g.cursor()  # type: ignore[attr-defined]
    try:
        import pyarrow as pa

        want = distinct(tx_ids[positions[ok]])
        con.register("want_origin", pa.table({"tx_id": pa.array(want, pa.int64())}))
        names = dict(con.execute(
            "SELECT tx_id, txid FROM txs SEMI JOIN want_origin USING (tx_id)"
        ).fetchall())  # fmt: skip
    finally:
        con.close()
    return [names.get(int(tx_ids[p])) if p >= 0 else None for p in positions.tolist()]


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
