"""Campaign linking: complaints joined by shared evidence, each join with its reason.

A union-find over complaint keys. Evidence is applied in rounds of decreasing
strength (the same destination address, then the same cluster, then traced funds
meeting at the same downstream wallet or cash-out deposit address); every union
that joins two groups is kept as a :class:`Link` naming the reason and the shared
thing, so a campaign can always say why a complaint belongs to it.

Campaign ids are stable across re-runs: a group keeps the id that most of its
members already had, and a new group gets an id derived from its first member's
payment key (so the same complaints give the same ids in any workspace).
"""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

SAME_ADDRESS = "same-address"
SAME_CLUSTER = "same-cluster"
SAME_DOWNSTREAM = "same-downstream-wallet"
SAME_CASHOUT = "same-cashout-deposit"
REASONS = (SAME_ADDRESS, SAME_CLUSTER, SAME_DOWNSTREAM, SAME_CASHOUT)


@dataclass(frozen=True, slots=True)
class Link:
    a: str  # complaint key already in the group
    b: str  # complaint key that joined through this link
    reason: str
    detail: str  # the shared address, cluster id or deposit address

    def to_dict(self) -> dict[str, str]:
        return {"a": self.a, "b": self.b, "reason": self.reason, "detail": self.detail}


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
    groups: list[list[str]], previous: Mapping[str, str]
) -> tuple[dict[str, list[str]], dict[str, str]]:
    """Give each group a campaign id, keeping the ids complaints already had.

    Returns ``({campaign_id: members}, {retired_id: id_it_merged_into})``.
    """
    claims: list[tuple[int, str, int]] = []  # (-members who had it, id, group index)
    for gi, group in enumerate(groups):
        counts = Counter(previous[k] for k in group if k in previous)
        for cid, n in counts.items():
            claims.append((-n, cid, gi))
    taken: dict[str, int] = {}
    chosen: dict[int, str] = {}
    for _neg, cid, gi in sorted(claims):
        if cid not in taken and gi not in chosen:
            taken[cid] = gi
            chosen[gi] = cid
    result: dict[str, list[str]] = {}
    for gi, group in enumerate(groups):
        kept = chosen.get(gi)
        if kept is not None:
            result[kept] = group
            continue
        cid, n = new_campaign_id(group[0]), 1
        while cid in taken or cid in result:
            n += 1
            cid = new_campaign_id(f"{group[0]}#{n}")
        result[cid] = group
    merged: dict[str, str] = {}
    for old in sorted(set(previous.values()) - set(result)):
        holders = Counter(
            cid for cid, group in result.items() for k in group if previous.get(k) == old
        )
        if holders:
            merged[old] = holders.most_common(1)[0][0]
    return result, merged
