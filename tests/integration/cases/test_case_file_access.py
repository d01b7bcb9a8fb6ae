"""Case files are served only to organisations that may see every part of them (issue 15 #1).

The attack: an exchange whose complaints joined the police's campaign may see the
campaign (other victims withheld), yet downloaded the police's report with every
victim's name, and the freeze requests addressed to other exchanges.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from cases_world import World
from fastapi.testclient import TestClient
from test_cases_api import body, scam_rows

from fundtrail.cases.casefile import write_campaign_report
from fundtrail.intelstore.audit import AuditEntry
from fundtrail.intelstore.db import IntelStore, open_store
from fundtrail.intelstore.keys import create_key
from fundtrail.intelstore.orgs import add_org, org_identity
from fundtrail.server.app import create_app
from fundtrail.settings import Settings
from fundtrail.testing import web_sign_in

ORGS = {"police": "law-enforcement", "bank": "bank", "exchange": "exchange", "other": "exchange"}


@dataclass
class Hub:
    store: IntelStore
    home: Path
    keys: dict[str, str]
    cid: str

    def browser(self, org: str) -> TestClient:
        app = create_app(self.store, Settings(home=self.home))
        client = TestClient(app, raise_server_exceptions=False, base_url="http://testserver")
        r = web_sign_in(client, self.keys[org], follow_redirects=False)
        assert r.status_code == 303, r.text
        return client

    def write(self, org: str) -> str:
        with self.store.read_session() as s:
            who = org_identity(s, org, "analyst")
        files = write_campaign_report(
            self.store, self.cid, self.home / "reports" / self.cid, viewer=who, home=self.home
        )
        return files[0].parent.name


@pytest.fixture
def hub(world: World, ws: Path) -> Iterator[Hub]:
    store = open_store(f"sqlite:///{ws / 'intel.sqlite'}")
    keys = {}
    with store.session() as s:
        for name, kind in ORGS.items():
            add_org(s, name, kind)
            keys[name] = create_key(s, name, "analyst").key
    api = TestClient(create_app(store, Settings(home=ws)), raise_server_exceptions=False)

    def h(org: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {keys[org]}"}

    rows = scam_rows(world)
    for r in rows[:4]:  # the police's victims
        assert api.post("/api/v1/complaints", json=body(r), headers=h("police")).status_code == 201
    for r in rows[4:6]:  # the exchange's customers, joining the same campaign
        assert (
            api.post("/api/v1/complaints", json=body(r), headers=h("exchange")).status_code == 201
        )
    (camp,) = api.get("/api/v1/campaigns", headers=h("police")).json()
    cid = camp["id"]
    r = api.post(
        f"/api/v1/campaigns/{cid}/case", json={"share_with": ["bank"]}, headers=h("police")
    )
    assert r.status_code == 201, r.text
    assert api.get(f"/api/v1/campaigns/{cid}", headers=h("exchange")).status_code == 200
    yield Hub(store, ws, keys, cid)
    store.close()


def _files(page: str) -> set[str]:
    return set(re.findall(r"/files/([^?\"]+)\?version=", page))


def test_case_files_only_for_orgs_that_may_see_every_part(world: World, hub: Hub) -> None:
    police_victims = [r["victim"] for r in scam_rows(world)[:4]]
    version = hub.write("police")
    police, bank, exchange, other = (
        hub.browser(o) for o in ("police", "bank", "exchange", "other")
    )
    url = f"/ui/campaigns/{hub.cid}/files/report.html"

    # the lead and the case member read the report with every victim
    for client in (police, bank):
        r = client.get(url)
        assert r.status_code == 200, r.text
        assert all(v in r.text for v in police_victims)

    # the exchange sees the campaign but no file of the police's case file, in any form
    page = exchange.get(f"/ui/campaigns/{hub.cid}")
    assert page.status_code == 200
    assert _files(page.text) == set() and "report.html" not in page.text
    for target in (url, f"{url}?version={version}", f"/ui/campaigns/{hub.cid}/files/SHA256SUMS"):
        r = exchange.get(target)
        assert r.status_code == 404
        assert not any(v in r.text for v in police_victims)
    listed = _files(police.get(f"/ui/campaigns/{hub.cid}").text)
    assert "report.html" in listed
    for name in listed:  # freeze requests to other exchanges included
        assert exchange.get(f"/ui/campaigns/{hub.cid}/files/{name}").status_code == 404
    # an org that may not see the campaign at all: not found
    assert other.get(url).status_code == 404
    # the bookkeeping file is never served
    assert police.get(f"/ui/campaigns/{hub.cid}/files/.audience.json").status_code == 404

    # the exchange writes its own version: it reads that one (its own victims only) ...
    own = hub.write("exchange")
    r = exchange.get(url)
    assert r.status_code == 200
    assert not any(v in r.text for v in police_victims)
    assert exchange.get(f"{url}?version={version}").status_code == 404
    assert exchange.get(f"{url}?version={own}").status_code == 200
    # ... and the case's lead may read it too (it may see every victim in it)
    assert police.get(f"{url}?version={own}").status_code == 200


def test_case_file_downloads_are_audited(hub: Hub) -> None:
    version = hub.write("police")
    police = hub.browser("police")
    assert police.get(f"/ui/campaigns/{hub.cid}/files/report.html").status_code == 200
    with hub.store.read_session() as s:
        rows = s.query(AuditEntry).filter(AuditEntry.action == "case.file.read").all()
    assert [(r.object_id, r.details) for r in rows] == [
        (hub.cid, {"version": version, "file": "report.html"})
    ]
