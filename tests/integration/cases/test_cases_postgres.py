"""The cases tables on a real PostgreSQL: intake, linking, views and case sharing."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from cases_world import World

from fundtrail.cases.campaigns import get_campaign, list_campaigns, open_case
from fundtrail.cases.intake import import_complaints
from fundtrail.cases.relink import link_campaigns
from fundtrail.intelstore.db import open_store
from fundtrail.intelstore.orgs import add_org
from fundtrail.model.identity import Identity

OPERATOR = Identity.operator()  # these tests check campaigns, not who sees them


@pytest.mark.postgres
def test_cases_on_postgres(world: World, ws: Path, postgres_url: str, tmp_path: Path) -> None:
    rows = world.complaints_csv.read_text().splitlines()
    part = tmp_path / "part.csv"
    part.write_text("\n".join(rows[:41]) + "\n")
    store = open_store(postgres_url)
    with store.session() as s:
        police, bank = add_org(s, "police", "law-enforcement"), add_org(s, "bank", "bank")
        ids = (police.id, bank.id)
    rep = import_complaints(part, org="police", store=store)
    assert rep.imported == 40
    link_campaigns(store)
    link_campaigns(store)  # idempotent
    with store.read_session() as s:
        views = list_campaigns(s, OPERATOR)
        assert sum(len(v.complaints) for v in views) == 40
        assert list_campaigns(s, Identity(ids[1], "bank", "bank", "analyst", "cli")) == []
        raw = s.execute(sa.text("SELECT victim_enc FROM complaints")).scalars().all()
    names = {r.split(",")[1] for r in rows[1:41]}
    assert not any(n in v for v in raw for n in names)
    with store.session() as s:
        open_case(s, views[0].id, owner="police", share_with=["bank"])
    with store.read_session() as s:
        seen = get_campaign(s, views[0].id, Identity(ids[1], "bank", "bank", "analyst", "cli"))
    assert all(c.pii_visible and c.victim in names for c in seen.complaints)
    store.close()
