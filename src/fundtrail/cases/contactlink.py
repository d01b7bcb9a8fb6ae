"""Linking on what victims report about the perpetrator, without over-linking.

Runs after the chain has said what it can (same address, money that met): a victim whose
ransom never moved has no on-chain link to anyone, but the ransom note gave them the
gang's e-mail, and most of the gang's victims report that e-mail too.

Contacts are compared by their keyed index (:meth:`fundtrail.cases.crypto.PiiCipher.
contact_index`), never as text. Two rules keep a shared contact from merging what the
chain says are different campaigns:

* A contact held by two or more *established* groups (at least :data:`ESTABLISHED`
  payments each, not linked to each other) is a conflict: a victim's own bank's phone,
  a generic support line. It links nobody and is reported on both campaigns.
* Groups that are not established join through the remaining contacts only when all
  of them together reach at most one established group; reaching two is a conflict too
  (they stay as they are).

Evidence is taken strongest first, each kind group on the result of the one before:
e-mails and handles (one person's), then sites, then phones (the weakest: support lines
and victims' own numbers are common). So a lone victim who reports both the gang's
e-mail and their bank's phone joins the gang on the e-mail, and the phone, then held by
two established campaigns, is a conflict. Generic contacts (gmail.com as a site) never
get an index and never reach this module.

Everything here is a function of the groups and the contacts: sorted, no order of
arrival. It is pure (no store), for unit tests of the rules.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from fundtrail.cases.linking import Linker

SAME_CONTACT = "same-contact"
ESTABLISHED = 3  # payments: a group this large is a campaign in its own right
TIERS: tuple[tuple[str, ...], ...] = (("email", "handle"), ("site",), ("phone",))


@dataclass(frozen=True, slots=True)
class Conflict:
    """A contact shared by groups that were not merged: ``keys`` per group root."""

    kind: str
    index: str
    groups: tuple[tuple[str, ...], ...]  # payment keys holding it, one tuple per group


def detail(kind: str, index: str) -> str:
    """What a same-contact link stores: the kind and the keyed index, never the value."""
    return f"{kind}:{index}"


def parse_detail(text: str) -> tuple[str, str]:
    kind, _, index = text.partition(":")
    return kind, index


class _Sets:
    """A small union-find over group roots (which groups a tier would join)."""

    def __init__(self) -> None:
        self.parent: dict[str, str] = {}

    def find(self, x: str) -> str:
        self.parent.setdefault(x, x)
        while self.parent[x] != x:
            self.parent[x] = self.parent[self.parent[x]]
            x = self.parent[x]
        return x

    def union(self, a: str, b: str) -> None:
        ra, rb = sorted((self.find(a), self.find(b)))
        self.parent[rb] = ra


def _sizes(linker: Linker) -> dict[str, int]:
    return {g[0]: len(g) for g in linker.groups()}


def _tier(linker: Linker, holders: Mapping[tuple[str, str], list[str]]) -> None:
    """Join groups on one tier's contacts ({(kind, index): payment keys})."""
    size = _sizes(linker)
    established = {root for root, n in size.items() if n >= ESTABLISHED}
    root_of = {k: linker.find(k) for keys in holders.values() for k in keys}
    usable: dict[tuple[str, str], list[str]] = {}
    for contact, keys in holders.items():
        roots = {root_of[k] for k in keys}
        if len(roots) > 1 and len(roots & established) < 2:
            usable[contact] = keys
    small = _Sets()  # groups not established, joined by the tier's contacts
    for keys in usable.values():
        unsettled = sorted({root_of[k] for k in keys} - established)
        for r in unsettled:
            small.union(unsettled[0], r)
    reach: dict[str, set[str]] = defaultdict(set)  # small component: established it touches
    for keys in usable.values():
        roots = {root_of[k] for k in keys}
        (first, *_) = sorted(roots - established)
        reach[small.find(first)] |= roots & established
    for contact, keys in sorted(usable.items()):
        first = min({root_of[k] for k in keys} - established)
        if len(reach[small.find(first)]) > 1:
            continue  # together they reach two established campaigns: a conflict
        ordered = sorted(keys, key=lambda k: (root_of[k] not in established, k))
        for other in ordered[1:]:
            linker.union(ordered[0], other, SAME_CONTACT, detail(*contact))


def link_contacts(linker: Linker, contacts: Mapping[str, Iterable[tuple[str, str]]]) -> None:
    """Join the linker's groups on shared contacts ({payment key: (kind, index)})."""
    for kinds in TIERS:
        holders: dict[tuple[str, str], set[str]] = defaultdict(set)
        for key, found in contacts.items():
            for kind, index in found:
                if kind in kinds:
                    holders[(kind, index)].add(key)
        _tier(linker, {c: sorted(keys) for c, keys in holders.items()})


def conflicts(linker: Linker, contacts: Mapping[str, Iterable[tuple[str, str]]]) -> list[Conflict]:
    """Contacts still shared by different groups once linking is done."""
    holders: dict[tuple[str, str], dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for key, found in sorted(contacts.items()):
        for kind, index in found:
            holders[(kind, index)][linker.find(key)].append(key)
    return [
        Conflict(kind, index, tuple(tuple(by_root[r]) for r in sorted(by_root)))
        for (kind, index), by_root in sorted(holders.items())
        if len(by_root) > 1
    ]


__all__ = ["ESTABLISHED", "SAME_CONTACT", "Conflict", "conflicts", "link_contacts"]
