"""The issue's story end to end on a traced world: a police unit traces a scam campaign,
sends freeze requests to two exchanges from the campaign page, each exchange sees only its
own in its inbox and answers, and the police's campaign page, case file and re-trace show
what was frozen, per exchange and in total against the loss, exact in the asset's units."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cases_world import World
from fastapi.testclient import TestClient

from fundtrail.intelstore.db import IntelStore, open_store
from fundtrail.intelstore.keys import create_key
from fundtrail.intelstore.orgs import add_org
from fundtrail.model import display
from fundtrail.server.app import create_app
from fundtrail.settings import Settings
from fundtrail.testing import web_sign_in

VICTIMS = 12  # enough to cash out at several exchanges; a small case file to write
ORGS = {"police": "law-enforcement", "ex-a": "exchange", "ex-b": "exchange", "bank": "bank"}


@dataclass
class Hub:
    app: Any
    store: IntelStore
    keys: dict[str, str]
    home: Path

    def h(self, org: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[org]}"}

    def browser(self, org: str) -> TestClient:
        client = TestClient(self.app, follow_redirects=False)
        assert web_sign_in(client, self.keys[org]).status_code == 303
        return client


@pytest.fixture
def hub(ws: Path) -> Iterator[Hub]:
    store = open_store()
    with store.session() as s:
        for name, kind in ORGS.items():
            add_org(s, name, kind)
        keys = {name: create_key(s, name, "analyst").key for name in ORGS}
    app = create_app(store, Settings(home=ws, screen_background=False))
    yield Hub(app, store, keys, ws)
    store.close()


def _csrf(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found, "no CSRF token on the page"
    return found.group(1)


def _units(amount: int) -> str:
    """Base units of BTC as the exchange types them in the answer form."""
    return f"{amount // 10**8}.{amount % 10**8:08d}"


def _trace(hub: Hub, cid: str, org: str) -> dict[str, Any]:
    """`fundtrail campaign trace CID --org ORG --json`, as the service gives it."""
    from fundtrail.cases.casefile import trace_campaign
    from fundtrail.intelstore.orgs import org_identity

    with hub.store.session() as s:
        who = org_identity(s, org, "analyst")
    return trace_campaign(hub.store, cid, viewer=who, home=hub.home).to_dict()


def _police_traces_the_scam(world: World, hub: Hub) -> str:
    api = TestClient(hub.app)
    rows = [r for r in world.rows() if r["complaint_id"].startswith("C-SCAM")][:VICTIMS]
    body = [
        {
            "complaint_id": r["complaint_id"],
            "victim": r["victim"],
            "reported_at": r["reported_at"],
            "chain": r["chain"],
            "txid": r["txid"],
            "vout": int(r["vout"]),
            "to_address": r["to_address"],
            "amount": r["amount"],
            "asset": r["asset"],
        }
        for r in rows
    ]
    r = api.post("/api/v1/complaints/bulk", json={"complaints": body}, headers=hub.h("police"))
    assert r.status_code == 200 and r.json()["imported"] == len(rows), r.text
    camps = api.get("/api/v1/campaigns", headers=hub.h("police")).json()
    cid = max(camps, key=lambda c: c["complaints"])["id"]
    assert not any(c["frozen"] for c in _trace(hub, cid, "police")["cashouts"])
    return str(cid)


def test_freeze_requests_to_two_exchanges_come_back_as_the_frozen_total(
    world: World, hub: Hub
) -> None:
    cid = _police_traces_the_scam(world, hub)
    api = TestClient(hub.app)
    plan = api.get(f"/api/v1/campaigns/{cid}/freeze", headers=hub.h("police")).json()
    assert len(plan["requests"]) >= 2, "the scam cashes out at fewer than two exchanges"
    top = sorted(plan["requests"], key=lambda r: -sum(r["totals"].values()))[:2]
    at = {"ex-a": top[0], "ex-b": top[1]}

    # the police send both from the campaign page's form
    police = hub.browser("police")
    page = police.get(f"/ui/campaigns/{cid}").text
    assert 'id="request-form"' in page and "No requests sent for this campaign." in page
    for org, req in at.items():
        assert f"<option>{req['exchange']}</option>" in page  # the form offers the traced names
        form = {"csrf": _csrf(page), "to": org, "exchange": req["exchange"], "kind": "freeze"}
        r = police.post(f"/ui/campaigns/{cid}/requests", data=form | {"send": "1"})
        assert r.status_code == 303, r.text
        assert "sent" in police.get(r.headers["location"]).text
    outbox = api.get("/api/v1/requests?box=outbox", headers=hub.h("police")).json()
    ids = {r["to"]: r["id"] for r in outbox}
    assert set(ids) == {"ex-a", "ex-b"}

    # each exchange sees only its own; the bank sees none
    frozen: dict[str, int] = {}
    for org, other in (("ex-a", "ex-b"), ("ex-b", "ex-a")):
        ex = hub.browser(org)
        inbox = ex.get("/ui/requests").text
        assert ids[org] in inbox and ids[other] not in inbox
        assert ex.get(f"/ui/requests/{ids[other]}").status_code == 404
        shown = api.get(f"/api/v1/requests/{ids[org]}", headers=hub.h(org)).json()
        assert shown["state"] == "received" and shown["exchange"] == at[org]["exchange"]
        deposits = shown["deposits"]
        want = [(d["deposit_address"], d["amount"]) for d in at[org]["deposits"]]
        assert [(d["address"], d["amount"]) for d in deposits] == want  # the plan's, in order
        assert {a["name"].rsplit(".", 1)[1] for a in shown["attachments"]} == {"json", "pdf"}
        # the exchange freezes all but 1,234 sat of the first deposit; the second is gone
        page = ex.get(f"/ui/requests/{ids[org]}").text
        held = deposits[0]["amount"] - 1234
        form = {
            "csrf": _csrf(page),
            "address_1": deposits[0]["address"],
            "outcome_1": "frozen",
            "amount_1": _units(held),
        }
        if len(deposits) > 1:
            form |= {"address_2": deposits[1]["address"], "outcome_2": "moved"}
            form |= {"moved_2": "an OTC desk"}
        r = ex.post(f"/ui/requests/{ids[org]}/answer", data=form)
        assert r.status_code == 303, r.text
        frozen[org] = held
    bank = api.get("/api/v1/requests", headers=hub.h("bank")).json()
    assert bank == []

    # the police's campaign page: per exchange what was requested and frozen, the total
    page = police.get(f"/ui/campaigns/{cid}").text
    total = sum(frozen.values())
    view = api.get(f"/api/v1/campaigns/{cid}", headers=hub.h("police")).json()
    loss = view["total_loss"]["BTC"]
    cell = re.search(r'id="frozen-vs-loss">(.*?)</td>', page, re.S)
    assert cell is not None
    assert cell.group(1).strip() == (
        f"{display.amount(total, 'BTC')} of {display.amount(loss, 'BTC')} lost "
        f"({100 * total / loss:.1f}%)"
    )
    table = page[page.index('id="requests-per-exchange"') : cell.end()]
    for org, req in at.items():
        row = table[table.index(f"<td>{org} (") :].split("</tr>", 1)[0]
        requested = sum(req["totals"].values())
        assert display.amount(requested, "BTC") in row and "freeze: answered" in row
        assert display.amount(frozen[org], "BTC") in row
    for org in at:  # the cash-out table marks what each froze
        assert f"frozen by {org}: {display.amount(frozen[org], 'BTC')}" in page

    # the case file carries the same, exact in base units
    r = police.post(f"/ui/campaigns/{cid}/report", data={"csrf": _csrf(page)})
    assert r.status_code in (200, 303), r.text
    folder = next((hub.home / "reports").glob("*/latest"))
    asked = json.loads((folder / "requests.json").read_text())
    assert asked["frozen_total"] == {"BTC": total} and asked["loss"] == {"BTC": loss}
    per = {x["org"]: x for x in asked["exchanges"]}
    for org, req in at.items():
        assert per[org]["exchange"] == req["exchange"]
        assert per[org]["requested"] == req["totals"] and per[org]["frozen"] == {"BTC": frozen[org]}
    assert "requests.json" in (folder / "SHA256SUMS").read_text()
    report = (folder / "report.html").read_text()
    assert f"{display.amount(total, 'BTC')} of {display.amount(loss, 'BTC')} lost" in report
    for org in at:  # the report's cash-out table marks the frozen deposits
        assert f"frozen by {org}: {display.amount(frozen[org], 'BTC')}" in report

    # a re-trace marks the frozen deposits in the trace's own JSON; only for the requester
    again = _trace(hub, cid, "police")
    for org, req in at.items():
        ex = again["exchanges"][req["exchange"]]
        assert ex["frozen"] == {"BTC": frozen[org]}
        first = req["deposits"][0]["deposit_address"]
        marked = {d["deposit_address"] for d in ex["deposits"] if d["frozen"]}
        assert marked == {first}
        mark = next(d["frozen"] for d in ex["deposits"] if d["deposit_address"] == first)
        assert mark["by"] == org and mark["amount"] == frozen[org] and mark["asset"] == "BTC"
        assert mark["requests"] == [ids[org]]
    replan = api.get(f"/api/v1/campaigns/{cid}/freeze", headers=hub.h("police")).json()
    for org, req in at.items():  # the freeze plan says so beside the deposit
        again_at = next(r for r in replan["requests"] if r["exchange"] == req["exchange"])
        notes = {d["deposit_address"]: d["note"] or "" for d in again_at["deposits"]}
        said = f"already frozen by {org}: {display.amount(frozen[org], 'BTC')}"
        assert said in notes[req["deposits"][0]["deposit_address"]]
        assert sum(said in n for n in notes.values()) == 1
    shown = api.get(f"/api/v1/campaigns/{cid}", headers=hub.h("police")).json()
    assert sum(1 for c in shown["cashouts"] if c["frozen"]) == sum(
        1 for c in again["cashouts"] if c["frozen"]
    )
    r = api.post(f"/api/v1/campaigns/{cid}/case", json={"share_with": ["bank"]},
                 headers=hub.h("police"))  # fmt: skip
    assert r.status_code == 201  # a case member sees the trace, not the police's answers
    assert not any(c["frozen"] for c in _trace(hub, cid, "bank")["cashouts"])
