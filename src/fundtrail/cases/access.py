"""Who may see what of a campaign. One place, used by the CLI, the API and reports.

What a campaign with a case counts (its complaints, total loss, victims, cash-outs,
case files): the complaints its lead accepted (every member when the case was opened),
those of the orgs on the case, and those the workspace operator imported for no org
(``complaints import`` without ``--org``). A complaint of another org that linked in
later is *pending*: listed to the case's orgs (without its victim's data) and to its
reporter, counted nowhere until the lead accepts it (``POST /api/v1/campaigns/{id}/case``
with ``accept``), so nobody outside the case changes what the police's case file says.

Personal data of a complaint: the reporting org, and the orgs on the case of the
campaign it belongs to (the case owner included). What the victim reported about the
perpetrator is personal data too: a same-contact link or a contact conflict names the
contact's kind to whoever sees the campaign, its value only to who may read every
complaint that reported it. A campaign itself (totals,
addresses, cash-outs; no personal data): orgs that reported one of its complaints
or are on its case. The workspace operator (``--operator`` on the command line, never
a default) sees everything: they hold the key file. The public view and system jobs
see no campaign.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy.orm import Session

from fundtrail.intelstore.cases import Case, CaseComplaint, CaseOrg, Complaint
from fundtrail.intelstore.requests import PartnerRequest
from fundtrail.model.identity import Identity


def case_orgs(s: Session, campaign_ids: Iterable[str]) -> dict[str, set[str]]:
    """{campaign id: org ids on its case (owner included)}."""
    ids = list(set(campaign_ids))
    out: dict[str, set[str]] = defaultdict(set)
    if not ids:
        return out
    rows = s.execute(
        sa.select(Case.campaign_id, Case.owner_org_id, CaseOrg.org_id)
        .outerjoin(CaseOrg, CaseOrg.case_id == Case.id)
        .where(Case.campaign_id.in_(ids))
    )
    for campaign_id, owner, member in rows:
        out[campaign_id].update(o for o in (owner, member) if o)
    return out


def accepted_complaints(s: Session, campaign_ids: Iterable[str]) -> dict[str, set[str]]:
    """{campaign id: complaint ids its case's lead accepted}, for campaigns with a case
    (a campaign without a case is absent: everything in it counts)."""
    ids = list(set(campaign_ids))
    out: dict[str, set[str]] = {}
    for i in range(0, len(ids), 500):
        cases = s.execute(
            sa.select(Case.campaign_id, CaseComplaint.complaint_id)
            .outerjoin(CaseComplaint, CaseComplaint.case_id == Case.id)
            .where(Case.campaign_id.in_(ids[i : i + 500]))
        )
        for campaign_id, complaint_id in cases:
            out.setdefault(campaign_id, set()).update([complaint_id] if complaint_id else [])
    return out


def counts(complaint: Complaint, accepted: set[str] | None, on_case: set[str]) -> bool:
    """Whether a complaint counts in its campaign (``accepted`` None: it has no case)."""
    if accepted is None or complaint.org_id is None:  # no case; the operator's own import
        return True
    return complaint.id in accepted or complaint.org_id in on_case


def may_see_pii(who: Identity, complaint: Complaint, on_case: set[str]) -> bool:
    if who.is_operator:
        return True
    if not who.in_org:
        return False
    return who.org_id == complaint.org_id or who.org_id in on_case


def may_see_contact(who: Identity, holders: Iterable[tuple[Complaint, set[str]]]) -> bool:
    """A perpetrator contact that links complaints is the word of every victim who reported
    it: its value is shown only to a reader who may see each of those complaints' personal
    data (``holders``: each complaint with the orgs on its case, empty while pending).
    Anyone else learns the kind (e-mail, site, phone, handle), never the value."""
    return all(may_see_pii(who, c, team) for c, team in holders)


def visible_campaign_ids(s: Session, who: Identity) -> set[str] | None:
    """Campaign ids ``who`` may see (None: all of them, for the operator only)."""
    if who.is_operator:
        return None
    if not who.in_org:
        return set()
    viewer = who
    reported = s.scalars(
        sa.select(Complaint.campaign_id).where(
            Complaint.org_id == viewer.org_id, Complaint.campaign_id.is_not(None)
        )
    )
    on_case = s.scalars(
        sa.select(Case.campaign_id)
        .outerjoin(CaseOrg, CaseOrg.case_id == Case.id)
        .where(sa.or_(Case.owner_org_id == viewer.org_id, CaseOrg.org_id == viewer.org_id))
    )
    return {c for c in reported if c} | set(on_case)


# -- requests between partners ---------------------------------------------------------
# A request is seen by the organisation that made it and, once sent, by the one it is
# addressed to; nobody else learns it exists (answered like a missing one, in lists and
# counts too). The operator, who holds the key file, may read every request (audited).


def request_side(who: Identity, requester_org_id: str, addressee_org_id: str, state: str) -> str:
    """``"requester"``, ``"addressee"``, ``"operator"`` or ``""`` (may not see it)."""
    if who.is_operator:
        return "operator"
    if not who.in_org:
        return ""
    if who.org_id == requester_org_id:
        return "requester"
    if who.org_id == addressee_org_id and state != "draft":
        return "addressee"
    return ""


def requests_visible_to(who: Identity) -> sa.ColumnElement[bool]:
    """The SQL twin of :func:`request_side`: WHERE clause of every read of requests."""
    if who.is_operator:
        return sa.true()
    if not who.in_org:
        return sa.false()
    return sa.or_(
        PartnerRequest.requester_org_id == who.org_id,
        sa.and_(PartnerRequest.addressee_org_id == who.org_id, PartnerRequest.state != "draft"),
    )
