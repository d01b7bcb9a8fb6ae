"""Campaigns joined across a CoinJoin: what a gang put in came back, whole, to its own.

The link walk ends at a CoinJoin (:mod:`~fundtrail.analysis.link.meet`, rule 1): its
participants are strangers, and an equal output is no one's in particular. A gang that
mixes part of its victims' money and peels the rest straight to its cash-out account
splits its campaign there: the halves never meet before the round, and the mixed half's
money reaches the other half's places only as post-mix outputs, which the walk does not
follow.

What ties them is the gang's own use of its post-mix outputs, judged on value. The rule
(:func:`coinjoin_joins`), for every CoinJoin tx ``C`` that coins of groups entered:

1. The *entries*: ``C``'s inputs spending coins at an address the victims' walk found to
   be a group's own (an address a victim paid, or one a gang's tx paid), summed per
   group: ``V(X)``. Nothing else about ``C``'s inputs is assumed.
2. Every output of ``C`` is followed with the walk's own rules (the pass that starts at
   payouts, as for a mixer): post-mix outputs spent together are one wallet's and join
   there, and an output *reaches* a campaign when its coins rest at a place (a wallet or
   cash-out deposit address) that campaign's money also reached, or when it is spent
   together with that campaign's own coins in a tx that they and the round's outputs
   are most of (the spender holds both; not an exchange's sweep of deposits).
3. For each campaign ``Y`` that ``C``'s outputs reach, whose own coins did **not** enter
   ``C``, and whose reaching outputs reach no other campaign: those outputs add up to
   ``R``. A set ``S`` of the groups that entered ``C`` *matches* when ``V(S)`` less a
   fee of 0 to ``FEE_MAX_BP`` (1%) of ``V(S)`` is ``R``: the outputs that ended with
   ``Y`` are worth what ``S`` put in, less the round's fee, and not a satoshi more.
4. ``S`` joins ``Y`` when it is the only set that matches, no group of ``S`` matches
   for another campaign too, and ``V(S)`` is at least a quarter of all ``C`` took in
   (``MIN_ROUND_SHARE_DEN``): a small entry in a big round is matched by chance, some
   strangers' outputs adding up to it (on the simulator's mule-customers seed 18, 0.12
   BTC in a round of 140 outputs joined a scam to a ransomware campaign by two
   strangers' outputs). A round that more than ``MAX_GROUPS`` groups entered joins
   nothing: so many sums of entries would fit some ``R`` by chance.

Why this is safe, and what it will not do:

- Sharing a round links nobody: two groups whose coins both entered ``C`` never join
  through it, since a group that entered ``C`` is never a target (the outputs that come
  back to it may be its own). A gang in the round with strangers joins only the campaign
  its own post-mix coins went back to, and only when all of them went back.
- A stranger's outputs that reach some campaign ``Y`` join nobody unless they add up to a
  group's entry within the fee: what ``R`` holds is fixed by where the coins went, not
  chosen to fit (no subset of outputs is searched for). Two entries of the same size are
  ambiguous, and join nothing (the outputs could be either's). What remains is chance:
  a participant no complaint names (another gang) whose outputs go back to its own
  campaign, worth within the fee of a reported group's entry, would join the two; the
  window is as narrow as a round's fee allows, and a join names the amounts to check.
- Post-mix outputs spent into another CoinJoin (a remix) reach nothing: the walk stops
  at every CoinJoin. Coins kept apart, or outputs spent with someone else's, make ``R``
  miss the entry: no join. So the rule finds a gang that consolidates its post-mix
  outputs (the "toxic merge" mixing guides warn about) into its own cash-out account;
  a gang that spends them carefully stays split, as the evidence says.

Decisions are made against the campaigns as the victims' walk left them, so the result
does not depend on the order of the CoinJoins.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from fundtrail.analysis.link.meet import MAJORITY
from fundtrail.analysis.link.mixer import Roots, reached_by, spans
from fundtrail.analysis.trace.graph import UtxoGraph

THROUGH_COINJOIN = "through-coinjoin"
# a round's fee: the coordinator's (Wasabi's was 0.3% of the amount; JoinMarket makers
# and Whirlpool's mix charge less, Whirlpool's pool fee is paid before the round) plus
# the participant's share of the mining fee; more missing is coins kept elsewhere
FEE_MAX_BP = 100  # in basis points of what went in: 1%
# groups entering one round (a gang's mixed half may be a few fragments not yet joined);
# more: the 2**n sums of their entries leave too many chances to fit ``R`` by accident
MAX_GROUPS = 4
# the matched entry is at least a quarter of all the round took in: against a round many
# times its size, some strangers' outputs add up to any small amount by chance (a round of
# standard denominations makes most amounts a sum of two or three of them)
MIN_ROUND_SHARE_DEN = 4


@dataclass(frozen=True, slots=True)
class Entry:
    """What groups put into one CoinJoin: per group root, its inputs' value and count."""

    tx: int  # position of the CoinJoin
    value: dict[int, int]
    inputs: dict[int, int]


@dataclass(frozen=True, slots=True)
class CoinJoinJoin:
    """Group root ``a`` (one of the set that entered) joins ``b`` through CoinJoin ``tx``."""

    a: int
    b: int
    tx: int  # position of the CoinJoin
    entered: int  # value the matched set put in
    pieces: tuple[int, ...]  # the round's outputs that reached ``b``
    rest: int  # an address those outputs reached that ``b``'s money also reached


def entries(g: UtxoGraph, held: Roots, addr_stop: np.ndarray) -> list[Entry]:
    """The CoinJoins that coins at groups' own addresses (``held.place``, not services')
    entered, with each group's share; one gather over the CoinJoins' inputs."""
    cj = np.flatnonzero(np.asarray(g.coinjoin))
    if len(cj) == 0:
        return []
    lo, hi = np.asarray(g.in_ptr[cj]), np.asarray(g.in_ptr[cj + 1])
    j = spans(lo, hi)
    tx = np.repeat(cj, hi - lo)
    a = np.asarray(g.in_addr[j])
    ok = a >= 0
    ok[ok] = (held.place[a[ok]] >= 0) & ~addr_stop[a[ok]]
    by_tx: dict[int, Entry] = {}
    for t, addr, v in zip(
        tx[ok].tolist(), a[ok].tolist(), np.asarray(g.in_val[j[ok]]).tolist(), strict=True
    ):
        e = by_tx.setdefault(t, Entry(t, defaultdict(int), defaultdict(int)))
        root = int(held.group_root[held.place[addr]])
        e.value[root] += int(v)
        e.inputs[root] += 1
    return [by_tx[t] for t in sorted(by_tx)]


def coinjoin_joins(
    g: UtxoGraph,
    held: Roots,
    walked: Roots,
    addr_stop: np.ndarray,
    follow: Callable[[np.ndarray], Roots],
) -> list[CoinJoinJoin]:
    """The joins of the module's rule. ``held``: every address the victims' walk found a
    group's (the addresses victims paid included); ``walked``: the places of each
    campaign's money (as the mixer rule reads them); ``follow(starts)``: the link walk
    from outputs (one group each)."""
    rounds = [e for e in entries(g, held, addr_stop) if len(e.value) <= MAX_GROUPS]
    if not rounds:
        return []
    outs = [
        np.arange(int(g.out_ptr[e.tx]), int(g.out_ptr[e.tx + 1]), dtype=np.int64) for e in rounds
    ]
    starts = np.concatenate(outs)
    reached, rest = reached_by(walked, follow(starts))
    for i, (groups, where) in _spent_with(g, starts, held, addr_stop).items():
        if not reached[i]:
            rest[i] = where
        reached[i] = reached[i] | groups
    found: list[tuple[Entry, tuple[int, ...], int, tuple[int, ...], int]] = []
    k = 0
    for e, o in zip(rounds, outs, strict=True):
        mine = range(k, k + len(o))
        k += len(o)
        for y in sorted(frozenset().union(*(reached[i] for i in mine))):
            if y in e.value:
                continue
            to_y = [i for i in mine if y in reached[i]]
            if any(len(reached[i]) > 1 for i in to_y):
                continue  # outputs that reached another campaign too: whose is unclear
            r = int(np.asarray(g.out_val[starts[to_y]]).sum())
            total = int(g.tx_in_total[e.tx])
            sets = [x for x in _matching(e.value, r)
                    if MIN_ROUND_SHARE_DEN * sum(e.value[k] for k in x) >= total]  # fmt: skip
            if len(sets) == 1:
                found.append((e, sets[0], y, tuple(int(starts[i]) for i in to_y), rest[to_y[0]]))
    claimed: dict[tuple[int, int], set[int]] = defaultdict(set)
    for e, s, y, _, _ in found:
        for x in s:
            claimed[(e.tx, x)].add(y)
    joins = []
    for e, s, y, pieces, where in found:
        if all(claimed[(e.tx, x)] == {y} for x in s):
            entered = sum(e.value[x] for x in s)
            joins += [CoinJoinJoin(x, y, e.tx, entered, pieces, where) for x in s]
    return joins


def _spent_with(
    g: UtxoGraph, starts: np.ndarray, held: Roots, addr_stop: np.ndarray
) -> dict[int, tuple[frozenset[int], int]]:
    """Starts (by index) spent together with coins at a group's own address, in a tx that
    those coins and the round's outputs are the greater part of (by value and by count
    of inputs, the walk's rule 2): the groups (roots) and one such address. Whoever spent
    them holds that group's coins, so they reach it even where the victims' walk ended at
    that tx (the group's coin alone was the smaller part). A tx mostly of other people's
    coins (an exchange sweeping its customers' deposits, one of them a group's) is no one
    wallet's, and neither is another CoinJoin (a remix): they reach nobody."""
    s = np.asarray(g.out_spent[starts])
    idx = np.flatnonzero(s >= 0)
    idx = idx[~np.asarray(g.coinjoin[s[idx]], dtype=bool)]  # a remix's inputs are strangers'
    if len(idx) == 0:
        return {}
    lo, hi = np.asarray(g.in_ptr[s[idx]]), np.asarray(g.in_ptr[s[idx] + 1])
    counts = hi - lo
    j = spans(lo, hi)
    row = np.repeat(np.arange(len(idx)), counts)  # the spent start each input is beside
    a = np.asarray(g.in_addr[j])
    own = a >= 0
    own[own] = (held.place[a[own]] >= 0) & ~addr_stop[a[own]]
    ours = own | np.isin(np.asarray(g.in_src[j]), starts)
    value = np.zeros(len(idx), dtype=np.int64)
    np.add.at(value, row[ours], np.asarray(g.in_val[j[ours]]))
    count = np.bincount(row[ours], minlength=len(idx))
    # the walk's rule 2 (compared as the kernel compares, never reported)
    most = (value >= MAJORITY * np.asarray(g.tx_in_total[s[idx]])) & (count >= MAJORITY * counts)
    keep = own & most[row]
    who = idx[row]
    out: dict[int, tuple[set[int], int]] = {}
    for i, addr in zip(who[keep].tolist(), a[keep].tolist(), strict=True):
        groups, _ = out.setdefault(i, (set(), addr))
        groups.add(int(held.group_root[held.place[addr]]))
    return {i: (frozenset(groups), addr) for i, (groups, addr) in out.items()}


def _matching(value: dict[int, int], r: int) -> list[tuple[int, ...]]:
    """The sets of groups (as sorted roots) whose entries, less a fee of 0 to
    ``FEE_MAX_BP``, are ``r``."""
    groups = sorted(value)
    out = []
    for mask in range(1, 1 << len(groups)):
        s = tuple(x for b, x in enumerate(groups) if mask >> b & 1)
        v = sum(value[x] for x in s)
        if 0 <= (v - r) * 10_000 <= FEE_MAX_BP * v:  # exact: amounts are never floats
            out.append(s)
    return out
