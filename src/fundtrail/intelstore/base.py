"""The one declarative ``Base`` every intel-store model module derives from.

Other parts (cases, screening, ...) add their own model modules in this package
with ``class X(Base)`` and their own Alembic migration in the same linear chain
(see ``migrations/README.md``); the naming convention below keeps constraint
names identical on SQLite and PostgreSQL so autogenerate stays quiet.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


class Base(DeclarativeBase):
    metadata = metadata


class UTCDateTime(sa.TypeDecorator[datetime]):
    """Timezone-aware UTC in Python, naive UTC in the database (same on SQLite and PG)."""

    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the intel store; use UTC-aware datetimes")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


def utcnow() -> datetime:
    """Now, in UTC, to the microsecond (what both databases keep)."""
    return datetime.now(UTC)


def new_id() -> str:
    """A random public id (UUID4 text): ids never reveal order or count."""
    return str(uuid.uuid4())
