"""POST /api/v1/screen and friends, two organisations, a real local webhook receiver."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from fundtrail.analysis.trace.testing import UtxoChain, btc_address
from fundtrail.screen.build import build_index
from fundtrail.screen.webhooks import SIGNATURE_HEADER, verify
from fundtrail.server.app import create_app
from fundtrail.settings import Settings, reset_settings

SANCTIONED = "12QtD5BFwRsdNsAZY76UVE1xyCGNTojH9h"  # on the OFAC SDN list


def _chain(home: Path) -> None:
    chain = UtxoChain()
    chain.tx("c0", [], [("boss", 500)])
    chain.tx("t1", [("c0", 0)], [("mule", 500)])
    chain.tx("c1", [], [("customer", 70)])
    chain.commit(home)


def _build(hub) -> dict:
    return build_index(Path(hub.app.state.settings.home), hops=3, intel=hub.store)


def _screen(hub, who: str, body: dict) -> dict:
    r = hub.client.post("/api/v1/screen", json=body, headers=hub.auth(who))
    assert r.status_code == 200, r.text
    return dict(r.json())


@pytest.fixture
def screened(hub):
    _chain(Path(hub.app.state.settings.home))
    hub.add(
        "police/analyst",
        type="crypto-address",
        chain="BTC",
        value=SANCTIONED,
        category="sanctions",
        tlp="clear",
        confidence=100,
    )
    hub.add(
        "police/analyst",
        type="crypto-address",
        chain="BTC",
        value=btc_address("boss"),
        category="pig-butchering",
        tlp="red",
        share_with=["exchange"],
    )
    _build(hub)
    return hub


def test_sanctioned_address_is_severe_and_says_who_shared_it(screened) -> None:
    hit = _screen(screened, "bank/reader", {"chain": "BTC", "address": SANCTIONED})
    assert hit["risk"] == "severe" and hit["score"] == 100
    (reason,) = hit["reasons"]
    assert reason["category"] == "sanctions"
    assert reason["source"]["org"] == "police" and reason["source"]["tlp"] == "clear"
    assert hit["index_version"]


def test_red_intel_reaches_the_listed_partner_and_nobody_else(screened) -> None:
    body = {"items": [{"chain": "BTC", "address": btc_address(a)} for a in ("boss", "mule")]}
    partner = _screen(screened, "exchange/reader", body)["items"]
    outsider = _screen(screened, "bank/reader", body)["items"]
    assert partner[0]["risk"] == "high"
    assert partner[1]["reasons"][0]["exposure"] == "indirect"
    assert partner[1]["reasons"][0]["share"] == pytest.approx(1.0)
    assert [o["risk"] for o in outsider] == ["none", "none"]
    assert "pig-butchering" not in json.dumps(outsider)


def test_batch_of_ten_thousand_is_answered_and_one_more_is_refused(screened) -> None:
    settings = Settings(home=screened.app.state.settings.home)  # production body limit
    client = TestClient(create_app(screened.store, settings))
    auth = screened.auth("bank/reader")
    full = {"items": [{"chain": "BTC", "address": SANCTIONED}] * 10_000}
    r = client.post("/api/v1/screen", json=full, headers=auth)
    assert r.status_code == 200 and len(r.json()["items"]) == 10_000
    assert {i["risk"] for i in r.json()["items"]} == {"severe"}
    r = client.post(
        "/api/v1/screen", json={"items": full["items"] + [full["items"][0]]}, headers=auth
    )
    assert r.status_code == 422 and "10000" in r.json()["message"]


def test_per_item_errors_name_the_item(screened) -> None:
    mixed = _screen(
        screened,
        "bank/reader",
        {
            "items": [
                {"chain": "BTC", "address": SANCTIONED},
                {"chain": "BTC", "address": SANCTIONED[:-1] + "j"},
            ]
        },
    )["items"]
    assert mixed[0]["risk"] == "severe"
    assert mixed[1]["risk"] is None and "checksum" in mixed[1]["error"]
    r = screened.client.post(
        "/api/v1/screen",
        json={"address": SANCTIONED, "direction": "up"},
        headers=screened.auth("bank/reader"),
    )
    assert r.status_code == 422 and r.json()["field"] == "direction"


def test_org_rules_are_admin_only_and_change_the_verdict(screened) -> None:
    rules = {"ignore_categories": ["sanctions"]}
    r = screened.client.put(
        "/api/v1/screen/rules", json=rules, headers=screened.auth("bank/reader")
    )
    assert r.status_code == 403
    r = screened.client.put("/api/v1/screen/rules", json=rules, headers=screened.auth("bank/admin"))
    assert r.status_code == 200
    assert _screen(screened, "bank/reader", {"address": SANCTIONED})["risk"] == "none"
    assert _screen(screened, "exchange/reader", {"address": SANCTIONED})["risk"] == "severe"


def test_decisions_are_logged_for_the_org_only(screened) -> None:
    _screen(
        screened,
        "bank/reader",
        {"address": SANCTIONED, "direction": "deposit", "amount": 150000, "asset": "BTC"},
    )
    r = screened.client.get("/api/v1/screen/decisions", headers=screened.auth("bank/analyst"))
    (d,) = r.json()
    assert d["address"] == SANCTIONED and d["risk"] == "severe" and d["amount"] == 150000
    r = screened.client.get("/api/v1/screen/decisions", headers=screened.auth("exchange/analyst"))
    assert r.json() == []


def test_no_index_yet_answers_404_with_the_fix(hub) -> None:
    r = hub.client.post(
        "/api/v1/screen", json={"address": SANCTIONED}, headers=hub.auth("bank/reader")
    )
    assert r.status_code == 404 and "screen index build" in r.json()["message"]


@pytest.fixture
def receiver() -> Iterator[tuple[str, list[tuple[bytes, str]]]]:
    calls: list[tuple[bytes, str]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            calls.append(
                (
                    self.rfile.read(int(self.headers["Content-Length"])),
                    self.headers[SIGNATURE_HEADER],
                )
            )
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/alerts", calls
    server.shutdown()


def test_new_intel_raises_an_alert_on_a_past_deposit(hub, receiver, monkeypatch) -> None:
    monkeypatch.setenv("FUNDTRAIL_WEBHOOK_ALLOW_PRIVATE", "1")
    reset_settings()
    url, calls = receiver
    _chain(Path(hub.app.state.settings.home))
    _build(hub)
    r = hub.client.post(
        "/api/v1/webhooks",
        json={"url": url, "secret": "0123456789abcdef!"},
        headers=hub.auth("exchange/admin"),
    )
    assert r.status_code == 201, r.text
    deposit = {
        "chain": "BTC",
        "address": btc_address("mule"),
        "direction": "deposit",
        "amount": 500,
        "txid": "ab" * 32,
    }
    assert _screen(hub, "exchange/reader", deposit)["risk"] == "none"
    hub.add(
        "police/analyst",
        type="crypto-address",
        chain="BTC",
        value=btc_address("boss"),
        category="ransomware",
        tlp="amber",
        share_with=["exchange"],
    )
    report = _build(hub)
    assert report["alerts"] == 1
    (alert,) = hub.client.get("/api/v1/alerts", headers=hub.auth("exchange/reader")).json()
    assert alert["address"] == btc_address("mule") and alert["previous_risk"] == "none"
    assert alert["risk"] in ("high", "severe") and alert["delivered"]
    assert hub.client.get("/api/v1/alerts", headers=hub.auth("bank/reader")).json() == []
    ((body, signature),) = calls
    assert verify(body, "0123456789abcdef!", signature)
    assert json.loads(body)["alert"]["address"] == btc_address("mule")
    assert _build(hub)["alerts"] == 0  # nothing changed: no duplicate alert
    reset_settings()


def test_past_deposits_beyond_one_page_are_all_rescreened(hub, monkeypatch) -> None:
    """Pages of 2 across two orgs: every deposit compared, each only in its org's view."""
    from fundtrail.screen import alerts

    monkeypatch.setattr(alerts, "PAGE", 2)  # as if the orgs had over 10,000 deposits each
    _chain(Path(hub.app.state.settings.home))
    _build(hub)
    deposit = {"chain": "BTC", "address": btc_address("mule"), "direction": "deposit"}
    for _ in range(5):
        assert _screen(hub, "exchange/reader", deposit)["risk"] == "none"
    for _ in range(3):
        assert _screen(hub, "bank/reader", deposit)["risk"] == "none"
    hub.add(
        "police/analyst",
        type="crypto-address",
        chain="BTC",
        value=btc_address("boss"),
        category="ransomware",
        tlp="amber",
        share_with=["exchange"],
    )
    assert _build(hub)["alerts"] == 5  # the bank may not see the amber report
    mine = hub.client.get("/api/v1/alerts", headers=hub.auth("exchange/reader")).json()
    assert len({a["id"] for a in mine}) == 5 and {a["previous_risk"] for a in mine} == {"none"}
    assert hub.client.get("/api/v1/alerts", headers=hub.auth("bank/reader")).json() == []
    assert _build(hub)["alerts"] == 0
