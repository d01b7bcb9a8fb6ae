"""Tables of the investigation part: complaints, campaigns, their links, cases.

A complaint's personal data (victim name, contact, free text) is stored only
encrypted (``*_enc`` columns, see :mod:`fundtrail.cases.crypto`); ``victim_index``
is a keyed hash so victims can be counted without decrypting. Amounts are exact
integers kept as decimal text (EVM values exceed 64 bits; SQLite has no wide integer).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from fundtrail.intelstore.base import Base, UTCDateTime, new_id, utcnow

COMPLAINT_STATUSES = ("verified", "mismatch", "unknown-tx")


class Campaign(Base):
    __tablename__ = "campaigns"

    id: Mapped[str] = mapped_column(sa.String(32), primary_key=True)  # CMP-XXXXXXXXXX
    status: Mapped[str] = mapped_column(sa.String(16), default="active")  # active | merged
    merged_into: Mapped[str | None] = mapped_column(sa.String(32))
    created: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    cashouts: Mapped[list[Any]] = mapped_column(sa.JSON, default=list)
    trace_params: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)


class Complaint(Base):
    __tablename__ = "complaints"
    # one complaint per payment *per organisation*: another org reporting the same payment
    # is stored too (telling it "already reported" would say what others reported)
    __table_args__ = (sa.UniqueConstraint("org_id", "chain", "txid", "vout"),)

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True, default=new_id)
    org_id: Mapped[str | None] = mapped_column(
        sa.ForeignKey("orgs.id", ondelete="SET NULL"), index=True
    )
    ref: Mapped[str | None] = mapped_column(sa.String(100))  # the reporter's complaint id
    chain: Mapped[str] = mapped_column(sa.String(16))
    txid: Mapped[str] = mapped_column(sa.String(80))
    vout: Mapped[int] = mapped_column(sa.Integer)  # -1: EVM native transfer
    to_address: Mapped[str] = mapped_column(sa.String(128), index=True)
    amount: Mapped[str] = mapped_column(sa.String(80))  # exact integer, base units
    asset: Mapped[str] = mapped_column(sa.String(42))
    victim_enc: Mapped[str] = mapped_column(sa.Text)
    contact_enc: Mapped[str | None] = mapped_column(sa.Text)
    description_enc: Mapped[str | None] = mapped_column(sa.Text)
    victim_index: Mapped[str] = mapped_column(sa.String(64), index=True)
    reported_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    height: Mapped[int | None] = mapped_column(sa.BigInteger)
    status: Mapped[str] = mapped_column(sa.String(16), default="verified")
    status_detail: Mapped[str] = mapped_column(sa.Text, default="")
    campaign_id: Mapped[str | None] = mapped_column(
        sa.ForeignKey("campaigns.id", ondelete="SET NULL"), index=True
    )
    created: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    @property
    def payment_key(self) -> str:
        return f"{self.chain}:{self.txid}:{self.vout}"


class ComplaintContact(Base):
    """A contact the victim reported for the perpetrator (:mod:`fundtrail.cases.contacts`):
    the value sealed like other personal data; ``value_index`` a keyed hash of it that
    linking compares (null for a contact that cannot link, e.g. gmail.com as a site)."""

    __tablename__ = "complaint_contacts"

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True, default=new_id)
    complaint_id: Mapped[str] = mapped_column(
        sa.ForeignKey("complaints.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(sa.String(8))  # email | site | phone | handle
    value_enc: Mapped[str] = mapped_column(sa.Text)
    value_index: Mapped[str | None] = mapped_column(sa.String(64), index=True)


class ContactConflict(Base):
    """A linkable contact that complaints of this campaign share with another campaign
    which linking did not merge (both established on chain on their own), shown in
    ``campaign show`` for an investigator to judge."""

    __tablename__ = "contact_conflicts"

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True, default=new_id)
    campaign_id: Mapped[str] = mapped_column(
        sa.ForeignKey("campaigns.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(sa.String(8))
    value_index: Mapped[str] = mapped_column(sa.String(64))
    others: Mapped[list[Any]] = mapped_column(sa.JSON, default=list)  # other campaign ids
    complaints: Mapped[list[Any]] = mapped_column(sa.JSON, default=list)  # ids, this campaign


class DepositConflict(Base):
    """A customer deposit address this campaign's money reached that another campaign's
    money reached too, and where linking did not merge them (each stands on its own
    evidence and they share few deposits: a mule both used), shown in ``campaign show``."""

    __tablename__ = "deposit_conflicts"

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True, default=new_id)
    campaign_id: Mapped[str] = mapped_column(
        sa.ForeignKey("campaigns.id", ondelete="CASCADE"), index=True
    )
    deposit: Mapped[str] = mapped_column(sa.String(140))  # chain-prefixed address
    others: Mapped[list[Any]] = mapped_column(sa.JSON, default=list)  # other campaign ids


class CampaignLink(Base):
    """Why complaint ``b`` joined the campaign that ``a`` was in (one union of the linker)."""

    __tablename__ = "campaign_links"

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True, default=new_id)
    campaign_id: Mapped[str] = mapped_column(
        sa.ForeignKey("campaigns.id", ondelete="CASCADE"), index=True
    )
    complaint_a: Mapped[str] = mapped_column(sa.ForeignKey("complaints.id", ondelete="CASCADE"))
    complaint_b: Mapped[str] = mapped_column(sa.ForeignKey("complaints.id", ondelete="CASCADE"))
    reason: Mapped[str] = mapped_column(sa.String(32))
    detail: Mapped[str] = mapped_column(sa.String(300))
    created: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Case(Base):
    """A campaign taken up as a case: its reference is what freeze requests cite."""

    __tablename__ = "cases"

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True, default=new_id)
    reference: Mapped[str] = mapped_column(sa.String(64), unique=True)
    campaign_id: Mapped[str] = mapped_column(
        sa.ForeignKey("campaigns.id", ondelete="CASCADE"), unique=True
    )
    owner_org_id: Mapped[str | None] = mapped_column(sa.ForeignKey("orgs.id", ondelete="SET NULL"))
    created: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class CaseComplaint(Base):
    """A complaint the case's lead accepted into the case (every member at opening): only
    these, and complaints of orgs on the case, count in what the case shows."""

    __tablename__ = "case_complaints"

    case_id: Mapped[str] = mapped_column(
        sa.ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True
    )
    complaint_id: Mapped[str] = mapped_column(
        sa.ForeignKey("complaints.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    created: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class CaseOrg(Base):
    """Organisations working on a case: they may see its victims' personal data."""

    __tablename__ = "case_orgs"

    case_id: Mapped[str] = mapped_column(
        sa.ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True
    )
    org_id: Mapped[str] = mapped_column(
        sa.ForeignKey("orgs.id", ondelete="CASCADE"), primary_key=True, index=True
    )
