"""Web UI sessions, kept server-side so that signing out or revoking a key ends them.

The browser's cookie carries a random session token (signed); the store keeps only its
SHA-256, the key it signed in with, the form token (CSRF) and when it ends. A session
is live while its row exists, is not ended and not expired, and its key is neither
revoked nor expired.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from fundtrail.intelstore.base import Base, UTCDateTime, utcnow


class WebSession(Base):
    __tablename__ = "web_sessions"

    id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)  # SHA-256 of the token
    key_id: Mapped[str] = mapped_column(
        sa.ForeignKey("api_keys.id", ondelete="CASCADE"), index=True
    )
    csrf: Mapped[str] = mapped_column(sa.String(64))
    created: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires: Mapped[datetime] = mapped_column(UTCDateTime())
    ended: Mapped[datetime | None] = mapped_column(UTCDateTime())
