"""Screening tables: decisions logged for the regulator, org rules, alerts, webhooks.

Amounts are kept as decimal text (exact for any base-unit integer on every database).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from fundtrail.intelstore.base import Base, UTCDateTime, new_id, utcnow
from fundtrail.intelstore.changes import watch


class ScreenDecision(Base):
    """Who asked about what, and what was answered (kept for the retention period)."""

    __tablename__ = "screen_decisions"
    __table_args__ = (sa.Index(None, "org_id", "chain", "address"),)

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True, default=new_id)
    org_id: Mapped[str] = mapped_column(sa.ForeignKey("orgs.id", ondelete="CASCADE"), index=True)
    key_id: Mapped[str | None] = mapped_column(sa.String(36))
    chain: Mapped[str] = mapped_column(sa.String(16))
    address: Mapped[str] = mapped_column(sa.String(128))
    direction: Mapped[str | None] = mapped_column(sa.String(16))
    amount: Mapped[str | None] = mapped_column(sa.String(80))
    asset: Mapped[str | None] = mapped_column(sa.String(64))
    txid: Mapped[str | None] = mapped_column(sa.String(80))
    risk: Mapped[str] = mapped_column(sa.String(16))
    score: Mapped[int] = mapped_column(sa.Integer)
    reasons: Mapped[list[Any]] = mapped_column(sa.JSON, default=list)
    index_version: Mapped[str] = mapped_column(sa.String(64))
    created: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)


class ScreenRuleSet(Base):
    """An organisation's screening rules (thresholds, ignored categories, weights)."""

    __tablename__ = "screen_rules"

    org_id: Mapped[str] = mapped_column(
        sa.ForeignKey("orgs.id", ondelete="CASCADE"), primary_key=True
    )
    rules: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    modified: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


watch(ScreenRuleSet, "rules", "org_id")  # screening answers apply a change at once


class Alert(Base):
    """A past deposit that new intel or new blocks made risky, for the org that received it."""

    __tablename__ = "alerts"
    __table_args__ = (sa.UniqueConstraint("decision_id", "index_version"),)

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True, default=new_id)
    org_id: Mapped[str] = mapped_column(sa.ForeignKey("orgs.id", ondelete="CASCADE"), index=True)
    decision_id: Mapped[str] = mapped_column(
        sa.ForeignKey("screen_decisions.id", ondelete="CASCADE")
    )
    chain: Mapped[str] = mapped_column(sa.String(16))
    address: Mapped[str] = mapped_column(sa.String(128))
    txid: Mapped[str | None] = mapped_column(sa.String(80))
    previous_risk: Mapped[str] = mapped_column(sa.String(16))
    risk: Mapped[str] = mapped_column(sa.String(16))
    score: Mapped[int] = mapped_column(sa.Integer)
    reasons: Mapped[list[Any]] = mapped_column(sa.JSON, default=list)
    index_version: Mapped[str] = mapped_column(sa.String(64))
    created: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    delivered: Mapped[datetime | None] = mapped_column(UTCDateTime())
    delivery_attempts: Mapped[int] = mapped_column(sa.Integer, default=0)
    delivery_error: Mapped[str | None] = mapped_column(sa.String(500))


class Webhook(Base):
    """Where an org wants its alerts POSTed, and the secret that signs them."""

    __tablename__ = "webhooks"

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True, default=new_id)
    org_id: Mapped[str] = mapped_column(sa.ForeignKey("orgs.id", ondelete="CASCADE"), index=True)
    url: Mapped[str] = mapped_column(sa.String(2048))
    secret: Mapped[str] = mapped_column(sa.String(128))
    active: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    created: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
