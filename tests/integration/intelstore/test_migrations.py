"""Models and migrations agree (empty autogenerate diff) on SQLite and PostgreSQL; one head."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from fundtrail.intelstore.db import IntelStore, alembic_config, load_models, open_store


def test_autogenerate_finds_nothing_to_do(store: IntelStore) -> None:
    with store.engine.connect() as con:
        ctx = MigrationContext.configure(con, opts={"compare_type": True})
        diff = compare_metadata(ctx, load_models())
    assert diff == [], f"models and migrations disagree; add a migration: {diff}"


def test_the_chain_has_one_head() -> None:
    heads = ScriptDirectory.from_config(alembic_config()).get_heads()
    assert len(heads) == 1, f"migration chain has several heads {heads}; rebase one onto the other"


def test_open_twice_is_a_no_op_and_reaches_head(store_url: str) -> None:
    first = open_store(store_url)
    first.close()
    again = open_store(store_url)
    with again.engine.connect() as con:
        current = MigrationContext.configure(con).get_current_heads()
        tables = set(sa.inspect(con).get_table_names())
    again.close()
    head = ScriptDirectory.from_config(alembic_config()).get_heads()
    assert set(current) == set(head)
    assert {
        "orgs",
        "api_keys",
        "indicators",
        "indicator_shares",
        "sightings",
        "audit_log",
    } <= tables
