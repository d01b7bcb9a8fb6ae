"""Core tables of the intel hub: organisations, users, API keys, indicators, sightings.

Enumerated values (kind, role, type, category, TLP) are plain strings checked in
code, not database enums, so a new value never needs a migration.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fundtrail.intelstore.base import Base, UTCDateTime, new_id, utcnow
from fundtrail.model.identity import ORG_KINDS as ORG_KINDS  # re-exported
from fundtrail.model.identity import ROLES as ROLES  # re-exported: the ordered roles


class Org(Base):
    __tablename__ = "orgs"

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(sa.String(200), unique=True)
    kind: Mapped[str] = mapped_column(sa.String(32), default="alliance")
    created: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class User(Base):
    """A person in an org (optional: keys alone are enough to use the hub)."""

    __tablename__ = "users"

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True, default=new_id)
    org_id: Mapped[str] = mapped_column(sa.ForeignKey("orgs.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    email: Mapped[str | None] = mapped_column(sa.String(320), unique=True)
    role: Mapped[str] = mapped_column(sa.String(16), default="reader")
    created: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ApiKey(Base):
    """An API key: only a public prefix (for lookup) and the SHA-256 of the key are kept."""

    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True, default=new_id)
    prefix: Mapped[str] = mapped_column(sa.String(16), unique=True)
    key_sha256: Mapped[str] = mapped_column(sa.String(64))
    org_id: Mapped[str] = mapped_column(sa.ForeignKey("orgs.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[str | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    role: Mapped[str] = mapped_column(sa.String(16))
    label: Mapped[str] = mapped_column(sa.String(200), default="")
    created: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked: Mapped[datetime | None] = mapped_column(UTCDateTime())

    org: Mapped[Org] = relationship(lazy="joined")


class Indicator(Base):
    """One shared indicator, owned by one org; ``chain`` is '' for chain-less types."""

    __tablename__ = "indicators"
    __table_args__ = (
        sa.UniqueConstraint("org_id", "type", "chain", "value_sha256"),
        sa.Index(None, "created", "id"),
        sa.CheckConstraint("confidence >= 0 AND confidence <= 100", name="confidence_range"),
    )

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True, default=new_id)
    org_id: Mapped[str] = mapped_column(sa.ForeignKey("orgs.id", ondelete="CASCADE"), index=True)
    type: Mapped[str] = mapped_column(sa.String(32))
    chain: Mapped[str] = mapped_column(sa.String(16), default="")
    value: Mapped[str] = mapped_column(sa.String(2048))  # looked up by value_sha256
    value_sha256: Mapped[str] = mapped_column(sa.String(64), index=True)
    category: Mapped[str] = mapped_column(sa.String(32), index=True)
    confidence: Mapped[int] = mapped_column(sa.Integer, default=50)
    tlp: Mapped[str] = mapped_column(sa.String(16), index=True)
    description: Mapped[str] = mapped_column(sa.Text, default="")
    references: Mapped[list[Any]] = mapped_column(sa.JSON, default=list)
    labels: Mapped[list[Any]] = mapped_column(sa.JSON, default=list)
    source: Mapped[str] = mapped_column(sa.String(500), default="")
    valid_from: Mapped[datetime | None] = mapped_column(UTCDateTime())
    valid_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    modified: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)

    org: Mapped[Org] = relationship(lazy="joined")
    shares: Mapped[list[IndicatorShare]] = relationship(  # loaded only for the owner's eyes
        cascade="all, delete-orphan", passive_deletes=True, lazy="select"
    )


class IndicatorShare(Base):
    """The distribution list: orgs an AMBER or RED indicator is shared with."""

    __tablename__ = "indicator_shares"

    indicator_id: Mapped[str] = mapped_column(
        sa.ForeignKey("indicators.id", ondelete="CASCADE"), primary_key=True
    )
    org_id: Mapped[str] = mapped_column(
        sa.ForeignKey("orgs.id", ondelete="CASCADE"), primary_key=True, index=True
    )

    org: Mapped[Org] = relationship(lazy="joined")


class Sighting(Base):
    """An org saw an indicator (or found it a false positive); the org is shown sparingly."""

    __tablename__ = "sightings"

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True, default=new_id)
    indicator_id: Mapped[str] = mapped_column(
        sa.ForeignKey("indicators.id", ondelete="CASCADE"), index=True
    )
    org_id: Mapped[str] = mapped_column(sa.ForeignKey("orgs.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(sa.String(16), default="seen")  # seen | false-positive
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    where: Mapped[str] = mapped_column(sa.String(500), default="")
    note: Mapped[str] = mapped_column(sa.Text, default="")
    created: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    org: Mapped[Org] = relationship(lazy="joined")


class StoreMeta(Base):
    """Small key/value facts about the store (e.g. the secret that signs page tokens)."""

    __tablename__ = "store_meta"

    key: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    value: Mapped[str] = mapped_column(sa.Text)
