"""Campaign linking: complaints joined by shared evidence, each join with its reason.

A union-find over payment keys (``chain:txid:vout``; several organisations may report
the same payment, which is then one key). Victims who paid the same address join
first; then the chain walk of :mod:`fundtrail.analysis.link` says where the groups'
money met (spent together, rested at the same wallet or cash-out deposit address).
Every union that joins two groups is kept as a :class:`Link` naming the reason and
the shared thing, so a campaign can always say why a complaint belongs to it.

A campaign's id is derived from its content alone: the earliest payment of the group
(by block height, then payment key) names it. So the same complaints and chain give
the same campaigns and ids whatever was run before; when two campaigns merge, the
one holding the earliest payment keeps its id and the other is recorded as merged
into it (its id still leads there).
"""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from fundtrail.analysis.link.coinjoin import THROUGH_COINJOIN
from fundtrail.analysis.link.meet import SAME_CASHOUT, SAME_DOWNSTREAM, SPENT_TOGETHER
from fundtrail.analysis.link.mixer import THROUGH_MIXER

SAME_ADDRESS = "same-address"
REASONS = (SAME_ADDRESS, SPENT_TOGETHER, SAME_DOWNSTREAM, SAME_CASHOUT, THROUGH_MIXER,
           THROUGH_COINJOIN)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Link:
    a: str  # complaint key already in the group
    b: str  # complaint key that joined through this link
    reason: str
    detail: str  # the shared address, txid or deposit address (chain-prefixed)

    def to_dict(self) -> dict[str, str]:
        return {"a": self.a, "b": self.b, "reason": self.reason, "detail": self.detail}


@dataclass(frozen=True, slots=True)
class DepositClash:
    """A customer deposit address (chain-prefixed) that the money of several groups reached
    without joining them (:mod:`fundtrail.analysis.link.deposits`): a key of each side."""

    deposit: str
    keys: tuple[str, ...]


class Linker:
    """Union-find with an explanation for every union."""

    def __init__(self, keys: Iterable[str]) -> None:
        self._parent: dict[str, str] = {k: k for k in sorted(set(keys))}
        self.links: list[Link] = []

    def find(self, key: str) -> str:
        root = key
        while self._parent[root] != root:
            root = self._parent[root]
        while self._parent[key] != root:  # path compression
            self._parent[key], key = root, self._parent[key]
        return root

    def union(self, a: str, b: str, reason: str, detail: str) -> bool:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return False
        lo, hi = sorted((ra, rb))  # the smaller key stays root: order-independent result
        self._parent[hi] = lo
        self.links.append(Link(a, b, reason, detail))
        return True

    def join_on(self, reason: str, values: Mapping[str, Iterable[str]]) -> int:
        """Join every pair of keys sharing a value; returns how many unions happened."""
        holders: dict[str, list[str]] = defaultdict(list)
        for key, vals in values.items():
            for v in set(vals):
                holders[v].append(key)
        joined = 0
        for value in sorted(holders):
            keys = sorted(holders[value])
            for other in keys[1:]:
                joined += self.union(keys[0], other, reason, value)
        return joined

    def groups(self) -> list[list[str]]:
        out: dict[str, list[str]] = defaultdict(list)
        for key in self._parent:
            out[self.find(key)].append(key)
        return sorted((sorted(g) for g in out.values()), key=lambda g: g[0])

    def links_of(self, group: Iterable[str]) -> list[Link]:
        members = set(group)
        return [lk for lk in self.links if lk.a in members]


def new_campaign_id(first_key: str) -> str:
    return "CMP-" + hashlib.sha256(first_key.encode()).hexdigest()[:10].upper()


def assign_ids(
    groups: list[list[str]],
    previous: Mapping[str, str],
    order: Callable[[str], tuple[int, str]] = lambda key: (0, key),
) -> tuple[dict[str, list[str]], dict[str, str]]:
    """Name each group after its earliest member (``order``); say which old ids merged.

    Returns ``({campaign_id: members}, {retired_id: id_its_members_went_to})``, where
    ``previous`` is each key's campaign before this run. Ids depend on the groups only.
    """
    result = {new_campaign_id(min(group, key=order)): group for group in groups}
    where = {k: cid for cid, group in result.items() for k in group}
    merged: dict[str, str] = {}
    for old in sorted(set(previous.values()) - set(result)):
        went = Counter(where[k] for k, cid in previous.items() if cid == old and k in where)
        if went:
            merged[old] = min(went.items(), key=lambda kv: (-kv[1], kv[0]))[0]
    return result, merged
