"""Tables of requests between partners: a freeze/preserve/identify/release request from
one organisation to another, its deposit addresses with the answer to each, attachments.

Amounts are exact integers kept as decimal text (EVM values exceed 64 bits). Attachment
bodies are stored only encrypted (``body_enc``, :mod:`fundtrail.cases.crypto`), like
victims' personal data. Who may see a row is decided in :mod:`fundtrail.cases.access`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from fundtrail.intelstore.base import Base, UTCDateTime, new_id, utcnow


class PartnerRequest(Base):
    __tablename__ = "partner_requests"

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True, default=new_id)
    kind: Mapped[str] = mapped_column(sa.String(16))  # freeze | preserve | identify | release
    state: Mapped[str] = mapped_column(sa.String(16), default="draft", index=True)
    requester_org_id: Mapped[str] = mapped_column(
        sa.ForeignKey("orgs.id", ondelete="CASCADE"), index=True
    )
    addressee_org_id: Mapped[str] = mapped_column(
        sa.ForeignKey("orgs.id", ondelete="CASCADE"), index=True
    )
    campaign_id: Mapped[str | None] = mapped_column(
        sa.ForeignKey("campaigns.id", ondelete="SET NULL"), index=True
    )
    case_reference: Mapped[str] = mapped_column(sa.String(64), default="")
    exchange: Mapped[str] = mapped_column(sa.String(200), default="")  # as the trace names it
    reference: Mapped[str] = mapped_column(sa.String(100), default="")  # the requester's number
    legal_basis: Mapped[str] = mapped_column(sa.String(1000), default="")
    contact: Mapped[str] = mapped_column(sa.String(500), default="")
    note: Mapped[str] = mapped_column(sa.Text, default="")
    deadline: Mapped[datetime | None] = mapped_column(UTCDateTime())
    follows: Mapped[str | None] = mapped_column(sa.String(36))  # the request this one follows
    decline_reason: Mapped[str] = mapped_column(sa.String(1000), default="")
    answer_note: Mapped[str] = mapped_column(sa.Text, default="")
    created: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    received_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    declined_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class RequestDeposit(Base):
    """One deposit address of a request, with the addressee's answer for it."""

    __tablename__ = "partner_request_deposits"

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True, default=new_id)
    request_id: Mapped[str] = mapped_column(
        sa.ForeignKey("partner_requests.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(sa.Integer, default=0)
    chain: Mapped[str] = mapped_column(sa.String(16))
    address: Mapped[str] = mapped_column(sa.String(128))
    asset: Mapped[str] = mapped_column(sa.String(80))  # asset key
    amount: Mapped[str] = mapped_column(sa.String(80))  # traced, base units
    share: Mapped[float] = mapped_column(sa.Float, default=0.0)  # of the campaign's loss
    txids: Mapped[list[Any]] = mapped_column(sa.JSON, default=list)
    # the answer: frozen | moved | not-customer | legal-process (None: not answered)
    outcome: Mapped[str | None] = mapped_column(sa.String(16))
    frozen_amount: Mapped[str | None] = mapped_column(sa.String(80))
    frozen_asset: Mapped[str | None] = mapped_column(sa.String(80))
    frozen_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    moved_to: Mapped[str] = mapped_column(sa.String(500), default="")
    answer_note: Mapped[str] = mapped_column(sa.String(2000), default="")


class RequestAttachment(Base):
    """A file sent with a request or an answer; ``sealed``: only the requester opens it."""

    __tablename__ = "partner_request_attachments"

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True, default=new_id)
    request_id: Mapped[str] = mapped_column(
        sa.ForeignKey("partner_requests.id", ondelete="CASCADE"), index=True
    )
    side: Mapped[str] = mapped_column(sa.String(16))  # request | answer
    name: Mapped[str] = mapped_column(sa.String(200))
    media_type: Mapped[str] = mapped_column(sa.String(100))
    size: Mapped[int] = mapped_column(sa.Integer)
    sha256: Mapped[str] = mapped_column(sa.String(64))
    sealed: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    body_enc: Mapped[str] = mapped_column(sa.Text)
    created: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
