"""Screening answers with the intel database unreachable, exactly as with it up.

The README says lookups touch no database: an answer is the memory-mapped index, the
overlay of intel changes and the organisation's rules already in memory, and the
decision goes to the on-disk log. So once a screener has answered, taking the database
away (its file moved, every pooled connection closed) must not change what it answers,
nor stop it from logging the decision.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import sqlalchemy as sa
from world import EXCHANGE, POLICE, World, cli, using

from fundtrail.errors import StorageError
from fundtrail.intelstore.db import open_store
from fundtrail.screen.service import OrgView, Screener
from fundtrail.screen.verdicts import ScreenItem

HEADER = "type,value,chain,category,confidence,tlp,description\n"


def verdicts(result: dict) -> list[tuple]:
    return [
        (a["address"], a["risk"], a["score"], len(a.get("reasons", []))) for a in result["items"]
    ]


def test_answers_and_logging_go_on_with_the_database_gone(world: World, tmp_path: Path) -> None:
    target = world.reserved()[0]["to_address"]
    intel = tmp_path / "intel.csv"
    intel.write_text(HEADER + f"crypto-address,{target},BTC,scam,90,green,collection wallet\n")
    with using(world.home):
        cli("intel", "import", str(intel), "--format", "csv", "--org", POLICE)
        cli("screen", "index", "build")
        orgs = {o["name"]: o["id"] for o in json.loads(cli("org", "list", "--json"))}
        store = open_store()
    screener = Screener(store, world.home)
    who = OrgView(orgs[EXCHANGE], EXCHANGE, None)
    items = [
        ScreenItem("BTC", target, "deposit", 150_000),
        ScreenItem("BTC", world.reserved()[1]["to_address"], "deposit"),
        ScreenItem("BTC", "1BoatSLRHtKNngkdXEeobR76b53LETtpyT", "withdrawal"),
    ]
    before = screener.screen(items, who)
    assert verdicts(before)[0][1] not in ("none", None), before["items"][0]  # the scam hit

    store.engine.dispose()
    db = world.home / "intel.sqlite"
    shutil.move(db, tmp_path / "intel.sqlite.away")
    db.mkdir()  # nothing can open it now
    with pytest.raises(StorageError), store.read_session() as s:
        s.execute(sa.text("select 1"))

    again = screener.screen(items, who)
    assert verdicts(again) == verdicts(before)
    assert [a["reasons"] for a in again["items"]] == [a["reasons"] for a in before["items"]]
    logged = list((world.home / "screen" / "decisions").glob("*.log"))
    assert logged and sum(p.stat().st_size for p in logged) > 0
    screener.close()  # drains best effort: with the store gone the decisions wait on disk
