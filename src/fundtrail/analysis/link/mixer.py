"""Campaigns joined through a mixer: what went in, and what came out, minus a fee.

A custodial mixer (or any service that is not an exchange: an "unidentified service"
recognised by its hot wallet) takes a gang's coins at a fresh deposit address and pays
back later, out of its own reserve, in a few pieces to fresh addresses. Nothing on
chain links the coins; the amounts and times do. Victims whose ransom went into the
mixer before their money met anyone else's are otherwise a campaign of their own.

The rule (:func:`mixer_joins`), for every *entry*, coins of a campaign ``X`` paid to
such a service's deposit address (value ``V`` at time ``t``):

1. The service's *payouts*: outputs of txs spending the service's own coins, to
   addresses that are not a service's, paid after ``t`` and within ``WINDOW``.
2. Each payout is followed forward with the walk's own rules (a pass of the link kernel
   that starts at the payouts); a payout *reaches* a campaign when its coins rest at a
   place (a wallet or cash-out deposit address) that campaign's money also reached.
   Payouts that reach no campaign are not considered. The payouts' walk ends at an
   address a victim paid: a payout that becomes a victim's payment is that victim
   buying coins (an exchange's withdrawal to a customer), not the service paying a
   gang back.
3. A *match* is a set of at most ``MAX_PIECES`` payouts whose sum is ``V`` minus a
   fee of ``FEE_MIN`` to ``FEE_MAX``; when the service has a *fee fingerprint* (one
   rate, or a few tiers, learnt from all its orders: :mod:`~fundtrail.analysis.link.fees`)
   and some payouts add up to ``V`` less exactly that rate, only those are matches.
4. ``X`` joins ``Y`` only if there is a match and **every** match reaches ``Y`` and
   only ``Y``. Two gangs using one mixer stay two campaigns unless the fee tells
   their orders apart: a match that could be either's, or a payout that reaches both,
   joins nothing. Too many payouts in the window (``MAX_CANDIDATES``, four times that
   with a fingerprint) or too many matches (``MAX_MATCHES``) is ambiguity too.

Decisions are made against the campaigns as the walk left them (not as earlier joins
of this step changed them), so the result does not depend on the order of the entries.
The meeting's ``where`` tells the investigator what was matched: the entry tx, the
payouts' total and share, how long it took, the first payout tx and where it rested,
and the fee fingerprint when one singled the payouts out.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from fundtrail.analysis.attribution import Attribution
from fundtrail.analysis.link.fees import (
    MAX_PIECES,
    RATE_UNIT,
    Fingerprint,
    fingerprint,
    implied,
    matches,
    tight,
    wide,
)
from fundtrail.analysis.trace.graph import UtxoGraph
from fundtrail.arrays import distinct
from fundtrail.chainstore.budget import ranges, release
from fundtrail.chainstore.workarray import over

THROUGH_MIXER = "through-mixer"
WINDOW = 24 * 3600  # seconds after the entry in which the payouts must come
MAX_CANDIDATES = 48  # payouts in one entry's window; more: ambiguous (4x with a fingerprint)
MAX_MATCHES = 256  # matches of one entry; more: ambiguous
LEARN_CAP = 50_000  # an entry with more wide matches than this casts no vote on the fee
TX_BYTES = 1024  # working memory per tx of a pass over the mapped inputs (and the lookups)
OUT_BYTES = 128  # working memory per output of a pass over the mapped output addresses (its
# slice, the search positions and masks: 32 let one range of 16M outputs hold 500 MB)


@dataclass(frozen=True, slots=True)
class Roots:
    """What the link walk left: each group's root, each address's group (-1: none)."""

    group_root: np.ndarray
    place: np.ndarray  # group id (any member; resolve with group_root) per address


@dataclass(frozen=True, slots=True)
class Payouts:
    """One service's payouts: output index, value, time (sorted by time)."""

    out: np.ndarray
    val: np.ndarray
    time: np.ndarray


def spans(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Every position ``lo[k] <= p < hi[k]``, range after range (a CSR row gather)."""
    counts = hi - lo
    return np.repeat(lo, counts) + (
        np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    )


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
    txs = _spent_by(g, service)
    times = g.tx_time[txs]
    after = np.sort(since)
    k = np.searchsorted(after, times, side="left") - 1  # latest entry strictly before
    ok = (k >= 0) & (times - after[np.maximum(k, 0)] <= WINDOW)
    txs = txs[ok]
    if len(txs) == 0:
        empty = np.zeros(0, dtype=np.int64)
        return Payouts(empty, empty, empty)
    outs = spans(np.asarray(g.out_ptr[txs]), np.asarray(g.out_ptr[txs + 1]))
    a = g.out_addr[outs]
    keep = (a >= 0) & ~addr_stop[np.maximum(a, 0)]
    keep &= g.addr_cluster[np.maximum(a, 0)] != service
    outs = outs[keep]
    t = g.tx_time[g.out_tx[outs]]
    order = np.argsort(t, kind="stable")
    return Payouts(outs[order], g.out_val[outs[order]].astype(np.int64), t[order])


def _spent_by(g: UtxoGraph, cluster: int) -> np.ndarray:
    """Positions (sorted) of the txs with an input of ``cluster``, found a tx range at a
    time: the inputs' arrays span the chain, and whole-chain temporaries took 17 bytes
    per input."""
    found = []
    clusters = over(g.addr_cluster)  # a window at a time: a range's lookups span the file
    for p, q in ranges(g.n_txs, TX_BYTES, 0.25):
        ptr = np.asarray(g.in_ptr[p : q + 1])
        a_in = np.asarray(g.in_addr[int(ptr[0]) : int(ptr[-1])])
        mine = (a_in >= 0) & (clusters.take(np.maximum(a_in, 0)) == cluster)
        if mine.any():
            in_tx = np.repeat(np.arange(p, q, dtype=np.int64), np.diff(ptr))
            found.append(distinct(in_tx[mine]))
        release(g.in_ptr, g.in_addr, g.addr_cluster)
    return np.concatenate(found) if found else np.zeros(0, dtype=np.int64)


def _uses(g: UtxoGraph, addrs: np.ndarray) -> dict[int, int]:
    """How many outputs paid each of ``addrs`` (a few), counted an output range at a time
    rather than with a whole-chain count per address."""
    want = distinct(addrs[addrs >= 0])
    counts = np.zeros(len(want), dtype=np.int64)
    n_out = len(g.out_addr)
    for lo, hi in ranges(n_out, OUT_BYTES, 0.25) if len(want) else []:
        a = np.asarray(g.out_addr[lo:hi])
        at = np.searchsorted(want, a)
        hit = at < len(want)
        hit[hit] = want[at[hit]] == a[hit]
        counts += np.bincount(at[hit], minlength=len(want))
        release(g.out_addr)
    return dict(zip(want.tolist(), counts.tolist(), strict=True))


@dataclass(frozen=True, slots=True)
class Join:
    """Campaign (group root) ``a`` joins ``b``: the entry output and the matched payouts."""

    a: int
    b: int
    entry: int  # output index of the entry
    pieces: tuple[int, ...]  # output indices of the payouts
    rest: int  # an address the payouts' coins reached that ``b``'s money also reached
    fee: str = ""  # the fee fingerprint that singled the payouts out, if one did


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
    uses = _uses(g, np.asarray(g.out_addr[cash[:, 0]]) if len(cash) else np.zeros(0, np.int64))
    for o, grp in cash.tolist():
        a = int(g.out_addr[o])
        if uses.get(a, 0) != 1:  # an order address is used once; a customer's deposit, again
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
        reached, rest = reached_by(walked, follow(pay.out))
        windows = {o: _candidates(g, pay, reached, o) for o, _ in entries}
        fp = fingerprint([v for o in sorted(windows) if (v := _votes(*windows[o], reached))])
        exact = _settle({o: _at_fee(windows[o], fp) for o in windows}, windows, reached)
        claims = _claims(exact, windows, reached)
        for o, x in sorted(entries):
            join = _decide(pay, reached, rest, o, x, windows[o], exact[o], claims)
            if join is not None:
                joins.append(join)
    return joins


def _candidates(
    g: UtxoGraph, pay: Payouts, reached: list[frozenset[int]], entry: int
) -> tuple[int, list[int], np.ndarray]:
    """The entry's value, and the payouts in its window that reach a campaign (largest
    first) with their values."""
    v = int(g.out_val[entry])
    t = int(g.tx_time[g.out_tx[entry]])
    lo_i, hi_i = np.searchsorted(pay.time, [t, t + WINDOW], side="right")
    cand = [i for i in range(int(lo_i), int(hi_i)) if reached[i]]
    cand.sort(key=lambda i: (-int(pay.val[i]), i))
    return v, cand, np.array([pay.val[i] for i in cand], dtype=np.int64)


def _votes(
    v: int, cand: list[int], values: np.ndarray, reached: list[frozenset[int]]
) -> dict[int, float]:
    """The fee rates this order's payouts could imply ({millionths: exact rate}): of every
    wide match whose payouts all reach one and the same campaign (an order is paid to
    one customer)."""
    if not cand or len(cand) > 4 * MAX_CANDIDATES:
        return {}
    lo, hi = wide(v)
    rows = matches(values, lo, hi, MAX_PIECES, LEARN_CAP)
    if len(rows) > LEARN_CAP:
        return {}
    # in arrays, not row by row (tens of thousands of rows per order at 50k txs): a row
    # counts when all its payouts reached the one same campaign
    only = np.array([min(r) if len(r) == 1 else -1 for r in (reached[i] for i in cand)])
    used = rows >= 0
    picked = np.where(used, rows, 0)
    camp = only[picked]
    first = camp[:, 0]
    ok = (first >= 0) & np.all((camp == first[:, None]) | ~used, axis=1)
    sums = np.where(used, values[picked], 0).sum(axis=1)[ok]
    # each distinct total in the order its first row came: the same first rate per key
    totals, at = np.unique(sums, return_index=True)
    out: dict[int, float] = {}
    for total in totals[np.argsort(at, kind="stable")].tolist():
        rate = implied(v, int(total))
        out.setdefault(round(rate * RATE_UNIT), rate)
    return out


def _at_fee(
    window: tuple[int, list[int], np.ndarray], fp: Fingerprint | None
) -> tuple[str, np.ndarray]:
    """The matches at the service's own fee (rows into the window's candidates), with the
    fingerprint's words; none without a fingerprint or in a window too crowded."""
    v, cand, values = window
    none = np.zeros((0, MAX_PIECES), dtype=np.int64)
    if fp is None or not cand or len(cand) > 4 * MAX_CANDIDATES:
        return "", none
    found = [(r, matches(values, *tight(v, r), MAX_PIECES, MAX_MATCHES)) for r in fp.rates]
    found = [(r, rows) for r, rows in found if len(rows)]
    if not found:
        return "", none
    rows = np.unique(np.concatenate([rows for _, rows in found]), axis=0)
    return "; ".join(fp.text(r) for r, _ in found), rows


def reached_by(walked: Roots, pseudo: Roots) -> tuple[list[frozenset[int]], list[int]]:
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


def _pieces(row: list[int], cand: list[int]) -> list[int]:
    return [cand[k] for k in row if k >= 0]


def _coherent(pieces: list[int], reached: list[frozenset[int]]) -> bool:
    """Payouts that all reach one and the same campaign: they could pay one customer."""
    return len(frozenset().union(*(reached[i] for i in pieces))) == 1


def _claims(
    exact: dict[int, tuple[str, np.ndarray]],
    windows: dict[int, tuple[int, list[int], np.ndarray]],
    reached: list[frozenset[int]],
) -> dict[int, set[int]]:
    """payout -> the orders whose coherent matches at the fee hold it."""
    claims: dict[int, set[int]] = defaultdict(set)
    for o, (_, rows) in exact.items():
        for row in rows.tolist():
            pieces = _pieces(row, windows[o][1])
            if _coherent(pieces, reached):
                for i in pieces:
                    claims[i].add(o)
    return claims


def _settle(
    exact: dict[int, tuple[str, np.ndarray]],
    windows: dict[int, tuple[int, list[int], np.ndarray]],
    reached: list[frozenset[int]],
) -> dict[int, tuple[str, np.ndarray]]:
    """A payout pays one order: an order with one match at the fee, none of whose payouts
    another order's match holds, is settled, and its payouts leave every other order's
    matches. In rounds (every settled order of a round at once), so the result does not
    depend on the order of the entries."""
    done: set[int] = set()
    while True:
        claims = _claims(exact, windows, reached)
        settled = {
            o for o, (_, rows) in exact.items()
            if o not in done and len(rows) == 1
            and all(claims[i] == {o} for i in _pieces(rows[0].tolist(), windows[o][1]))
        }  # fmt: skip
        if not settled:
            return exact
        done |= settled
        taken = {i for o in settled for i in _pieces(exact[o][1][0].tolist(), windows[o][1])}
        for o, (fee, rows) in list(exact.items()):
            if o in done or not len(rows):
                continue
            keep = [r for r in rows.tolist() if not taken & set(_pieces(r, windows[o][1]))]
            if len(keep) < len(rows):
                exact[o] = (fee, np.array(keep, dtype=np.int64).reshape(-1, rows.shape[1]))


def _decide(
    pay: Payouts,
    reached: list[frozenset[int]],
    rest: list[int],
    entry: int,
    x: int,
    window: tuple[int, list[int], np.ndarray],
    exact: tuple[str, np.ndarray],
    claims: dict[int, set[int]],
) -> Join | None:
    """The matches at the service's fee decide when there are any, and only when no
    other order could be paid by the same payouts (a payout pays one order); else the
    wide window's matches decide."""
    v, cand, values = window
    if not cand:
        return None
    fee, rows = exact
    # payouts another order could claim are not this order's for sure: then the wide
    # rule alone decides (every match in the wide window reaching one campaign)
    free = not any(claims[i] - {entry} for row in rows.tolist() for i in _pieces(row, cand))
    if 0 < len(rows) <= MAX_MATCHES and free:
        picked = _one_target(rows, cand, reached, x)
        if picked is not None:
            return _join(pay, rest, entry, x, picked, fee)
    lo, hi = wide(v)
    everywhere = frozenset().union(*(reached[i] for i in cand))
    # one campaign reached by every payout: every match reaches it, one match is enough
    cap = 0 if len(everywhere) == 1 else MAX_MATCHES
    if len(cand) > (MAX_CANDIDATES if cap else 4 * MAX_CANDIDATES):
        return None
    rows = matches(values, lo, hi, MAX_PIECES, cap)
    if len(rows) == 0 or len(rows) > max(cap, 1):
        return None
    picked = _one_target(rows, cand, reached, x)
    return None if picked is None else _join(pay, rest, entry, x, picked, "")


def _one_target(
    rows: np.ndarray, cand: list[int], reached: list[frozenset[int]], x: int
) -> tuple[int, tuple[int, ...]] | None:
    """The one campaign every match reaches, and the smallest match; None if several
    campaigns (or only ``x`` itself) are reached."""
    targets: set[int] = set()
    best: tuple[int, ...] | None = None
    for row in rows.tolist():
        pieces = tuple(cand[k] for k in row if k >= 0)
        targets |= frozenset().union(*(reached[i] for i in pieces))
        if len(targets) > 1:
            return None
        if best is None or (len(pieces), sorted(pieces)) < (len(best), sorted(best)):
            best = pieces
    if best is None:
        return None
    (y,) = targets
    return None if y == x else (y, best)


def _join(
    pay: Payouts,
    rest: list[int],
    entry: int,
    x: int,
    picked: tuple[int, tuple[int, ...]],
    fee: str,
) -> Join:
    y, best = picked
    ordered = tuple(sorted(best, key=lambda i: (int(pay.time[i]), i)))
    return Join(x, y, entry, tuple(int(pay.out[i]) for i in ordered), rest[ordered[0]], fee)
