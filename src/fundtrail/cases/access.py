"""Who may see what of a campaign. One place, used by the CLI, the API and reports.

Personal data of a complaint: the reporting org, and the orgs on the case of the
campaign it belongs to (the case owner included). A campaign itself (totals,
addresses, cash-outs; no personal data): orgs that reported one of its complaints
or are on its case. The workspace operator (CLI without ``--org``) sees everything:
they hold the key file.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from fundtrail.intelstore.cases import Case, CaseOrg, Complaint


@dataclass(frozen=True, slots=True)
class Viewer:
    """The reader: an org id, or the operator (``org_id`` None) who sees everything."""

    org_id: str | None = None
    org_name: str | None = None

    @property
    def is_operator(self) -> bool:
        return self.org_id is None


OPERATOR = Viewer()


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


def may_see_pii(viewer: Viewer, complaint: Complaint, on_case: set[str]) -> bool:
    if viewer.is_operator:
        return True
    return viewer.org_id == complaint.org_id or viewer.org_id in on_case


def visible_campaign_ids(s: Session, viewer: Viewer) -> set[str] | None:
    """Campaign ids the viewer may see (None: all of them)."""
    if viewer.is_operator:
        return None
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
