"""Alembic environment for the packaged intel-store migrations.

Run by ``fundtrail.intelstore.db.upgrade`` with a live connection in
``config.attributes['connection']``; from the command line, pass ``-x url=...``.
"""

from __future__ import annotations

from typing import Any, Literal

import sqlalchemy as sa
from alembic import context

from fundtrail.intelstore.base import UTCDateTime
from fundtrail.intelstore.db import load_models

config = context.config
target_metadata = load_models()


def _render_item(type_: str, obj: Any, autogen_context: Any) -> str | Literal[False]:
    """Render our UTCDateTime as a plain DateTime so migrations import nothing of ours."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime()"
    return False


def _run(connection: sa.Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        render_item=_render_item,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    url = context.get_x_argument(as_dictionary=True).get("url")
    if not url:
        from fundtrail.settings import get_settings

        url = get_settings().intel_url
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        _run(conn)
