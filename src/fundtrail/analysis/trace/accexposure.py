"""Indirect exposure in bulk on account chains, with the account tracer's own walk.

Screening must answer "what share of what this address received came from the seeds,
within N hops" with the taint semantics the tracer uses, or a deposit fed by a gang a
few hops down screens clean while ``fundtrail trace`` names it. So this runs the
tracer's forward haircut walk (``account.forward_balance``, through swaps as a trace
does) once, from every payment the seeds received, per asset:

* balances are replayed in chain order: money an address paid out before tainted money
  arrived carries none;
* a peel chain through fresh addresses is one hop (``account.moves_on``), a payment to
  another cluster one more;
* services and their deposit addresses receive taint but pass none on;
* an address's share is the taint that arrived within the hop limit over everything it
  ever received in that asset (the largest over assets); its origin is the seed address
  (and the tx) that its largest tainted payment is followed back to, payment by payment.

Shares are ratios (floats) for screening; amounts stay exact in ``trace``.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from fundtrail.analysis.attribution import Attribution
from fundtrail.analysis.trace.accgraph import SINK_KINDS, AccountGraph, account_graph
from fundtrail.analysis.trace.account import AccountWalk
from fundtrail.analysis.trace.request import TraceRequest
from fundtrail.arrays import distinct
from fundtrail.chainstore.store import ChainStore

_RECEIPTS = frozenset({"native", "internal", "token", "genesis", "reward"})
MAX_ORIGIN_STEPS = 256  # a payment followed back further than this names no origin


def account_exposure(
    store: ChainStore, seeds: np.ndarray, hops: int, att: Attribution, max_cluster: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, list[str | None]]:
    """(address, share, hops, origin, origin tx) of every address the seeds' money reached.

    A seed stands for its cluster (unless that is a service or bigger than
    ``max_cluster``); the seeds themselves are not reported (their risk is direct).
    """
    from fundtrail.analysis.trace.acctrace import _walk_through_swaps

    base = account_graph(store)
    g = base.with_stops(att.stop_mask(base.addr_cluster), att.deposit_mask(base.addr_cluster))
    n = len(g.addr_cluster)
    seeds = seeds[(seeds >= 0) & (seeds < n)]
    is_seed = _members(g, seeds, max_cluster)
    by_asset = _starts(g, is_seed)
    if not by_asset:
        return _empty()
    request = TraceRequest(store.chain.code, ("seed addresses",), hops=hops)
    walks, _ = _walk_through_swaps(g, by_asset, request)
    best: dict[int, tuple[float, int, int]] = {}  # address -> (share, hops, asset)
    for asset, w in sorted(walks.items()):
        received = _received(g, asset, w.arrived)
        for a, amount in w.arrived.items():
            if is_seed[a] or amount <= 0 or received.get(a, 0) <= 0:
                continue
            ratio = min(1.0, amount / received[a])
            was = best.get(a)
            if was is None or ratio > was[0]:
                best[a] = (ratio, w.reached[a], asset)
    if not best:
        return _empty()
    address = np.array(sorted(best), dtype=np.int64)
    share = np.array([best[a][0] for a in address.tolist()], dtype=np.float64)
    hop = np.array([max(1, min(255, best[a][1])) for a in address.tolist()], dtype=np.uint8)
    origins = {asset: _Origins(g, w, is_seed) for asset, w in walks.items()}
    found = [origins[best[a][2]].of(a) for a in address.tolist()]
    origin = np.array([o for o, _ in found], dtype=np.int64)
    return address, share, hop, origin, [t for _, t in found]


def _empty() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, list[str | None]]:
    z = np.zeros(0, dtype=np.int64)
    return z, np.zeros(0), np.zeros(0, np.uint8), z.copy(), []


def _members(g: AccountGraph, seeds: np.ndarray, max_cluster: int) -> np.ndarray:
    """bool per address: a seed, or in a seed's cluster (not a service, not too big)."""
    cl = g.addr_cluster
    out = np.zeros(len(cl), dtype=bool)
    out[seeds] = True
    wanted = distinct(cl[seeds[~g.addr_stop[seeds]]]) if len(seeds) else seeds
    if len(wanted):
        inside = np.isin(cl, wanted)
        sizes = np.bincount(np.searchsorted(wanted, cl[inside]), minlength=len(wanted))
        out |= np.isin(cl, wanted[sizes <= max_cluster])
    return out


def _starts(g: AccountGraph, is_seed: np.ndarray) -> dict[int, dict[int, int]]:
    """Per asset, every payment into a seed from outside the seeds: its whole value."""
    to, frm = g.to, g.frm
    into = np.flatnonzero((to >= 0) & is_seed[np.maximum(to, 0)])
    into = into[(frm[into] < 0) | ~is_seed[np.maximum(frm[into], 0)]]
    out: dict[int, dict[int, int]] = defaultdict(dict)
    for p in into.tolist():
        if g.kind[p] not in SINK_KINDS and g.values[p] > 0:
            out[int(g.asset[p])][p] = int(g.values[p])
    return dict(out)


def _received(g: AccountGraph, asset: int, wanted: dict[int, int]) -> dict[int, int]:
    """Everything each wanted address ever received in ``asset``."""
    out: dict[int, int] = {}
    for a in wanted:
        hist = g.history(a)
        hist = hist[(g.to[hist] == a) & (g.frm[hist] != a) & (g.asset[hist] == asset)]
        out[a] = sum(g.values[p] for p in hist.tolist() if g.kind[p] in _RECEIPTS)
    return out


class _Origins:
    """Each reached address's largest tainted payment, followed back to a seed."""

    def __init__(self, g: AccountGraph, w: AccountWalk, is_seed: np.ndarray) -> None:
        self.g, self.is_seed = g, is_seed
        self.into: dict[int, list[tuple[int, int, int]]] = defaultdict(list)
        for src, dst, amount, pos in w.flows:
            if src >= 0 and amount > 0:
                self.into[dst].append((pos, amount, src))

    def of(self, address: int) -> tuple[int, str | None]:
        at, before = address, 1 << 62
        for _ in range(MAX_ORIGIN_STEPS):
            ins = [f for f in self.into.get(at, ()) if f[0] < before]
            if not ins:
                return -1, None
            pos, _amount, src = max(ins, key=lambda f: (f[1], -f[0]))
            if self.is_seed[src]:
                return src, self.g.txid(pos)
            at, before = src, pos
        return -1, None
