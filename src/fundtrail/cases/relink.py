"""Link every confirmed complaint into campaigns, and keep them current.

Read everything, compute, then write in one short transaction (the chain walk and the
traces take seconds and must not hold the store's write lock). Complaints the chain
did not confirm are checked again first: newly ingested blocks may confirm them now.

Linking: payments to the same address join; then one forward walk from every payment
at once (:func:`fundtrail.analysis.link.meet.meetings`) says where the groups' money
met. Campaign ids come from their content (:func:`fundtrail.cases.linking.assign_ids`),
so the result does not depend on what was run before. Cash-outs are not traced here:
:mod:`fundtrail.cases.cashouts` traces a campaign when it is read and its members or
inputs changed.

Every run records the inputs it read (:mod:`fundtrail.cases.freshness`); reads compare
them with the stores and relink (CLI) or say the campaigns are stale (API, web).
"""

from __future__ import annotations

import threading
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from fundtrail.analysis.link.meet import Payment, meetings
from fundtrail.cases.complaints import ComplaintInput
from fundtrail.cases.contactlink import Conflict, conflicts, link_contacts
from fundtrail.cases.freshness import (
    Inputs,
    current_inputs,
    record_inputs,
    staleness,
)
from fundtrail.cases.linking import SAME_ADDRESS, DepositClash, Linker, assign_ids
from fundtrail.cases.verify import VERIFIED, verify_payments
from fundtrail.intelstore import audit
from fundtrail.intelstore.base import utcnow
from fundtrail.intelstore.cases import (
    Campaign,
    CampaignLink,
    Case,
    CaseComplaint,
    CaseOrg,
    Complaint,
    ComplaintContact,
    ContactConflict,
    DepositConflict,
)
from fundtrail.intelstore.db import IntelStore


@dataclass(slots=True)
class LinkReport:
    campaigns: int = 0
    created: list[str] = field(default_factory=list)
    merged: dict[str, str] = field(default_factory=dict)
    linked: int = 0
    confirmed: int = 0  # complaints newly confirmed by the chain
    notes: list[str] = field(default_factory=list)
    reasons: dict[str, int] = field(default_factory=dict)  # links kept, per reason
    contact_conflicts: int = 0  # contacts shared by campaigns that were not merged
    deposit_conflicts: int = 0  # deposit addresses campaigns not merged both reached

    def to_dict(self) -> dict[str, Any]:
        return {
            "campaigns": self.campaigns,
            "created": self.created,
            "merged": self.merged,
            "complaints_linked": self.linked,
            "newly_confirmed": self.confirmed,
            "links": self.reasons,
            "contact_conflicts": self.contact_conflicts,
            "deposit_conflicts": self.deposit_conflicts,
            "notes": self.notes,
        }

    def summary(self) -> str:
        lines = [
            f"{self.linked} complaint(s) in {self.campaigns} campaign(s); "
            f"{len(self.created)} new, {len(self.merged)} merged"
        ]
        if self.confirmed:
            lines.append(f"{self.confirmed} complaint(s) newly confirmed by the chain")
        if self.contact_conflicts:
            lines.append(
                f"{self.contact_conflicts} reported contact(s) shared by campaigns linked "
                "apart on chain: not merged (see campaign show)"
            )
        if self.deposit_conflicts:
            lines.append(
                f"{self.deposit_conflicts} deposit address(es) reached by campaigns that "
                "each stand on their own evidence: not merged (see campaign show)"
            )
        return "\n".join(lines + self.notes)


def _as_input(r: Complaint) -> ComplaintInput:
    return ComplaintInput(
        victim="",
        chain=r.chain,
        txid=r.txid,
        vout=None if r.vout < 0 else r.vout,
        to_address=r.to_address,
        amount=int(r.amount),
        asset=r.asset,
    )


def _order(by_key: dict[str, list[Complaint]]) -> Any:
    """Sort key of payments: block height, then payment key (names a campaign)."""
    big = 2**62

    def order(key: str) -> tuple[int, str]:
        height = by_key[key][0].height
        return (big if height is None else int(height), key)

    return order


def group_payments(
    by_key: dict[str, list[Complaint]], home: Path | None
) -> tuple[Linker, list[DepositClash]]:
    """The linker after every join: same address, then where the chain walk met; and the
    deposits the walk found reached by groups it did not join."""
    linker = Linker(by_key)
    linker.join_on(
        SAME_ADDRESS, {k: [f"{rows[0].chain}:{rows[0].to_address}"] for k, rows in by_key.items()}
    )
    groups = linker.groups()
    index = {k: gi for gi, g in enumerate(groups) for k in g}
    by_chain: dict[str, list[Payment]] = defaultdict(list)
    for key, rows in sorted(by_key.items()):
        r = rows[0]
        by_chain[r.chain].append(
            Payment(index[key], r.txid, None if r.vout < 0 else r.vout, int(r.amount))
        )
    clashes = []
    for chain, payments in sorted(by_chain.items()):
        found = meetings(chain, payments, len(groups), home)
        for m in found.meetings:
            linker.union(groups[m.a][0], groups[m.b][0], m.reason, f"{chain}:{m.where}")
        clashes += [
            DepositClash(f"{chain}:{c.where}", tuple(groups[g][0] for g in c.groups))
            for c in found.conflicts
        ]
    return linker, clashes


def link_campaigns(
    store: IntelStore,
    *,
    home: Path | None = None,
    actor: Any = "cli",
) -> LinkReport:
    """Group confirmed complaints into campaigns, with reasons; returns what changed."""
    report = LinkReport()
    with store.read_session() as s:
        inputs = current_inputs(s, home)
        rows = list(s.scalars(sa.select(Complaint).order_by(Complaint.created, Complaint.id)))
        reported = _contacts(s)
        before = {c.id: c for c in s.scalars(sa.select(Campaign))}
        for c in before.values():
            s.expunge(c)
    pending = [r for r in rows if r.status != VERIFIED]
    rechecked = dict(
        zip(
            [r.id for r in pending],
            verify_payments([_as_input(r) for r in pending], home),
            strict=True,
        )
    )
    for r in pending:
        v = rechecked[r.id]
        if v.ok:
            r.height = v.height
    confirmed = [
        r for r in rows if r.status == VERIFIED or (r.id in rechecked and rechecked[r.id].ok)
    ]
    by_key: dict[str, list[Complaint]] = defaultdict(list)
    for r in confirmed:
        by_key[r.payment_key].append(r)
    linker, deposit_clashes = group_payments(by_key, home)
    contacts = {
        k: sorted({c for r in rs for c in reported.get(r.id, ())}) for k, rs in by_key.items()
    }
    link_contacts(linker, contacts)
    clashes = conflicts(linker, contacts)
    apart = [c for c in deposit_clashes if len({linker.find(k) for k in c.keys}) > 1]
    previous = {r.payment_key: r.campaign_id for r in confirmed if r.campaign_id}
    assigned, report.merged = assign_ids(linker.groups(), previous, _order(by_key))
    _write(store, assigned, report, by_key, rechecked, linker, inputs, actor)
    _write_conflicts(store, assigned, by_key, clashes, apart)
    kept = [lk for g in assigned.values() for lk in linker.links_of(g)]
    report.reasons = dict(sorted(Counter(lk.reason for lk in kept).items()))
    report.contact_conflicts = len(clashes)
    report.deposit_conflicts = len({c.deposit for c in apart})
    report.created = sorted(c for c in assigned if c not in before)
    report.campaigns = len(assigned)
    report.linked = sum(len(by_key[k]) for g in assigned.values() for k in g)
    report.confirmed = sum(1 for v in rechecked.values() if v.ok)
    return report


def _contacts(s: Any) -> dict[str, set[tuple[str, str]]]:
    """{complaint id: its linkable contacts as (kind, keyed index)}; values stay sealed."""
    out: dict[str, set[tuple[str, str]]] = defaultdict(set)
    q = sa.select(
        ComplaintContact.complaint_id, ComplaintContact.kind, ComplaintContact.value_index
    )
    for complaint_id, kind, index in s.execute(q.where(ComplaintContact.value_index.is_not(None))):
        out[complaint_id].add((kind, index))
    return out


def _write_conflicts(
    store: IntelStore,
    assigned: dict[str, list[str]],
    by_key: dict[str, list[Complaint]],
    clashes: list[Conflict],
    deposits: list[DepositClash],
) -> None:
    """Replace the conflicts: one row per campaign holding a contact another one holds,
    and per campaign whose money reached a deposit another one's reached."""
    where = {k: cid for cid, group in assigned.items() for k in group}
    reached: dict[str, set[str]] = defaultdict(set)
    for d in deposits:
        reached[d.deposit].update(where[k] for k in d.keys)
    with store.session() as s:
        s.execute(sa.delete(DepositConflict))
        for deposit, held in sorted(reached.items()):
            for cid in sorted(held):
                s.add(DepositConflict(campaign_id=cid, deposit=deposit,
                                      others=sorted(held - {cid})))  # fmt: skip
        s.execute(sa.delete(ContactConflict))
        for c in clashes:
            camps = [where[keys[0]] for keys in c.groups]
            for cid, keys in zip(camps, c.groups, strict=True):
                s.add(
                    ContactConflict(
                        campaign_id=cid,
                        kind=c.kind,
                        value_index=c.index,
                        others=sorted(set(camps) - {cid}),
                        complaints=sorted(r.id for k in keys for r in by_key[k]),
                    )
                )


def _write(
    store: IntelStore,
    assigned: dict[str, list[str]],
    report: LinkReport,
    by_key: dict[str, list[Complaint]],
    rechecked: dict[str, Any],
    linker: Linker,
    inputs: Inputs,
    actor: Any,
) -> None:
    now = utcnow()
    ids = {k: rows[0].id for k, rows in by_key.items()}
    with store.session() as s:
        for cid, v in rechecked.items():
            row = s.get(Complaint, cid)
            if row is not None:
                row.status, row.status_detail = v.status, v.message
                if v.time is not None:
                    row.paid_at, row.height = datetime.fromtimestamp(v.time, UTC), v.height
        s.execute(sa.update(Complaint).values(campaign_id=None))
        s.execute(sa.delete(CampaignLink))
        for cid, group in assigned.items():
            camp = s.get(Campaign, cid)
            if camp is None:
                camp = Campaign(id=cid, created=now, cashouts=[], trace_params={})
                s.add(camp)
            if camp.status != "active":
                camp.updated = now
            camp.status, camp.merged_into = "active", None
            s.flush()
            members = [r.id for k in group for r in by_key[k]]
            for i in range(0, len(members), 500):
                s.execute(
                    sa.update(Complaint)
                    .where(Complaint.id.in_(members[i : i + 500]))
                    .values(campaign_id=cid)
                )
            for lk in linker.links_of(group):
                s.add(
                    CampaignLink(
                        campaign_id=cid,
                        complaint_a=ids[lk.a],
                        complaint_b=ids[lk.b],
                        reason=lk.reason,
                        detail=lk.detail[:300],
                    )
                )
        for old, new in report.merged.items():
            camp = s.get(Campaign, old)
            if camp is not None:
                camp.status, camp.merged_into, camp.updated = "merged", new, now
            _carry_case(s, old, new)
        gone = sa.update(Campaign).where(
            Campaign.id.not_in([*assigned, *report.merged]), Campaign.status == "active"
        )
        s.execute(gone.values(status="empty", updated=now))
        record_inputs(s, inputs)
        audit.record(
            s,
            actor,
            "campaign.link",
            "campaign",
            None,
            {"campaigns": len(assigned), "merged": report.merged},
        )


def _carry_case(s: Any, old: str, new: str) -> None:
    """A merged campaign's case goes with its complaints: moved to the surviving
    campaign, or, when that has a case already, its orgs are added to that case."""
    moved = s.scalars(sa.select(Case).where(Case.campaign_id == old)).first()
    if moved is None:
        return
    kept = s.scalars(sa.select(Case).where(Case.campaign_id == new)).first()
    if kept is None:
        moved.campaign_id = new
        s.flush()
        return
    have = set(s.scalars(sa.select(CaseOrg.org_id).where(CaseOrg.case_id == kept.id)))
    members = set(s.scalars(sa.select(CaseOrg.org_id).where(CaseOrg.case_id == moved.id)))
    carried = members | ({moved.owner_org_id} - {None})
    for org_id in sorted(carried - have - {kept.owner_org_id}):
        s.add(CaseOrg(case_id=kept.id, org_id=org_id))
    accepted = CaseComplaint.complaint_id
    had = set(s.scalars(sa.select(accepted).where(CaseComplaint.case_id == kept.id)))
    brought = set(s.scalars(sa.select(accepted).where(CaseComplaint.case_id == moved.id)))
    s.add_all(CaseComplaint(case_id=kept.id, complaint_id=c) for c in sorted(brought - had))


def relink_if_stale(store: IntelStore, home: Path | None = None, actor: Any = "cli") -> str | None:
    """Relink when the inputs moved on since the last run; returns what was said, if any."""
    with store.read_session() as s:
        stale = staleness(s, home)
    if stale is None:
        return None
    link_campaigns(store, home=home, actor=actor)
    return stale.message()


class LinkScheduler:
    """Re-link after API writes without piling up runs: one at a time, and one more if
    complaints arrived while it ran (a burst of single POSTs costs two runs, not N)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running = False
        self._again = False

    def run(self, store: IntelStore, home: Path | None = None, actor: Any = "api") -> None:
        with self._lock:
            if self._running:
                self._again = True
                return
            self._running = True
        try:
            while True:
                self._again = False
                link_campaigns(store, home=home, actor=actor)
                with self._lock:
                    if not self._again:
                        self._running = False
                        return
        except BaseException:
            with self._lock:
                self._running = False
            raise

    def refresh(self, store: IntelStore, home: Path | None = None, actor: Any = "api") -> None:
        """Bring campaigns and their cash-outs up to date (a stale read's background job)."""
        from fundtrail.cases.cashouts import refresh_cashouts

        with store.read_session() as s:
            stale = staleness(s, home)
        if stale is not None:
            self.run(store, home, actor)
        refresh_cashouts(store, home=home)


SCHEDULER = LinkScheduler()  # the server's one: every route that relinks shares it
