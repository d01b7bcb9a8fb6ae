"""Linked campaigns judged against the simulator's truth (issue 14: "campaigns exact").

A true campaign is *exact* when one linked campaign holds exactly its complaints (same
set, so the same count) and the same total loss in base units, per asset. Near misses
are told apart because they have different causes. A *split* is the linker missing
evidence that exists, or a complaint that carries no evidence at all. A *merge* is the
linker joining two gangs. ``exact_linkable`` forgives only the second kind of split: a
complaint with no evidence (its paid address never moved, no other victim's money met it,
no perpetrator contact reported) may stand alone in a campaign of one. It forgives nothing
else. It is a separate judgement so that ``exact`` stays the goal and is never softened.

Pure functions over plain data (truth.json's campaigns, the linked campaigns' complaint
refs and totals), so a tiny hand-made case tests them; ``bench/forensics.py`` feeds
them the real worlds.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

CONTACT_COLUMNS = ("perpetrator_email", "perpetrator_site", "perpetrator_phone",
                   "perpetrator_handle")  # fmt: skip


@dataclass(frozen=True, slots=True)
class Linked:
    """One linked campaign as the CLI shows it: its complaints' refs, its total loss."""

    id: str
    refs: frozenset[str]
    total_loss: Mapping[str, int]  # asset key -> base units (``CampaignView.total_loss``)


@dataclass(frozen=True, slots=True)
class Outcome:
    """How one true campaign came out of linking."""

    truth_id: str
    complaints: int
    exact: bool
    exact_linkable: bool
    why: str  # "exact", or what went wrong (split, merged, missing, loss)


def judge(
    truth_campaigns: Iterable[Mapping[str, Any]],
    linked: Iterable[Linked],
    unlinkable: set[str],
    key: Callable[[str], str] = str,
    islanded: set[str] | frozenset[str] = frozenset(),
) -> list[Outcome]:
    """One outcome per true campaign. ``key`` maps truth's asset names (``USDT``) to
    the linked campaigns' asset keys (``ETH/USDT``); ``unlinkable``: complaint refs with
    no evidence that could link them (see :func:`unlinkable_complaints`); ``islanded``:
    refs apart from the rest of their campaign on the evidence (see
    :func:`evidence_islands`), named in ``why`` only: they change no judgement."""
    camps = list(linked)
    owner = {r: t["id"] for t in truth_campaigns for r in t["complaint_ids"]}
    out = []
    for t in truth_campaigns:
        want = set(t["complaint_ids"])
        loss = {key(a): int(v) for a, v in t["total_loss"].items()}
        touching = sorted((c for c in camps if c.refs & want), key=lambda c: -len(c.refs & want))
        held = set().union(*(c.refs for c in touching)) if touching else set()
        summed: dict[str, int] = {}
        for c in touching:
            for a, v in c.total_loss.items():
                summed[a] = summed.get(a, 0) + int(v)
        exact = len(touching) == 1 and touching[0].refs == want
        exact = exact and dict(touching[0].total_loss) == loss
        alone_ok = all(len(c.refs) == 1 and c.refs <= unlinkable for c in touching[1:])
        linkable = bool(touching) and held == want and summed == loss and alone_ok
        out.append(Outcome(t["id"], len(want), exact, linkable,
                           "exact" if exact else _why(want, touching, owner, loss,
                                                      summed, unlinkable,
                                                      set(islanded))))  # fmt: skip
    return out


def _why(
    want: set[str],
    touching: list[Linked],
    owner: Mapping[str, str],
    loss: Mapping[str, int],
    summed: Mapping[str, int],
    unlinkable: set[str],
    islanded: set[str],
) -> str:
    """What a person fixing the linker needs: the pieces, who else was merged in, what
    is missing, which lone complaints had no evidence to link them, and which pieces
    hold only complaints the evidence keeps apart (an island: no linking fault)."""
    parts = []
    if len(touching) > 1:
        sizes = " + ".join(str(len(c.refs & want)) for c in touching[:8])
        more = f" + {len(touching) - 8} more" if len(touching) > 8 else ""
        lone = sorted(r for c in touching[1:] if len(c.refs) == 1 for r in c.refs)
        free = [r for r in lone if r in unlinkable]
        apart = [c for c in touching[1:] if c.refs & want <= islanded]
        parts.append(f"split into {len(touching)} campaigns ({sizes}{more})"
                     + (f"; alone: {', '.join(lone[:5])}" if lone else "")
                     + (f" ({len(free)} with no evidence)" if lone else "")
                     + (f"; {len(apart)} of the pieces ("
                        + ", ".join(str(len(c.refs & want)) for c in apart[:8])
                        + ") an evidence island: their money never meets the rest's, "
                        "no contact shared" if apart else ""))  # fmt: skip
    foreign: dict[str, int] = {}
    for c in touching:
        for r in c.refs - want:
            foreign[owner.get(r, "?")] = foreign.get(owner.get(r, "?"), 0) + 1
    if foreign:
        parts.append("merged with " + ", ".join(f"{n} of {t}" for t, n in sorted(foreign.items())))
    missing = want - set().union(*(c.refs for c in touching)) if touching else want
    if missing:
        parts.append(
            f"{len(missing)} complaint{'s' * (len(missing) != 1)} in no campaign ({', '.join(sorted(missing)[:3])})"
        )
    if not foreign and not missing and summed != loss:
        parts.append(f"total loss {dict(summed)} != truth {dict(loss)}")
    return "; ".join(parts) or "not exact"


def unlinkable_complaints(
    complaints: Iterable[Mapping[str, str]],
    moved: set[str],
    paid_by: Mapping[str, set[str]],
) -> set[str]:
    """Complaint ids with no evidence that could link them to any other complaint:
    no perpetrator contact reported, the paid address paid by no other complaint, never
    sent anything (``moved``: addresses that ever spent), and paid by none of the other
    complaints' paid addresses (``paid_by``: address -> the addresses that paid into it,
    one hop; a gang moving one victim's money onto another's address is evidence).
    Addresses are compared as given: the caller spells them one way."""
    rows = list(complaints)
    by_address: dict[str, set[str]] = {}
    for r in rows:
        by_address.setdefault(r["to_address"], set()).add(r["complaint_id"])
    out = set()
    for r in rows:
        a = r["to_address"]
        if any((r.get(col) or "").strip() for col in CONTACT_COLUMNS):
            continue
        if by_address[a] != {r["complaint_id"]} or a in moved:
            continue
        if any(p != a and p in by_address for p in paid_by.get(a, set())):
            continue
        out.add(r["complaint_id"])
    return out


def evidence_islands(
    truth_campaigns: Iterable[Mapping[str, Any]],
    complaints: Iterable[Mapping[str, str]],
    met: Iterable[tuple[str, str, str]],
    contacts: Callable[[Mapping[str, str]], Iterable[str]] | None = None,
) -> set[str]:
    """Complaint ids that the evidence keeps apart from the rest of their true campaign.

    :func:`unlinkable_complaints` asks one complaint at a time; a few victims whose
    ransoms the gang consolidated together, peeled into single-use deposits and a
    mixer, are linked to each other but to nobody else, and pass it. Here the evidence
    is a graph: a complaint is joined to its paid address and to every perpetrator
    contact it reported (``contacts(row)``: the values compared; by default each
    column's text trimmed and case-folded); ``met`` rows
    ``(campaign, address, address)`` say two addresses are one wallet's or one place's
    for that true campaign's gang (the caller reads them from the chain and truth's
    owners: the gang's own txs, the deposits they paid). The campaign's largest
    component is the campaign; its complaints elsewhere are returned.

    The rows stand for money that meets; a custodial mixer's order and its payouts count
    as met (the caller reads the pairs from the truth; on chain only amounts and times tie
    them, which the linker's ``through-mixer`` rule weighs), so an island is what even a
    perfect mixer matcher could not join.
    """
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def union(a: str, b: str) -> None:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)

    owner = {r: t["id"] for t in truth_campaigns for r in t["complaint_ids"]}
    for r in complaints:
        cid = r["complaint_id"]
        camp = owner.get(cid)
        if camp is None:
            continue
        union(f"c:{cid}", f"a:{camp}:{r['to_address']}")
        for value in (contacts or _contact_texts)(r):
            union(f"c:{cid}", f"k:{camp}:{value}")
    for camp, a, b in met:
        union(f"a:{camp}:{a}", f"a:{camp}:{b}")
    out: set[str] = set()
    by_camp: dict[str, dict[str, list[str]]] = {}
    for cid, camp in owner.items():
        if f"c:{cid}" in parent:
            by_camp.setdefault(camp, {}).setdefault(find(f"c:{cid}"), []).append(cid)
    for groups in by_camp.values():
        ordered = sorted(groups.values(), key=lambda g: (-len(g), min(g)))
        for g in ordered[1:]:
            out.update(g)
    return out


def _contact_texts(row: Mapping[str, str]) -> list[str]:
    return [
        f"{col}:{v}" for col in CONTACT_COLUMNS if (v := (row.get(col) or "").strip().casefold())
    ]
