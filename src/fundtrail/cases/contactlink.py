"""Linking on what victims report about the perpetrator, without over-linking.

Runs after the chain has said what it can (same address, money that met): a victim whose
ransom never moved has no on-chain link to anyone, but the ransom note gave them the
gang's e-mail, and most of the gang's victims report that e-mail too.

Contacts are compared by their keyed index (:meth:`fundtrail.cases.crypto.PiiCipher.
contact_index`), never as text. Two rules keep a shared contact from merging what the
chain says are different campaigns:

* A contact held by two or more *established* groups (at least :data:`ESTABLISHED`
  payments each for its kind, not linked to each other) is a conflict: a victim's own
  bank's phone, a generic support line. It links nobody and is reported on both.
* Unless the contact is what *most* of each group's victims report (:data:`DOMINANT`, for
  e-mails, handles and sites): that is one operation's own contact, a scam's platform
  site that every fragment's victims name, and the groups join on it. A victim's bank
  phone or a support line is reported by a few victims of each, never by most.
  An e-mail or a handle is one person's, and many victims report no e-mail at all (a
  ransom paid without a word to the police about the note): for these, most of the
  group's victims *who report one of that kind* is enough, when at least
  :data:`PERSONAL_MIN` of them name it in each group. Two halves of a ransomware gang
  whose money the chain never joined (one half through a CoinJoin, the other peeled
  straight to fresh deposit addresses) meet on the note's e-mail even where only a
  third of the victims gave it (bench/indep_world.py, no hot consolidation, seed 4). A
  website is not one person's (a helpdesk page, a recovery service's site): it
  needs most of all the victims.
* A group that is not established joins the one established group its remaining
  contacts reach (in rounds: a lone victim may reach the gang through another lone
  victim who joined it). One that reaches two is a conflict too: it stays as it is, and
  joins nothing on weaker evidence later. Groups that reach no established one join
  each other on the contacts they share.

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
Holders = Mapping[tuple[str, str], list[str]]  # {(kind, index): payment keys, sorted}
# (kinds, payments that make a group established for them), strongest evidence first:
# a gang's fragments the chain has not joined yet (a few victims each) still meet on its
# e-mail, while two campaigns of ten victims or more are each a campaign in its own
# right; a phone joins only lone complaints (a group of two already stands on its own)
TIERS: tuple[tuple[tuple[str, ...], int], ...] = (
    (("email", "handle"), 10),
    (("site",), 10),
    (("phone",), 2),
)
ESTABLISHED = {kind: size for kinds, size in TIERS for kind in kinds}
# share of a group's payments whose victims report a contact for it to be the group's own
# (field style, seed 19: the scam's site named by 80% of every fragment's victims; the
# noise, a victim's own bank phone, by about 5%); phones are too weak to merge campaigns
DOMINANT = 0.5
DOMINANT_KINDS = frozenset({"email", "handle", "site"})
# why a shared contact did not merge, as a campaign's conflict says it
NOT_MERGED = (
    "campaigns that stand on their own join only on an e-mail, handle or site most of the "
    "victims of each name (an e-mail or handle: most of those who gave one, at least two), "
    "and a lone complaint only the one campaign its contacts reach"
)
# one person's contacts: dominance among the victims who report that kind, not all
PERSONAL_KINDS = frozenset({"email", "handle"})
PERSONAL_MIN = 2  # victims in each group naming it: one report may be a slip


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


def _established(linker: Linker, size: int) -> set[str]:
    return {g[0] for g in linker.groups() if len(g) >= size}


def _reach(
    linker: Linker, holders: Holders, anchors: set[str], frozen: set[str], of_frozen: bool = False
) -> dict[str, dict[str, tuple[str, str, tuple[str, str]]]]:
    """{unsettled group root: {established root: (key there, key here, contact)}} through
    the contacts that are not conflicts (held by two established groups or more); of the
    groups not frozen, or (``of_frozen``) of the frozen ones only."""
    reach: dict[str, dict[str, tuple[str, str, tuple[str, str]]]] = defaultdict(dict)
    for contact, keys in sorted(holders.items()):
        by_root: dict[str, str] = {}
        for k in keys:  # sorted: the first key of each group holding the contact
            by_root.setdefault(linker.find(k), k)
        big = sorted(set(by_root) & anchors)
        if len(big) > 1:
            continue
        for root, key in sorted(by_root.items()):
            if root not in anchors and (key in frozen) == of_frozen:
                for b in big:
                    reach[root].setdefault(b, (by_root[b], key, contact))
    return reach


def _reporters(linker: Linker, holders: Holders) -> dict[tuple[str, str], int]:
    """{(kind, group root): payments of the group that report a contact of that kind}."""
    keys: dict[tuple[str, str], set[str]] = defaultdict(set)
    for (kind, _), ks in holders.items():
        for k in ks:
            keys[(kind, linker.find(k))].add(k)
    return {kr: len(ks) for kr, ks in keys.items()}


def _own(kind: str, held: int, size: int, reporting: int) -> bool:
    """Whether a contact ``held`` payments of a group of ``size`` name is the group's own
    (``reporting``: how many of its payments report any contact of this kind)."""
    if held >= DOMINANT * size:
        return True
    return kind in PERSONAL_KINDS and held >= PERSONAL_MIN and held >= DOMINANT * reporting


def _join_dominant(linker: Linker, holders: Holders, size: int) -> None:
    """Join established groups on a contact that is each one's own (:func:`_own`)."""
    sizes: dict[str, int] = {}
    reporting: dict[tuple[str, str], int] = {}
    for (kind, index), keys in sorted(holders.items()):
        if kind not in DOMINANT_KINDS:
            continue
        if not sizes:  # (again) after a union: groups and their reporters changed
            sizes = {linker.find(g[0]): len(g) for g in linker.groups()}
            reporting = _reporters(linker, holders)
        held: dict[str, list[str]] = defaultdict(list)
        for k in keys:
            held[linker.find(k)].append(k)
        own = sorted(
            ks[0]
            for root, ks in held.items()
            if sizes[root] >= size and _own(kind, len(ks), sizes[root], reporting[(kind, root)])
        )
        for other in own[1:]:
            if linker.union(own[0], other, SAME_CONTACT, detail(kind, index)):
                sizes = {}


def _tier(
    linker: Linker, holders: Holders, size: int, frozen: set[str], dominant: bool = True
) -> None:
    """Join groups on one tier's contacts; ``frozen`` collects keys of groups that reached
    two established campaigns (they join nothing, in this tier or a later one). Campaigns
    join each other (``dominant``) on the groups the chain and the stronger tiers made,
    never on complaints that joined them on contacts since: one victim who named both
    gangs' contacts must not make two campaigns one."""
    if dominant:
        _join_dominant(linker, holders, size)
    anchor_keys = _established(linker, size)
    while True:
        anchors = {linker.find(k) for k in anchor_keys}
        reach = _reach(linker, holders, anchors, frozen)
        members = {g[0]: g for g in linker.groups()}
        joined = False
        for root, found in sorted(reach.items()):
            if len(found) == 1:
                ((there, here, contact),) = found.values()
                joined |= linker.union(there, here, SAME_CONTACT, detail(*contact))
            else:  # reaches two established campaigns: no way to tell which
                frozen.update(members[root])
        if not joined:
            break
    anchors = {linker.find(k) for k in anchor_keys}
    for contact, keys in sorted(holders.items()):  # groups that reach no campaign: each other
        if any(linker.find(k) in anchors for k in keys):
            continue
        free = [k for k in keys if k not in frozen]
        for other in free[1:]:
            linker.union(free[0], other, SAME_CONTACT, detail(*contact))


def _settle_frozen(linker: Linker, tiers: list[tuple[Holders, int]], frozen: set[str]) -> None:
    """A group frozen for reaching two campaigns joins them once they are one.

    The strongest tier decides first (e-mails and handles): a scam's victim who named two
    of its account managers' handles reached two fragments of the scam that only its
    platform's site (a weaker tier) joined later; the fragments are one campaign now,
    so the ambiguity is gone. The first tier in which a frozen group reaches any campaign
    decides: one campaign, it joins; still two, it stays frozen (no weaker evidence may
    decide instead)."""
    while frozen:
        members = {linker.find(g[0]): g for g in linker.groups()}
        decided: dict[str, dict[str, tuple[str, str, tuple[str, str]]]] = {}
        for holders, size in tiers:
            anchors = {linker.find(k) for k in _established(linker, size)}
            for root, found in _reach(linker, holders, anchors, frozen, of_frozen=True).items():
                decided.setdefault(root, found)
        joined = False
        for root, found in sorted(decided.items()):
            if len(found) == 1:
                ((there, here, contact),) = found.values()
                frozen.difference_update(members[root])
                joined |= linker.union(there, here, SAME_CONTACT, detail(*contact))
        if not joined:
            return


def link_contacts(linker: Linker, contacts: Mapping[str, Iterable[tuple[str, str]]]) -> None:
    """Join the linker's groups on shared contacts ({payment key: (kind, index)})."""
    frozen: set[str] = set()
    tiers: list[tuple[Holders, int]] = []
    for kinds, size in TIERS:
        holders: dict[tuple[str, str], set[str]] = defaultdict(set)
        for key, found in contacts.items():
            for kind, index in found:
                if kind in kinds:
                    holders[(kind, index)].add(key)
        tiers.append(({c: sorted(keys) for c, keys in holders.items()}, size))
    # again while anything joins: a weaker tier may make one campaign of groups a stronger
    # tier's contact was held by (a scam's fragments, each naming its account managers'
    # handles, joined by its platform's site); the handle then reaches one campaign only
    joins, first = -1, True
    while joins != len(linker.links):
        joins = len(linker.links)
        for held, size in tiers:
            _tier(linker, held, size, frozen, dominant=first)
        _settle_frozen(linker, tiers, frozen)
        first = False


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


__all__ = ["ESTABLISHED", "NOT_MERGED", "SAME_CONTACT", "Conflict", "conflicts", "link_contacts"]
