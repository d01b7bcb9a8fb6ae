"""Saved money-flow graphs: a canvas an analyst arranged, kept with the campaign (case).

The body is the canvas's own JSON (boxes, positions, pins, groups, notes, hidden boxes,
and the trace query it came from), stored as it was saved so the evidence shown in a
case can be reopened exactly; it is bounded in size by the route.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from fundtrail.intelstore.base import Base, UTCDateTime, new_id, utcnow


class CampaignGraph(Base):
    __tablename__ = "campaign_graphs"

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True, default=new_id)
    campaign_id: Mapped[str] = mapped_column(
        sa.ForeignKey("campaigns.id", ondelete="CASCADE"), index=True
    )
    org_id: Mapped[str | None] = mapped_column(sa.ForeignKey("orgs.id", ondelete="SET NULL"))
    name: Mapped[str] = mapped_column(sa.String(200))
    created: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    body: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
