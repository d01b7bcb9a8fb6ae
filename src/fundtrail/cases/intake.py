"""Storing complaints: checked against the chain, de-duplicated, personal data sealed.

The same path serves ``fundtrail complaints import`` and ``POST /api/v1/complaints``.
A complaint the chain does not confirm (unknown txid, wrong amount, address or
output) is refused with the reason, by line; with ``keep_unverified`` it is stored
flagged instead (status ``mismatch`` / ``unknown-tx``), kept out of campaigns until
a later ``campaigns link`` finds it confirmed by newly ingested blocks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from fundtrail.cases.complaints import ComplaintInput, RowError, dedupe, read_csv
from fundtrail.cases.contacts import linkable
from fundtrail.cases.crypto import PiiCipher
from fundtrail.cases.verify import Verification, verify_payments
from fundtrail.intelstore import audit
from fundtrail.intelstore.cases import Complaint, ComplaintContact
from fundtrail.intelstore.db import IntelStore, open_store
from fundtrail.intelstore.orgs import get_org_by_name

AAD_VICTIM, AAD_CONTACT, AAD_TEXT = "complaint:victim", "complaint:contact", "complaint:description"


def aad_perpetrator(kind: str) -> str:
    """A perpetrator contact is bound to its kind: an e-mail cannot be moved to a phone."""
    return f"complaint:perpetrator:{kind}"


@dataclass(slots=True)
class ImportReport:
    imported: int = 0
    flagged: int = 0
    ids: list[str] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "imported": self.imported,
            "flagged": self.flagged,
            "rejected": len(self.errors),
            "ids": self.ids,
            "errors": [e.to_dict() for e in sorted(self.errors, key=_line)],
        }

    def summary(self) -> str:
        head = f"{self.imported} complaint(s) imported"
        if self.flagged:
            head += f" ({self.flagged} flagged: not confirmed by the chain)"
        head += f", {len(self.errors)} rejected"
        return "\n".join([head, *(str(e) for e in sorted(self.errors, key=_line))])


def _line(e: RowError) -> int:
    return e.line if e.line is not None else -1


def _existing(
    s: Session, items: list[ComplaintInput], org_id: str | None
) -> dict[tuple[str, str, int], Complaint]:
    """The caller's own complaints about these payments (others' are never looked at)."""
    txids = sorted({c.txid for c in items})
    own = Complaint.org_id.is_(None) if org_id is None else Complaint.org_id == org_id
    found: dict[tuple[str, str, int], Complaint] = {}
    for i in range(0, len(txids), 500):
        rows = s.scalars(sa.select(Complaint).where(Complaint.txid.in_(txids[i : i + 500]), own))
        for row in rows:
            found[(row.chain, row.txid, row.vout)] = row
    return found


def _already(first: Complaint) -> str:
    """Only the org's own complaint is ever named: whether another organisation reported
    a payment is not the reporter's to learn (its complaint is stored like any other,
    and counted once per payment in campaigns)."""
    return f"already reported (complaint {first.ref or first.id})"


def victim_index(cipher: PiiCipher, c: ComplaintInput) -> str:
    """Who the victim is, for counting: name and contact; without a contact, a name alone
    cannot tell two people apart, so the complaint counts as its own victim."""
    tail = c.contact or "#" + ":".join(map(str, c.payment_key))
    return cipher.blind_index(f"{c.victim}\x1f{tail}")


def seal_complaint(
    c: ComplaintInput, v: Verification, cipher: PiiCipher, org_id: str | None
) -> Complaint:
    """The row for a complaint: personal data encrypted, the chain's verdict attached."""
    return Complaint(
        org_id=org_id,
        ref=c.complaint_id,
        chain=c.chain,
        txid=c.txid,
        vout=-1 if c.vout is None else c.vout,
        to_address=c.to_address,
        amount=str(c.amount),
        asset=c.asset,
        victim_enc=cipher.seal(c.victim, AAD_VICTIM) or "",
        contact_enc=cipher.seal(c.contact, AAD_CONTACT),
        description_enc=cipher.seal(c.description, AAD_TEXT),
        victim_index=victim_index(cipher, c),
        reported_at=c.reported_at,
        paid_at=datetime.fromtimestamp(v.time, UTC) if v.time is not None else None,
        height=v.height,
        status=v.status,
        status_detail=v.message,
    )


def seal_contacts(
    c: ComplaintInput, cipher: PiiCipher, complaint_id: str
) -> list[ComplaintContact]:
    """The perpetrator's contacts as rows: sealed, with the keyed index linking compares
    (none for a contact that cannot link: it is kept as the victim's word only)."""
    return [
        ComplaintContact(
            complaint_id=complaint_id,
            kind=p.kind,
            value_enc=cipher.seal(p.value, aad_perpetrator(p.kind)) or "",
            value_index=cipher.contact_index(p.kind, p.value) if linkable(p) else None,
        )
        for p in c.perpetrator
    ]


def add_complaints(
    store: IntelStore,
    items: list[ComplaintInput],
    *,
    org_id: str | None,
    actor: Any = "cli",
    home: Path | None = None,
    keep_unverified: bool = False,
    remote: str | None = None,
) -> ImportReport:
    """Check, de-duplicate, seal and store; one transaction for the whole batch."""
    report = ImportReport()
    items, report.errors = dedupe(items)
    checks = verify_payments(items, home)
    cipher = PiiCipher.from_settings(home)
    with store.session() as s:
        existing = _existing(s, items, org_id)
        for c, v in zip(items, checks, strict=True):
            key = (c.chain, c.txid, -1 if c.vout is None else c.vout)
            if key in existing:
                report.errors.append(RowError(c.line, "txid", _already(existing[key])))
                continue
            if not v.ok and not keep_unverified:
                report.errors.append(RowError(c.line, v.field, v.message))
                continue
            row = seal_complaint(c, v, cipher, org_id)
            s.add(row)
            s.flush()
            s.add_all(seal_contacts(c, cipher, row.id))
            report.ids.append(row.id)
            report.imported += 1
            report.flagged += not v.ok
        audit.record(
            s, actor, "complaint.import", "complaint", None,
            {"imported": report.imported, "flagged": report.flagged,
             "rejected": len(report.errors)},
            remote,
        )  # fmt: skip
    return report


def import_complaints(
    path: Path,
    *,
    mapping: dict[str, str] | None = None,
    org: str | None = None,
    home: Path | None = None,
    keep_unverified: bool = False,
    store: IntelStore | None = None,
) -> ImportReport:
    """`fundtrail complaints import`: a CSV file into the intel store, bad rows by line."""
    items, errors = read_csv(path, mapping)
    own = store is None
    store = store or open_store()
    try:
        org_id = None
        if org:
            with store.read_session() as s:
                org_id = get_org_by_name(s, org).id
        report = add_complaints(
            store, items, org_id=org_id, actor="cli", home=home, keep_unverified=keep_unverified
        )
    finally:
        if own:
            store.close()
    report.errors = errors + report.errors
    return report
