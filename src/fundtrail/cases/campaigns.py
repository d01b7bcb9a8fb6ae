"""The read side of campaigns, and cases: views per reader, open a case, share it.

Views are built here with personal data decrypted only where
:mod:`fundtrail.cases.access` allows; a campaign the reader may not see is
answered exactly like a missing one.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from fundtrail.analysis.link.deposits import NOT_MERGED as DEPOSITS_NOT_MERGED
from fundtrail.cases.access import (
    accepted_complaints,
    case_orgs,
    counts,
    may_see_pii,
    visible_campaign_ids,
)
from fundtrail.cases.cashouts import campaign_payments, is_current
from fundtrail.cases.contactlink import SAME_CONTACT
from fundtrail.cases.contactviews import Contacts, conflicts_of
from fundtrail.cases.crypto import PiiCipher
from fundtrail.cases.freshness import STAMP, current_inputs, staleness
from fundtrail.cases.intake import AAD_CONTACT, AAD_TEXT, AAD_VICTIM
from fundtrail.cases.tracing import TraceParams
from fundtrail.cases.views import CampaignView, CashoutView, ComplaintView
from fundtrail.errors import NotFoundError, PermissionDeniedError
from fundtrail.intelstore import audit
from fundtrail.intelstore.cases import (
    Campaign,
    CampaignLink,
    Case,
    CaseComplaint,
    CaseOrg,
    Complaint,
    DepositConflict,
)
from fundtrail.intelstore.db import IntelStore
from fundtrail.intelstore.groupcommit import group_writer
from fundtrail.intelstore.models import Org
from fundtrail.intelstore.orgs import orgs_by_names
from fundtrail.model.identity import Identity


def _cashout(d: dict[str, Any]) -> CashoutView:
    t = d.get("time")
    return CashoutView(
        exchange=d["exchange"], category=d.get("category"),
        deposit_address=d.get("deposit_address"), address=d.get("address") or "",
        amount=int(d["amount"]), asset=d["asset"], txid=d.get("txid"),
        time=datetime.fromisoformat(t.replace("Z", "+00:00")) if t else None,
        hops=d.get("hops"), chain=d.get("chain", "BTC"),
        deposit_identified=bool(d.get("deposit_identified", True)),
        attribution_confidence=d.get("attribution_confidence"), payment=d.get("payment"),
    )  # fmt: skip


def _stale(s: Session, campaigns: list[Campaign], home: Path | None) -> dict[str, dict[str, Any]]:
    """{campaign id: why its shown result is not current} (empty when all are)."""
    linking = staleness(s, home)
    if linking is not None:
        return {c.id: linking.to_dict() for c in campaigns}
    inputs, params = current_inputs(s, home), TraceParams()
    payments = campaign_payments(s, [c.id for c in campaigns])
    return {
        c.id: {
            "stale": True,
            "changed": ["cash-outs"],
            "refresh": f"fundtrail campaign show {c.id}",
        }
        for c in campaigns
        if c.status == "active" and not is_current(c, params, inputs, payments.get(c.id, []))
    }


def build_views(
    s: Session,
    campaigns: list[Campaign],
    viewer: Identity,
    cipher: PiiCipher | None,
    home: Path | None = None,
) -> list[CampaignView]:
    ids = [c.id for c in campaigns]
    if not ids:
        return []
    stale = _stale(s, campaigns, home)
    members: dict[str, list[Complaint]] = defaultdict(list)
    for row in s.scalars(
        sa.select(Complaint).where(Complaint.campaign_id.in_(ids)).order_by(Complaint.paid_at)
    ):
        members[row.campaign_id or ""].append(row)
    orgs = {o.id: o.name for o in s.scalars(sa.select(Org))}
    on_case = case_orgs(s, ids)
    accepted = accepted_complaints(s, ids)
    refs = dict(
        s.execute(sa.select(Case.campaign_id, Case.reference).where(Case.campaign_id.in_(ids)))
        .tuples()
        .all()
    )
    link_rows = s.scalars(sa.select(CampaignLink).where(CampaignLink.campaign_id.in_(ids)))
    key_of = {r.id: r.ref or r.payment_key for rows in members.values() for r in rows}
    teams = {  # whose case lets them read each complaint (none while it is pending)
        r.id: on_case.get(cid, set()) if counts(r, accepted.get(cid), on_case.get(cid, set()))
        else set() for cid, rows in members.items() for r in rows
    }  # fmt: skip
    contacts = Contacts(s, [r for rows in members.values() for r in rows], cipher)
    links: dict[str, list[dict[str, str]]] = defaultdict(list)
    for lk in link_rows:
        shown = {"a": key_of.get(lk.complaint_a, lk.complaint_a),
                 "b": key_of.get(lk.complaint_b, lk.complaint_b),
                 "reason": lk.reason, "detail": lk.detail}  # fmt: skip
        if lk.reason == SAME_CONTACT:
            shown |= contacts.link(viewer, lk.detail, lk.complaint_a, lk.complaint_b, teams)
        links[lk.campaign_id].append(shown)
    allowed = visible_campaign_ids(s, viewer)
    views = []
    for c in campaigns:
        team = on_case.get(c.id, set())
        rows = members.get(c.id, [])
        held = [r for r in rows if not counts(r, accepted.get(c.id), team)]
        held_ids = {r.id for r in held}
        views.append(CampaignView(
            id=c.id, status=c.status, created=c.created, updated=c.updated,
            complaints=[_complaint(r, viewer, team, cipher, orgs, contacts)
                        for r in rows if r.id not in held_ids],
            # not part of the case yet: its victim's data stays with its reporter
            pending=[_complaint(r, viewer, set(), cipher, orgs, contacts)
                     for r in held if _sees_pending(viewer, r, team)],
            contact_conflicts=conflicts_of(s, c.id, viewer, contacts, teams, allowed, key_of),
            deposit_conflicts=_deposit_conflicts(s, c.id, allowed),
            links=sorted(links.get(c.id, []), key=lambda d: (d["reason"], d["b"])),
            cashouts=[_cashout(d) for d in c.cashouts or []],
            merged_into=c.merged_into, case_reference=refs.get(c.id),
            trace_params={k: v for k, v in (c.trace_params or {}).items() if k != STAMP},
            stale=stale.get(c.id),
        ))  # fmt: skip
    return views


def _deposit_conflicts(s: Any, campaign_id: str, allowed: set[str] | None) -> list[dict[str, Any]]:
    """The deposit addresses shared with campaigns not merged; one the reader may not see
    is unnamed (the address is chain data: the reader's own campaign reached it)."""
    rows = s.scalars(
        sa.select(DepositConflict)
        .where(DepositConflict.campaign_id == campaign_id)
        .order_by(DepositConflict.deposit)
    )
    return [
        {
            "deposit": d.deposit,
            "campaigns": sorted(
                o if allowed is None or o in allowed else "another campaign" for o in d.others
            ),
            "why": DEPOSITS_NOT_MERGED,
        }
        for d in rows
    ]


def _sees_pending(viewer: Identity, r: Complaint, team: set[str]) -> bool:
    """A pending complaint is listed to the case's orgs (who decide on it) and its reporter."""
    return viewer.is_operator or (
        viewer.in_org and (viewer.org_id in team or viewer.org_id == r.org_id)
    )


def _complaint(
    r: Complaint,
    viewer: Identity,
    on_case: set[str],
    cipher: PiiCipher | None,
    orgs: dict[str, str],
    contacts: Contacts | None = None,
) -> ComplaintView:
    visible = cipher is not None and may_see_pii(viewer, r, on_case)
    view = ComplaintView(
        id=r.id, ref=r.ref, chain=r.chain, txid=r.txid, vout=None if r.vout < 0 else r.vout,
        to_address=r.to_address, amount=int(r.amount), asset=r.asset, status=r.status,
        paid_at=r.paid_at, reported_at=r.reported_at,
        org=orgs.get(r.org_id or ""), pii_visible=visible, victim_index=r.victim_index,
    )  # fmt: skip
    if visible and cipher is not None:
        view.victim = cipher.open(r.victim_enc, AAD_VICTIM)
        view.contact = cipher.open(r.contact_enc, AAD_CONTACT)
        view.description = cipher.open(r.description_enc, AAD_TEXT)
        view.perpetrator = contacts.of(r.id) if contacts else []
    return view


def _cipher(home: Path | None) -> PiiCipher:
    return PiiCipher.from_settings(home)


def list_campaigns(
    s: Session,
    viewer: Identity,
    *,
    include_merged: bool = False,
    home: Path | None = None,
) -> list[CampaignView]:
    """Campaigns the viewer may see, largest loss first... by complaint count, then id."""
    q = sa.select(Campaign)
    if not include_merged:
        q = q.where(Campaign.status == "active")
    allowed = visible_campaign_ids(s, viewer)
    if allowed is not None:
        q = q.where(Campaign.id.in_(allowed))
    views = build_views(s, list(s.scalars(q)), viewer, _cipher(home), home)
    return sorted(views, key=lambda v: (-len(v.complaints), v.id))


def get_campaign(
    s: Session, campaign_id: str, viewer: Identity, *, home: Path | None = None
) -> CampaignView:
    """One campaign; a merged id leads to the campaign it merged into."""
    seen: set[str] = set()
    cid = campaign_id.strip().upper()
    row = s.get(Campaign, cid)
    while row is not None and row.status == "merged" and row.merged_into and cid not in seen:
        seen.add(cid)
        cid = row.merged_into
        row = s.get(Campaign, cid)
    allowed = visible_campaign_ids(s, viewer)
    if row is None or (allowed is not None and row.id not in allowed):
        raise NotFoundError(f"no campaign {campaign_id!r}", field="campaign")
    return build_views(s, [row], viewer, _cipher(home), home)[0]


def read_campaign(
    store: IntelStore, campaign_id: str, who: Identity, *, home: Path | None = None
) -> CampaignView:
    """One campaign as ``who`` may see it; a read that showed victims' data is audited."""
    from fundtrail.cases.requests.service import mark_frozen

    with store.read_session() as s:
        view = get_campaign(s, campaign_id, who, home=home)
        mark_frozen(s, who, view)  # deposits an exchange answered frozen to who's request
    shown = sum(c.pii_visible for c in view.complaints)
    if shown:
        group_writer(store).record(
            who, "campaign.read", "campaign", view.id, {"personal_data": shown}
        )
    return view


def case_reference(campaign_id: str, now: datetime) -> str:
    return f"FT-{now.year}-{campaign_id.removeprefix('CMP-')}"


def open_case(
    s: Session,
    campaign_id: str,
    *,
    owner: str | None = None,
    share_with: Iterable[str] = (),
    accept: Iterable[str] = (),
    actor: Identity | str = "cli",
    remote: str | None = None,
) -> Case:
    """Take a campaign up as a case (idempotent); orgs on it may see victims' data.

    Only a law-enforcement organisation may lead a case: the lead decides who else
    sees every victim's personal data, and which complaints of orgs not on the case
    count in it (``accept``: complaint ids pending in the campaign). Every complaint in
    the campaign when the case is opened is accepted.
    """
    campaign = s.get(Campaign, campaign_id)
    if campaign is None:
        raise NotFoundError(f"no campaign {campaign_id!r}", field="campaign")
    case = s.scalars(sa.select(Case).where(Case.campaign_id == campaign.id)).first()
    owner_org = orgs_by_names(s, [owner])[0] if owner else None
    if owner_org is not None and owner_org.kind != "law-enforcement":
        raise PermissionDeniedError(
            f"only a law-enforcement organisation may lead a case; {owner_org.name} is "
            f"{owner_org.kind}"
        )
    owner_id = owner_org.id if owner_org else None
    if case is None:
        case = Case(
            reference=case_reference(campaign.id, datetime.now(UTC)),
            campaign_id=campaign.id,
            owner_org_id=owner_id,
        )
        s.add(case)
        s.flush()
        members = s.scalars(sa.select(Complaint.id).where(Complaint.campaign_id == campaign.id))
        s.add_all(CaseComplaint(case_id=case.id, complaint_id=m) for m in members)
        audit.record(
            s, actor, "case.open", "case", case.reference, {"campaign": campaign.id}, remote
        )
    elif owner_id and case.owner_org_id is None:
        case.owner_org_id = owner_id
    elif owner_id and case.owner_org_id != owner_id:
        raise PermissionDeniedError(
            f"only the organisation leading case {case.reference} may share it"
        )
    names = [n for n in share_with if n]
    if names:
        have = set(s.scalars(sa.select(CaseOrg.org_id).where(CaseOrg.case_id == case.id)))
        added = [o for o in orgs_by_names(s, names) if o.id not in have]
        for org in added:
            s.add(CaseOrg(case_id=case.id, org_id=org.id))
        if added:
            audit.record(
                s,
                actor,
                "case.share",
                "case",
                case.reference,
                {"orgs": [o.name for o in added]},
                remote,
            )
    _accept(s, case, campaign.id, list(accept), actor, remote)
    s.flush()
    return case


def _accept(
    s: Session, case: Case, campaign_id: str, ids: list[str], actor: Identity | str,
    remote: str | None,
) -> None:  # fmt: skip
    if not ids:
        return
    lead = isinstance(actor, str) or actor.is_operator or actor.org_id == case.owner_org_id
    if not lead:
        raise PermissionDeniedError(
            f"only the organisation leading case {case.reference} may accept complaints"
        )
    pending = set(s.scalars(sa.select(Complaint.id).where(Complaint.campaign_id == campaign_id)))
    pending -= set(
        s.scalars(sa.select(CaseComplaint.complaint_id).where(CaseComplaint.case_id == case.id))
    )
    unknown = sorted(set(ids) - pending)
    if unknown:
        raise NotFoundError(
            f"no pending complaint {unknown[0]!r} in campaign {campaign_id}", field="accept"
        )
    s.add_all(CaseComplaint(case_id=case.id, complaint_id=c) for c in sorted(set(ids)))
    audit.record(
        s, actor, "case.accept", "case", case.reference, {"complaints": sorted(set(ids))}, remote
    )


def complaint_view(
    store: IntelStore, complaint_id: str, viewer: Identity, home: Path | None = None
) -> dict[str, Any]:
    """One complaint for its reporter or an org on its case; 404 for anyone else."""
    with store.session() as s:  # writes the audit row of a personal-data read
        row = s.get(Complaint, complaint_id)
        on_case = case_orgs(s, [row.campaign_id]) if row and row.campaign_id else {}
        members = on_case.get(row.campaign_id or "", set()) if row else set()
        if row is not None and row.campaign_id:
            accepted = accepted_complaints(s, [row.campaign_id]).get(row.campaign_id)
            if not counts(row, accepted, members):
                members = set()  # pending the lead's acceptance: not the case's to read yet
        if row is None or not may_see_pii(viewer, row, members):
            raise NotFoundError(f"no complaint {complaint_id!r}", field="complaint")
        orgs = {o.id: o.name for o in s.scalars(sa.select(Org))}
        cipher = _cipher(home)
        view = _complaint(row, viewer, members, cipher, orgs, Contacts(s, [row], cipher))
        out = view.to_dict() | {"campaign": row.campaign_id, "status_detail": row.status_detail}
        if view.pii_visible:
            audit.record(s, viewer, "complaint.read", "complaint", row.id, {"personal_data": 1})
    return out
