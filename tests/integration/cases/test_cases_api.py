"""REST: complaints in (single and bulk), campaigns out, personal data per org and case."""

from __future__ import annotations

import sqlite3
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
from fundtrail.server.app import create_app
from fundtrail.settings import Settings

ORGS = {"police": "law-enforcement", "bank": "bank", "exchange": "exchange"}


@dataclass
class Api:
    client: TestClient
    store: IntelStore
    keys: dict[str, str]
    db: Path

    def h(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[who]}"}


@pytest.fixture
def api(ws: Path) -> Iterator[Api]:
    db = ws / "intel.sqlite"
    store = open_store(f"sqlite:///{db}")
    keys = {}
    with store.session() as s:
        for name, kind in ORGS.items():
            add_org(s, name, kind)
            keys[name] = create_key(s, name, "analyst").key
            keys[f"{name}/reader"] = create_key(s, name, "reader").key
    client = TestClient(create_app(store, Settings(home=ws)), raise_server_exceptions=False)
    yield Api(client, store, keys, db)
    store.close()


def body(row: dict[str, str], **extra: Any) -> dict[str, Any]:
    return {
        "complaint_id": row["complaint_id"],
        "victim": row["victim"],
        "contact": f"{row['victim'].split()[0].lower()}@mail.example",
        "reported_at": row["reported_at"],
        "chain": row["chain"],
        "txid": row["txid"],
        "vout": int(row["vout"]),
        "to_address": row["to_address"],
        "amount": row["amount"],
        "asset": row["asset"],
        "description": "Promised 30% a month on 'AI trading'.",
        **extra,
    }


def scam_rows(world: World) -> list[dict[str, str]]:
    return [r for r in world.rows() if r["complaint_id"].startswith("C-SCAM")]


def test_single_complaint_checked_stored_encrypted_and_private(world: World, api: Api) -> None:
    row = scam_rows(world)[0]
    r = api.client.post("/api/v1/complaints", json=body(row), headers=api.h("police"))
    assert r.status_code == 201, r.text
    created = r.json()
    assert created["victim"] == row["victim"] and created["status"] == "verified"
    # at rest: neither the name, the contact nor the free text is readable in the database
    with sqlite3.connect(api.db) as con:
        raw = con.execute(
            "SELECT victim_enc, contact_enc, description_enc FROM complaints"
        ).fetchone()
        dump = "\n".join(con.iterdump())
    assert row["victim"] not in dump and "mail.example" not in dump and "AI trading" not in dump
    assert all(v.startswith("v1:") for v in raw)
    # the reporting org sees it; another org does not, even that it exists
    assert (
        api.client.get(f"/api/v1/complaints/{created['id']}", headers=api.h("police")).json()[
            "victim"
        ]
        == row["victim"]
    )
    hidden = api.client.get(f"/api/v1/complaints/{created['id']}", headers=api.h("bank"))
    missing = api.client.get("/api/v1/complaints/nope", headers=api.h("bank"))
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json()["message"].replace(created["id"], "X") == missing.json()[
        "message"
    ].replace("nope", "X")
    assert api.client.get("/api/v1/campaigns", headers=api.h("bank")).json() == []
    (camp,) = api.client.get("/api/v1/campaigns", headers=api.h("police")).json()
    assert camp["complaints"] == 1 and camp["total_loss"] == {"BTC": int(row["amount"])}
    # the same payment again: a conflict, nothing stored twice
    again = api.client.post("/api/v1/complaints", json=body(row), headers=api.h("police"))
    assert again.status_code == 409 and row["complaint_id"] in again.json()["message"]
    # another org reporting the same payment is stored like any complaint (no "already
    # reported by another organisation" oracle), and the payment still counts once
    other = api.client.post("/api/v1/complaints", json=body(row), headers=api.h("bank"))
    assert other.status_code == 201 and other.json()["org"] == "bank"
    (camp,) = api.client.get("/api/v1/campaigns", headers=api.h("police")).json()
    assert camp["total_loss"] == {"BTC": int(row["amount"])} and camp["victims"] == 1


def test_chain_mismatch_refused_with_field(world: World, api: Api) -> None:
    row = scam_rows(world)[0]
    r = api.client.post(
        "/api/v1/complaints",
        json=body(row, amount=str(int(row["amount"]) + 5)),
        headers=api.h("police"),
    )
    assert r.status_code == 422 and r.json()["field"] == "amount"
    r = api.client.post(
        "/api/v1/complaints", json=body(row, to_address="bc1qnotanaddress"), headers=api.h("police")
    )
    assert r.status_code == 422 and r.json()["field"] == "address"
    r = api.client.post("/api/v1/complaints", json=body(row), headers=api.h("police/reader"))
    assert r.status_code == 403
    r = api.client.post("/api/v1/complaints", json=body(row))
    assert r.status_code == 401
    with sqlite3.connect(api.db) as con:
        assert con.execute("SELECT count(*) FROM complaints").fetchone() == (0,)


def test_bulk_and_case_sharing(world: World, api: Api) -> None:
    rows = scam_rows(world)[:6]
    items = [body(r) for r in rows] + [
        body(rows[0], complaint_id="dup"),
        body(rows[1], txid="cd" * 32, complaint_id="ghost"),
    ]
    r = api.client.post(
        "/api/v1/complaints/bulk", json={"complaints": items}, headers=api.h("exchange")
    )
    assert r.status_code == 200, r.text
    rep = r.json()
    assert rep["imported"] == 6
    assert {(e["line"], e["field"]) for e in rep["errors"]} == {(7, "txid"), (8, "txid")}
    (camp,) = api.client.get("/api/v1/campaigns", headers=api.h("exchange")).json()
    cid = camp["id"]
    # police cannot see it yet; it may not lead a case on what it cannot see
    assert api.client.get(f"/api/v1/campaigns/{cid}", headers=api.h("police")).status_code == 404
    # the exchange cannot lead a case; police reports one complaint, then leads the case
    denied = api.client.post(f"/api/v1/campaigns/{cid}/case", json={}, headers=api.h("exchange"))
    assert denied.status_code == 403
    extra = scam_rows(world)[6]
    assert (
        api.client.post("/api/v1/complaints", json=body(extra), headers=api.h("police")).status_code
        == 201
    )
    seen = api.client.get(f"/api/v1/campaigns/{cid}", headers=api.h("police")).json()
    names = {p["ref"]: p["victim"] for p in seen["payments"]}
    assert names[extra["complaint_id"]] == extra["victim"]
    assert {names[r["complaint_id"]] for r in rows} == {"[withheld]"}  # the exchange's victims
    r = api.client.post(
        f"/api/v1/campaigns/{cid}/case", json={"share_with": ["bank"]}, headers=api.h("police")
    )
    assert r.status_code == 201 and r.json()["case_reference"].startswith("FT-")
    # as case leader and member, police and bank now see every victim; the exchange its own
    for who in ("police", "bank"):
        view = api.client.get(f"/api/v1/campaigns/{cid}", headers=api.h(who)).json()
        assert {p["victim"] for p in view["payments"]} == {x["victim"] for x in [*rows, extra]}
    view = api.client.get(f"/api/v1/campaigns/{cid}", headers=api.h("exchange")).json()
    assert {p["victim"] for p in view["payments"] if p["ref"] == extra["complaint_id"]} == {
        "[withheld]"
    }
    # only the leader shares the case further
    r = api.client.post(
        f"/api/v1/campaigns/{cid}/case", json={"share_with": ["exchange"]}, headers=api.h("bank")
    )
    assert r.status_code == 403


@pytest.mark.parametrize(
    "change",
    [
        {"amount": 1.5},
        {"amount": "-5"},
        {"amount": "12e3"},
        {"vout": -1},
        {"txid": "<script>"},
        {"chain": "DOGE2"},
        {"reported_at": "yesterday"},
        {"victim": ""},
        {"extra": "field"},
    ],
)
def test_bad_bodies_answer_4xx_and_store_nothing(
    world: World, api: Api, change: dict[str, Any]
) -> None:
    r = api.client.post(
        "/api/v1/complaints", json=body(scam_rows(world)[0], **change), headers=api.h("police")
    )
    assert 400 <= r.status_code < 500, r.text
    assert r.json()["message"]
    with sqlite3.connect(api.db) as con:
        assert con.execute("SELECT count(*) FROM complaints").fetchone() == (0,)
