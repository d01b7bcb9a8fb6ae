"""TAXII status resources: the outcome of each add-objects request, readable by its org.

Kept in the store (not in a worker's memory) so any worker of ``fundtrail serve
--workers N`` answers ``GET /taxii2/api/status/{id}/``; rows older than a day are
dropped when new ones are written.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from fundtrail.intelstore.base import Base, UTCDateTime, utcnow


class TaxiiStatus(Base):
    __tablename__ = "taxii_status"

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    org_id: Mapped[str] = mapped_column(sa.ForeignKey("orgs.id", ondelete="CASCADE"), index=True)
    created: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    body: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
