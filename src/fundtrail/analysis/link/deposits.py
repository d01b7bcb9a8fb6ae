"""Which customer deposit addresses link the groups that reached them, all at once.

A deposit address at an exchange is weak evidence of common control: it belongs to a
customer, and a customer (a money mule who also trades there, an OTC desk) may take the
coins of two unrelated gangs. Money that met *before* the exchange (spent together,
rested at the same own wallet: the walk's strong joins) is the stronger evidence and
wins. So the walk does not join at deposits; :func:`deposit_joins` looks at every
deposit and every group that reached it together, as one graph of *components* (groups
joined by strong evidence) and deposits:

1. A component is *established* when it holds at least :data:`ESTABLISHED` payments:
   a campaign in its own right. Small components (a ransomware's batches of a few
   victims each, one address per victim) are held together by their deposits: the
   deposits that no established component reached join them (a *community*).
2. Communities of at least :data:`ESTABLISHED` payments are established too. Two of
   them that share deposits are one campaign when the shared deposits are at least
   :data:`SHARED_SHARE` of the deposits of the one with fewer (they cash out to the
   same accounts: one gang's mules), judged strongest share first and on the campaigns
   merged so far (a fragment that reached its gang's deposit and one mule another gang
   also paid joins its gang first; then the mule is one deposit among the gang's many,
   not evidence that the two gangs are one). Otherwise the shared deposits are *conflicts*:
   two campaigns, each standing on its own evidence, met only at a few accounts (a
   mule both used, an ordinary customer both paid). A conflict links nobody.
3. A small community joins the one established campaign it reached at deposits that
   are not conflicts; one that reached two stays as it is (no way to tell which).

Everything is a function of the rows (sorted, no order of arrival), pure, for unit
tests of the rule; the chain kernels (UTXO and account chains alike) only report which
group reached which deposit, and :func:`settle` applies the rule to a walk's result.
"""

from __future__ import annotations

import heapq
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np

from fundtrail.analysis.link.meet import R_CASHOUT
from fundtrail.arrays import distinct

ESTABLISHED = 10  # payments that make a component or community a campaign of its own
SHARED_SHARE = 0.5  # shared deposits over the smaller campaign's, for them to be one
# why a deposit two campaigns reached did not merge them, as a campaign's conflict says it
NOT_MERGED = (
    "each campaign stands on its own evidence and they share few deposits (a customer both "
    "paid): campaigns join at deposits only where half the smaller one's are shared"
)


@dataclass(frozen=True, slots=True)
class DepositJoin:
    """Groups ``a`` and ``b`` join at deposit ``deposit`` (an address id)."""

    a: int
    b: int
    deposit: int


@dataclass(frozen=True, slots=True)
class DepositConflict:
    """A deposit reached by campaigns that were not merged: the groups of each, by root."""

    deposit: int
    groups: tuple[tuple[int, ...], ...]


class _Sets:
    def __init__(self, items: Iterable[int]) -> None:
        self.parent = {i: i for i in items}

    def find(self, x: int) -> int:
        while self.parent[x] != x:
            self.parent[x] = self.parent[self.parent[x]]
            x = self.parent[x]
        return x

    def union(self, a: int, b: int) -> bool:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return False
        self.parent[max(ra, rb)] = min(ra, rb)
        return True


def deposit_joins(
    reached: Mapping[int, Iterable[int]], size: Mapping[int, int]
) -> tuple[list[DepositJoin], list[DepositConflict]]:
    """The joins at deposits, and the conflicts left.

    ``reached``: {deposit: the components (strong roots) that reached it}; ``size``:
    payments per component root. Returns joins between component roots (each names the
    deposit it rests on) and the deposits still reached by several campaigns.
    """
    at = {d: sorted(set(cs)) for d, cs in sorted(reached.items())}
    comps = sorted({c for cs in at.values() for c in cs})
    big = {c for c in comps if size.get(c, 0) >= ESTABLISHED}
    joins: list[DepositJoin] = []
    sets = _Sets(comps)

    def join(a: int, b: int, d: int) -> None:
        if sets.union(a, b):
            joins.append(DepositJoin(a, b, d))

    # 1. small components glued by the deposits no established one reached
    for d, cs in at.items():
        if not big & set(cs):
            for c in cs[1:]:
                join(cs[0], c, d)
    community = {c: sets.find(c) for c in comps}
    weight: dict[int, int] = defaultdict(int)
    for c in comps:
        weight[community[c]] += size.get(c, 0)
    settled = {r for r, w in weight.items() if w >= ESTABLISHED}
    deposits_of: dict[int, set[int]] = defaultdict(set)
    for d, cs in at.items():
        for c in cs:
            deposits_of[community[c]].add(d)
    # 2. established communities sharing most of the smaller one's deposits: one campaign
    shared: dict[tuple[int, int], list[int]] = defaultdict(list)
    for d, cs in at.items():
        held = sorted({community[c] for c in cs} & settled)
        for i, x in enumerate(held):
            for y in held[i + 1 :]:
                shared[(x, y)].append(d)
    merged = _Sets(sorted(settled))
    for x, y, d in _merge_by_share(shared, deposits_of):
        merged.union(x, y)
        join(x, y, d)
    # 3. a small community joins the one campaign its non-conflict deposits reach
    campaign = {r: merged.find(r) for r in settled}
    reach: dict[int, dict[int, tuple[int, int, int]]] = defaultdict(dict)
    for d, cs in at.items():
        there = {campaign[community[c]] for c in cs if community[c] in settled}
        if len(there) != 1:
            continue  # no campaign here, or a conflict: evidence for nobody
        (target,) = there
        anchor = next(c for c in cs if community[c] in settled)
        for c in cs:
            r = community[c]
            if r not in settled:
                reach[r].setdefault(target, (anchor, c, d))
    for _r, found in sorted(reach.items()):
        if len(found) == 1:
            ((anchor, c, d),) = found.values()
            join(anchor, c, d)
    # conflicts: deposits still reached by several campaigns
    clashes = []
    for d, cs in at.items():
        by_root: dict[int, list[int]] = defaultdict(list)
        for c in cs:
            by_root[sets.find(c)].append(c)
        if len(by_root) > 1:
            clashes.append(DepositConflict(d, tuple(tuple(by_root[r]) for r in sorted(by_root))))
    return joins, clashes


def _merge_by_share(
    shared: Mapping[tuple[int, int], list[int]], deposits_of: Mapping[int, set[int]]
) -> list[tuple[int, int, int]]:
    """Rule 2, strongest evidence first: the merges of established communities, each as
    (community, community, a shared deposit).

    The pair sharing the largest share of the smaller one's deposits merges first, and
    the share is then judged on the merged campaign's deposits. A fragment of a scam
    that reached two deposits, the scam's own and a mule that a ransomware also paid,
    shares half of its deposits with either; judged pair by pair it glued the two gangs
    together. Judged once it has joined the scam (whose eight deposits share one with
    the ransomware), the mule is what it is: one account both cashed out at.
    """
    deps = {r: set(ds) for r, ds in deposits_of.items()}
    at: dict[int, set[int]] = defaultdict(set)  # deposit -> current campaigns there
    for x, y in shared:
        for r in (x, y):
            for d in deps[r]:
                at[d].add(r)
    owner = _Sets(sorted(deps))

    def score(x: int, y: int) -> tuple[float, int, int] | None:
        both = deps[x] & deps[y]
        fewer = min(len(deps[x]), len(deps[y]))
        if not both or len(both) < SHARED_SHARE * fewer:
            return None
        return (-len(both) / fewer, -len(both), min(both))

    heap = [(*s, x, y) for x, y in sorted(shared) if (s := score(x, y)) is not None]
    heapq.heapify(heap)
    out: list[tuple[int, int, int]] = []
    while heap:
        share, count, d, x, y = heapq.heappop(heap)
        if owner.find(x) != x or owner.find(y) != y:
            continue  # one side merged since: its pairs were pushed again
        now = score(x, y)
        if now is None:
            continue
        if now != (share, count, d):
            heapq.heappush(heap, (*now, x, y))
            continue
        out.append((x, y, d))
        owner.union(x, y)
        keep, gone = min(x, y), max(x, y)
        for dep in deps[gone]:
            at[dep].discard(gone)
            at[dep].add(keep)
        deps[keep] |= deps.pop(gone)
        near = sorted({r for dep in deps[keep] for r in at[dep]} - {keep})
        for r in near:
            if (s := score(keep, r)) is not None:
                heapq.heappush(heap, (*s, min(keep, r), max(keep, r)))
    return out


@dataclass(frozen=True, slots=True)
class Settled:
    """The rule applied to a walk: its joins as the walk's log rows [a, b, reason, where]
    (reason ``R_CASHOUT``, where the deposit), the conflicts, and the groups (roots before
    the joins) that reached each deposit."""

    rows: np.ndarray
    conflicts: list[DepositConflict]
    reached: dict[int, set[int]]


def settle(
    parent: np.ndarray, payment_groups: np.ndarray, cash_addr: np.ndarray, cash_group: np.ndarray
) -> Settled:
    """Apply :func:`deposit_joins` to a walk that did not join at deposits.

    ``parent``: the walk's union-find over groups (its strong joins), updated in place
    with the deposit joins; ``payment_groups``: the group of every payment walked (a
    component's size is its payments); ``cash_addr``, ``cash_group``: one row per coin the
    walk saw reach a customer deposit address, and the group whose coin it was.
    """
    root = resolve(parent)
    size = np.bincount(root[payment_groups], minlength=len(parent))
    reached: dict[int, set[int]] = defaultdict(set)
    for a, grp in zip(cash_addr.tolist(), cash_group.tolist(), strict=True):
        reached[int(a)].add(int(root[grp]))
    joins, clashes = deposit_joins(reached, {int(r): int(size[r]) for r in distinct(root)})
    rows = np.zeros((len(joins), 4), dtype=np.int64)
    for i, j in enumerate(joins):
        ra, rb = root_of(parent, j.a), root_of(parent, j.b)
        parent[max(ra, rb)] = min(ra, rb)
        rows[i] = (j.a, j.b, R_CASHOUT, j.deposit)
    return Settled(rows, clashes, dict(reached))


def resolve(parent: np.ndarray) -> np.ndarray:
    """Each element's root in a union-find ``parent`` array."""
    root = parent.copy()
    while True:
        nxt = root[root]
        if np.array_equal(nxt, root):
            return root
        root = nxt


def root_of(parent: np.ndarray, x: int) -> int:
    """One element's root in a union-find ``parent`` array."""
    while parent[x] != x:
        x = int(parent[x])
    return x
