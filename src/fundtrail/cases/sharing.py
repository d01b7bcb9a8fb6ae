"""Sharing a campaign with the exchanges on its case: the case, and its indicators.

``campaign share CMP --with ORG...`` puts the orgs on the campaign's case (they may then
see the victims' data) and stores the campaign's indicators, its collection addresses
(victims paid them) and the deposit addresses its freeze plan requests, as the lead
organisation's own, TLP:AMBER, with every org on the case on their share list. The
orgs' screening reads them at once (the screening overlay follows the intel journal),
so an exchange screening an address the victims paid is told at its next request.

Re-sharing is idempotent: the lead's indicators are upserted, their share list grown.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from fundtrail.cases.campaigns import get_campaign, open_case
from fundtrail.cases.stixout import campaign_records
from fundtrail.errors import InvalidInputError
from fundtrail.intel.indicators import IndicatorService
from fundtrail.intelstore.cases import CaseOrg
from fundtrail.intelstore.db import IntelStore
from fundtrail.intelstore.models import Org
from fundtrail.intelstore.orgs import org_identity
from fundtrail.model.identity import Identity
from fundtrail.model.indicators import Category
from fundtrail.model.tlp import TLP


@dataclass(slots=True)
class ShareReport:
    campaign: str
    case_reference: str
    lead: str | None
    orgs: list[str]  # every org on the case now (the lead excluded)
    collection: list[str] = field(default_factory=list)  # addresses shared
    deposits: list[str] = field(default_factory=list)
    added: int = 0
    updated: int = 0
    note: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "campaign": self.campaign,
            "case_reference": self.case_reference,
            "lead": self.lead,
            "orgs": self.orgs,
            "indicators": {
                "collection": self.collection,
                "deposits": self.deposits,
                "added": self.added,
                "updated": self.updated,
                "tlp": TLP.AMBER.value,
            },
            "note": self.note,
        }

    def summary(self) -> str:
        head = f"case {self.case_reference}: {', '.join(self.orgs) or 'no other organisation'}"
        if self.note:
            return f"{head}\n{self.note}"
        return (
            f"{head}\nshared with them (TLP:AMBER, as {self.lead}): "
            f"{len(self.collection)} collection address(es), "
            f"{len(self.deposits)} cash-out deposit address(es)"
        )


def share_campaign(
    store: IntelStore,
    campaign_id: str,
    orgs: list[str],
    *,
    who: Identity,
    owner: str | None = None,
    category: str = "scam",
    home: Path | None = None,
    remote: str | None = None,
) -> ShareReport:
    """Put ``orgs`` on the campaign's case and share its indicators with everyone on it.

    The indicators belong to the case's lead (a law-enforcement org); a case without a
    lead gets the orgs but no indicators, and the report says so.
    """
    from fundtrail.cases.freezing import campaign_freeze

    cat = Category.parse(category).value
    with store.session() as s:
        view = get_campaign(s, campaign_id, who, home=home)
        case = open_case(
            s, view.id, owner=owner, share_with=check_orgs(orgs), actor=who, remote=remote
        )
        reference, lead_id = case.reference, case.owner_org_id
        names = dict(s.execute(sa.select(Org.id, Org.name)).tuples().all())
        members = sorted(
            names[o] for o in s.scalars(sa.select(CaseOrg.org_id).where(CaseOrg.case_id == case.id))
        )
        lead = org_identity(s, names[lead_id]) if lead_id else None
    report = ShareReport(view.id, reference, lead.org_name if lead else None, members)
    if lead is None:
        report.note = (
            "no organisation leads this case, so no indicators were shared: give --owner "
            "(a law-enforcement organisation) to share the campaign's addresses"
        )
        return report
    if not members:
        return report
    _traced, plan = campaign_freeze(store, view.id, viewer=who, home=home)
    records = campaign_records(view, tlp=TLP.AMBER, category=cat, reference=reference, freeze=plan)
    collection = {(c.chain, c.to_address) for c in view.complaints}
    for rec in records:
        rec.share_with = members
        bucket = report.collection if (rec.chain, rec.value) in collection else report.deposits
        bucket.append(rec.value)
    summary = IndicatorService(store).import_records(
        lead, records, source=f"campaign share {view.id}", remote=remote
    )
    report.added, report.updated = summary.added, summary.updated
    return report


def check_orgs(orgs: list[str]) -> list[str]:
    names = [o.strip() for o in orgs if o and o.strip()]
    if not names:
        raise InvalidInputError("name at least one organisation to share with", field="with")
    return names
