"""Perpetrator contacts as a reader sees them: values only where cases.access allows.

A same-contact link and a contact conflict are stored with the contact's keyed index,
never its value (:mod:`fundtrail.cases.contactlink`). Shown, they name the kind
(``e-mail``, ``site``, ``phone``, ``handle``) to whoever sees the campaign; the value is
opened from a reporting complaint's sealed row only for a reader who may read every
complaint that reported it (:func:`fundtrail.cases.access.may_see_contact`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from fundtrail.cases.access import may_see_contact
from fundtrail.cases.contactlink import NOT_MERGED, parse_detail
from fundtrail.cases.contacts import LABEL
from fundtrail.cases.crypto import PiiCipher
from fundtrail.cases.intake import aad_perpetrator
from fundtrail.intelstore.cases import Complaint, ComplaintContact, ContactConflict
from fundtrail.model.identity import Identity

Teams = Mapping[str, set[str]]  # complaint id: orgs whose case lets them read it


class Contacts:
    """The sealed contacts of a set of complaints, opened on demand for one reader."""

    def __init__(
        self, s: Session, complaints: Iterable[Complaint], cipher: PiiCipher | None
    ) -> None:
        self.by_id = {c.id: c for c in complaints}
        self.cipher = cipher
        self.rows: dict[str, list[ComplaintContact]] = defaultdict(list)
        ids = sorted(self.by_id)
        for i in range(0, len(ids), 500):
            q = sa.select(ComplaintContact).where(
                ComplaintContact.complaint_id.in_(ids[i : i + 500])
            )
            for row in s.scalars(q.order_by(ComplaintContact.kind, ComplaintContact.id)):
                self.rows[row.complaint_id].append(row)

    def _open(self, row: ComplaintContact) -> str | None:
        return self.cipher.open(row.value_enc, aad_perpetrator(row.kind)) if self.cipher else None

    def of(self, complaint_id: str) -> list[dict[str, str]]:
        """A complaint's contacts, opened (the caller decided the reader may see them)."""
        return [
            {"kind": r.kind, "value": self._open(r) or ""} for r in self.rows.get(complaint_id, [])
        ]

    def value(
        self, who: Identity, kind: str, index: str, holders: Iterable[str], teams: Teams
    ) -> str | None:
        """The contact's value when ``who`` may read every holder, else None."""
        held = [self.by_id[h] for h in holders if h in self.by_id]
        if not held or self.cipher is None:
            return None
        if not may_see_contact(who, [(c, teams.get(c.id, set())) for c in held]):
            return None
        for row in self.rows.get(held[0].id, []):
            if row.kind == kind and row.value_index == index:
                return self._open(row)
        return None

    def link(self, who: Identity, detail: str, a: str, b: str, teams: Teams) -> dict[str, Any]:
        """What a same-contact link shows: the kind, and the value to who may read it."""
        kind, index = parse_detail(detail)
        shown: dict[str, Any] = {"detail": LABEL.get(kind, kind), "kind": kind}
        value = self.value(who, kind, index, [a, b], teams)
        return shown | ({"value": value} if value is not None else {})


def conflicts_of(
    s: Session,
    campaign_id: str,
    who: Identity,
    contacts: Contacts,
    teams: Teams,
    allowed: set[str] | None,
    ref_of: Mapping[str, str],
) -> list[dict[str, Any]]:
    """The campaign's contact conflicts; a campaign the reader may not see is unnamed."""
    out = []
    rows = s.scalars(
        sa.select(ContactConflict)
        .where(ContactConflict.campaign_id == campaign_id)
        .order_by(ContactConflict.kind, ContactConflict.value_index)
    )
    for c in rows:
        others = [o if allowed is None or o in allowed else "another campaign" for o in c.others]
        shown: dict[str, Any] = {
            "kind": c.kind,
            "detail": LABEL.get(c.kind, c.kind),
            "campaigns": sorted(others),
            "complaints": sorted(ref_of.get(i, i) for i in c.complaints),
            "why": NOT_MERGED,
        }
        value = contacts.value(who, c.kind, c.value_index, c.complaints, teams)
        out.append(shown | ({"value": value} if value is not None else {}))
    return out
