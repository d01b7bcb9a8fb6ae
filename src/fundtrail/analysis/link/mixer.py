"""Campaigns joined through a mixer: what went in, and what came out, minus a fee.

A custodial mixer (or any service that is not an exchange: an "unidentified service"
recognised by its hot wallet) takes a gang's coins at a fresh deposit address and pays
back later, out of its own reserve, in a few pieces to fresh addresses. Nothing on
chain links the coins; the amounts and times do. Victims whose ransom went into the
mixer before their money met anyone else's are otherwise a campaign of their own.

The rule (:func:`mixer_meetings`), for every *entry*, coins of a campaign ``X`` paid to
such a service's deposit address (value ``V`` at time ``t``):

1. The service's *payouts*: outputs of txs spending the service's own coins, to
   addresses that are not a service's, paid after ``t`` and within ``WINDOW``.
2. Each payout is followed forward with the walk's own rules (a pass of the link kernel
   that starts at the payouts); a payout *reaches* a campaign when its coins rest at a
   place (a wallet or cash-out deposit address) that campaign's money also reached.
   Payouts that reach no campaign are not considered.
3. A *match* is a set of at most ``MAX_PIECES`` payouts whose sum is ``V`` minus a
   fee of ``FEE_MIN`` to ``FEE_MAX``.
4. ``X`` joins ``Y`` only if there is a match and **every** match reaches ``Y`` and
   only ``Y``. Two gangs using one mixer stay two campaigns: a match that could be
   either's, or a payout that reaches both, joins nothing. Too many payouts in the
   window (``MAX_CANDIDATES``) or too many matches (``MAX_MATCHES``) is ambiguity too.

Decisions are made against the campaigns as the walk left them (not as earlier joins
of this step changed them), so the result does not depend on the order of the entries.
The meeting's ``where`` tells the investigator what was matched: the entry tx, the
payouts' total and share, how long it took, the first payout tx and where it rested.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numba import njit

from fundtrail.analysis.attribution import Attribution
from fundtrail.analysis.trace.graph import UtxoGraph

THROUGH_MIXER = "through-mixer"
WINDOW = 24 * 3600  # seconds after the entry in which the payouts must come
FEE_MIN, FEE_MAX = 0.005, 0.05  # the mixer's cut: payouts sum to 95-99.5% of the entry
MAX_PIECES = 4  # payouts per match
MAX_CANDIDATES = 48  # payouts in one entry's window; more: ambiguous
MAX_MATCHES = 256  # matches of one entry; more: ambiguous


@dataclass(frozen=True, slots=True)
class Roots:
    """What the link walk left: each group's root, each address's group (-1: none)."""

    group_root: np.ndarray
    place: np.ndarray  # group id (any member; resolve with group_root) per address


def resolve(parent: np.ndarray) -> np.ndarray:
    """Each element's root in a union-find ``parent`` array."""
    root = parent.copy()
    while True:
        nxt = root[root]
        if np.array_equal(nxt, root):
            return root
        root = nxt


@njit(cache=True)
def _matches(  # pragma: no cover - numba
    values: np.ndarray, lo: int, hi: int, max_pieces: int, cap: int
) -> np.ndarray:
    """Sets of at most ``max_pieces`` of ``values`` (descending) summing into [lo, hi].

    Rows of indices (-1 padded); ``cap + 1`` rows means more than ``cap`` were found.
    """
    n = len(values)
    out = np.full((cap + 1, max_pieces), -1, dtype=np.int64)
    found = 0
    stack = np.zeros(max_pieces, dtype=np.int64)
    # suffix sums bound what the remaining pieces can add
    depth, start, total = 0, 0, 0
    while True:
        if start < n and depth < max_pieces and found <= cap:
            v = values[start]
            if total + v * (max_pieces - depth) < lo:
                start = n  # the rest are smaller still: no match down this branch
                continue
            if total + v <= hi:
                stack[depth] = start
                total += v
                depth += 1
                if total >= lo:
                    for k in range(depth):
                        out[found, k] = stack[k]
                    found += 1
                start += 1
                continue
            start += 1
            continue
        if depth == 0 or found > cap:
            break
        depth -= 1
        total -= values[stack[depth]]
        start = stack[depth] + 1
    return out[: min(found, cap + 1)]


@dataclass(frozen=True, slots=True)
class Payouts:
    """One service's payouts: output index, value, time (sorted by time)."""

    out: np.ndarray
    val: np.ndarray
    time: np.ndarray


def service_of(att: Attribution, cluster: int) -> int | None:
    """The non-exchange service whose deposit (or own) cluster ``cluster`` is, if any."""
    e = att.entity(cluster)
    if e is None or not e.is_service or e.category == "exchange":
        return None
    if e.is_deposit:
        return e.service_cluster
    return cluster


def payouts(g: UtxoGraph, service: int, addr_stop: np.ndarray, since: np.ndarray) -> Payouts:
    """The service's payouts to non-service addresses within ``WINDOW`` after any of ``since``."""
    in_tx = np.repeat(np.arange(g.n_txs, dtype=np.int64), np.diff(g.in_ptr))
    a_in = g.in_addr
    mine = (a_in >= 0) & (g.addr_cluster[np.maximum(a_in, 0)] == service)
    txs = np.unique(in_tx[mine])
    times = g.tx_time[txs]
    after = np.sort(since)
    k = np.searchsorted(after, times, side="left") - 1  # latest entry strictly before
    ok = (k >= 0) & (times - after[np.maximum(k, 0)] <= WINDOW)
    txs = txs[ok]
    if len(txs) == 0:
        empty = np.zeros(0, dtype=np.int64)
        return Payouts(empty, empty, empty)
    counts = g.out_ptr[txs + 1] - g.out_ptr[txs]
    outs = np.repeat(g.out_ptr[txs], counts) + (
        np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    )
    a = g.out_addr[outs]
    keep = (a >= 0) & ~addr_stop[np.maximum(a, 0)]
    keep &= g.addr_cluster[np.maximum(a, 0)] != service
    outs = outs[keep]
    t = g.tx_time[g.out_tx[outs]]
    order = np.argsort(t, kind="stable")
    return Payouts(outs[order], g.out_val[outs[order]].astype(np.int64), t[order])


@dataclass(frozen=True, slots=True)
class Join:
    """Campaign (group root) ``a`` joins ``b``: the entry output and the matched payouts."""

    a: int
    b: int
    entry: int  # output index of the entry
    pieces: tuple[int, ...]  # output indices of the payouts
    rest: int  # an address the payouts' coins reached that ``b``'s money also reached


def mixer_joins(
    g: UtxoGraph,
    att: Attribution,
    addr_stop: np.ndarray,
    walked: Roots,
    cash: np.ndarray,
    follow: Callable[[np.ndarray], Roots],
) -> list[Join]:
    """The joins of the module's rule. ``cash``: the walk's [output, group] cash-outs;
    ``follow(starts)``: the link walk from payout outputs (one group each)."""
    by_service: dict[int, list[tuple[int, int]]] = defaultdict(list)
    seen = set()
    keep = g.out_addr >= 0
    uses = np.bincount(g.out_addr[keep], minlength=len(addr_stop))
    for o, grp in cash.tolist():
        a = int(g.out_addr[o])
        if uses[a] != 1:  # an order address is used once; a customer's deposit, again
            continue
        s = service_of(att, int(g.addr_cluster[a]))
        x = int(walked.group_root[grp])
        if s is not None and (o, x) not in seen:
            seen.add((o, x))
            by_service[s].append((o, x))
    joins: list[Join] = []
    for s, entries in sorted(by_service.items()):
        since = g.tx_time[g.out_tx[np.array([o for o, _ in entries], dtype=np.int64)]]
        pay = payouts(g, s, addr_stop, since)
        if len(pay.out) == 0:
            continue
        reached, rest = _reached(walked, follow(pay.out))
        for o, x in sorted(entries):
            join = _decide(g, pay, reached, rest, o, x)
            if join is not None:
                joins.append(join)
    return joins


def _reached(walked: Roots, pseudo: Roots) -> tuple[list[frozenset[int]], list[int]]:
    """Per payout: the campaigns (walk roots) its coins reached, and one place they rested."""
    both = (pseudo.place >= 0) & (walked.place >= 0)
    addrs = np.nonzero(both)[0]
    p_root = pseudo.group_root[pseudo.place[addrs]]
    w_root = walked.group_root[walked.place[addrs]]
    camps: dict[int, set[int]] = defaultdict(set)
    where: dict[int, int] = {}
    for a, p, w in zip(addrs.tolist(), p_root.tolist(), w_root.tolist(), strict=True):
        camps[p].add(w)
        where.setdefault(p, a)
    n = len(pseudo.group_root)
    roots = pseudo.group_root.tolist()
    return (
        [frozenset(camps.get(roots[i], ())) for i in range(n)],
        [where.get(roots[i], -1) for i in range(n)],
    )


def _decide(
    g: UtxoGraph,
    pay: Payouts,
    reached: list[frozenset[int]],
    rest: list[int],
    entry: int,
    x: int,
) -> Join | None:
    v = int(g.out_val[entry])
    t = int(g.tx_time[g.out_tx[entry]])
    lo_i, hi_i = np.searchsorted(pay.time, [t, t + WINDOW], side="right")
    cand = [i for i in range(int(lo_i), int(hi_i)) if reached[i]]
    if not cand:
        return None
    cand.sort(key=lambda i: (-int(pay.val[i]), i))
    values = np.array([pay.val[i] for i in cand], dtype=np.int64)
    lo, hi = int(np.ceil(v * (1 - FEE_MAX))), int(v * (1 - FEE_MIN))
    everywhere = frozenset().union(*(reached[i] for i in cand))
    # one campaign reached by every payout: every match reaches it, one match is enough
    cap = 0 if len(everywhere) == 1 else MAX_MATCHES
    if len(cand) > (MAX_CANDIDATES if cap else 4 * MAX_CANDIDATES):
        return None
    rows = _matches(values, lo, hi, MAX_PIECES, cap)
    if len(rows) == 0 or len(rows) > max(cap, 1):
        return None
    targets: set[int] = set()
    best: tuple[int, ...] | None = None
    for row in rows.tolist():
        pieces = tuple(cand[k] for k in row if k >= 0)
        targets |= frozenset().union(*(reached[i] for i in pieces))
        if len(targets) > 1:
            return None
        if best is None or (len(pieces), sorted(pieces)) < (len(best), sorted(best)):
            best = pieces
    (y,) = targets
    if y == x or best is None:
        return None
    ordered = tuple(sorted(best, key=lambda i: (int(pay.time[i]), i)))
    return Join(x, y, entry, tuple(int(pay.out[i]) for i in ordered), rest[ordered[0]])
