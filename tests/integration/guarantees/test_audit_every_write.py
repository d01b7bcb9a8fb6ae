"""Every kind of write lands in the hash-chained audit log: one table over all routes and commands.

The routes that write (POST/PUT/PATCH/DELETE) and the CLI commands are discovered from
the app and the Typer root, and each must have a row in a table below: how to make it
succeed, or why it stores nothing the audit log is for. A write added later without a
row fails ``test_every_route_and_command_is_in_the_table``; one that forgets to audit
fails the write tests, which run each write for real and require a new row naming the
caller, with the chain still verifying afterwards.
"""

from __future__ import annotations

import csv
import functools
import io
import json
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import typer
from fastapi import FastAPI
from fastapi.testclient import TestClient
from world import EXCHANGE, POLICE, World, cli, using

from fundtrail.intel.taxii import COLLECTIONS
from fundtrail.intelstore.audit import AuditEntry, verify
from fundtrail.intelstore.db import open_store
from fundtrail.server.app import create_app
from fundtrail.testing import web_sign_in

WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
CSV_HEADER = "type,value,chain,category,confidence,tlp,description\n"


@dataclass
class Ctx:
    """What the writes need: a client, the world, ids made by earlier writes."""

    client: TestClient
    world: World
    tmp: Path
    made: dict[str, str] = field(default_factory=dict)

    @property
    def police(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.world.police_key}"}

    @property
    def exchange(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.world.exchange_key}"}

    def complaint_rows(self) -> list[dict[str, str]]:
        return self.world.reserved()

    def campaign_id(self) -> str:
        if "campaign" not in self.made:
            with using(self.world.home):
                data = json.loads(cli("campaigns", "--json", "--org", POLICE))
            rows = data if isinstance(data, list) else data.get("campaigns", [])
            self.made["campaign"] = rows[0]["id"]
        return self.made["campaign"]

    def csrf(self) -> str:
        page = self.client.get("/ui/intel")
        found = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert found, "no CSRF token on /ui/intel"
        return found.group(1)


Call = Callable[[Ctx], Any]


def _indicator(c: Ctx) -> Any:
    body = {"type": "domain", "value": "audit-test.example", "category": "phishing"}
    r = c.client.post("/api/v1/indicators", json=body, headers=c.police)
    c.made["indicator"] = r.json().get("id", "")
    return r


def _complaint(c: Ctx, row: dict[str, str]) -> dict[str, Any]:
    return {
        "victim": "Audit Test",
        "chain": row["chain"],
        "txid": row["txid"],
        "vout": int(row["vout"]),
        "to_address": row["to_address"],
        "amount": int(row["amount"]),
    }


def _screen(c: Ctx) -> Any:
    """A screening decision is on disk when answered and copied into the store (with
    its audit row) by a drainer; reading the decision list drains, as an auditor would."""
    body = {"chain": "BTC", "address": c.complaint_rows()[0]["to_address"], "direction": "deposit"}
    r = c.client.post("/api/v1/screen", json=body, headers=c.exchange)
    listed = c.client.get("/api/v1/screen/decisions", headers=c.exchange)
    assert listed.status_code == 200, listed.text
    return r


def _stix_envelope() -> dict[str, Any]:
    return {
        "objects": [
            {
                "type": "indicator",
                "spec_version": "2.1",
                "id": "indicator--6b5c3b2e-1f4e-4e0b-9b8a-0c1d2e3f4a5b",
                "created": "2024-01-01T00:00:00.000Z",
                "modified": "2024-01-01T00:00:00.000Z",
                "pattern": "[domain-name:value = 'taxii-audit.example']",
                "pattern_type": "stix",
                "valid_from": "2024-01-01T00:00:00Z",
                "indicator_types": ["malicious-activity"],
            }
        ]
    }


def _cid() -> str:
    return next(c.id for c in COLLECTIONS if c.key == "own")


def _taxii_delete(c: Ctx) -> Any:
    taxii = {**c.police, "Accept": "application/taxii+json;version=2.1"}
    listed = c.client.get(f"/taxii2/api/collections/{_cid()}/objects/", headers=taxii).json()
    oid = next(o["id"] for o in listed["objects"] if "taxii-audit.example" in o.get("pattern", ""))
    return c.client.delete(f"/taxii2/api/collections/{_cid()}/objects/{oid}/", headers=c.police)


def _request(c: Ctx, send: bool = True) -> Any:
    row = c.complaint_rows()[0]
    body = {
        "to": EXCHANGE,
        "send": send,
        "deposits": [{"chain": "BTC", "address": row["to_address"], "amount": int(row["amount"])}],
    }
    r = c.client.post("/api/v1/requests", json=body, headers=c.police)
    c.made["request" if send else "draft"] = r.json().get("id", "")
    return r


def _request_import(c: Ctx) -> Any:
    _request(c)
    rid = c.made["request"]
    doc = c.client.get(f"/api/v1/requests/{rid}/export", headers=c.exchange).json()
    doc["deposits"][0]["answer"] = {"outcome": "legal-process"}
    return c.client.post("/api/v1/requests/import", json=doc, headers=c.exchange)


def _request_edit(c: Ctx) -> Any:
    _request(c, send=False)
    return c.client.patch(
        f"/api/v1/requests/{c.made['draft']}", json={"reference": "R-2"}, headers=c.police
    )


def _web_request_action(c: Ctx) -> Any:
    _request(c)
    return c.client.post(
        f"/ui/requests/{c.made['request']}/action", data={"csrf": c.csrf(), "action": "withdraw"}
    )


def _web_request_answer(c: Ctx) -> Any:
    _request(c)
    exchange = TestClient(c.client.app, follow_redirects=False)
    assert web_sign_in(exchange, c.world.exchange_key).status_code == 303
    page = exchange.get(f"/ui/requests/{c.made['request']}").text
    token = re.search(r'name="csrf" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    form = {
        "csrf": token,
        "address_1": c.complaint_rows()[0]["to_address"],
        "outcome_1": "not-customer",
    }
    return exchange.post(f"/ui/requests/{c.made['request']}/answer", data=form)


def _web_campaign_request(c: Ctx) -> Any:
    cid = c.campaign_id()
    plan = c.client.get(f"/api/v1/campaigns/{cid}/freeze", headers=c.police).json()
    at = plan["requests"][0]["exchange"]
    return c.client.post(
        f"/ui/campaigns/{cid}/requests",
        data={"csrf": c.csrf(), "to": EXCHANGE, "exchange": at, "kind": "freeze", "send": "1"},
    )


# (method, path) -> the call that makes the write succeed, in the order they run
API_WRITES: dict[tuple[str, str], Call] = {
    ("POST", "/api/v1/indicators"): _indicator,
    ("PATCH", "/api/v1/indicators/{indicator_id}"): lambda c: c.client.patch(
        f"/api/v1/indicators/{c.made['indicator']}", json={"confidence": 90}, headers=c.police
    ),
    ("POST", "/api/v1/indicators/{indicator_id}/sightings"): lambda c: c.client.post(
        f"/api/v1/indicators/{c.made['indicator']}/sightings",
        json={"kind": "seen"},
        headers=c.police,
    ),
    ("DELETE", "/api/v1/indicators/{indicator_id}"): lambda c: c.client.delete(
        f"/api/v1/indicators/{c.made['indicator']}", headers=c.police
    ),
    ("POST", "/api/v1/complaints"): lambda c: c.client.post(
        "/api/v1/complaints", json=_complaint(c, c.complaint_rows()[0]), headers=c.exchange
    ),
    ("POST", "/api/v1/complaints/bulk"): lambda c: c.client.post(
        "/api/v1/complaints/bulk",
        json={"complaints": [_complaint(c, r) for r in c.complaint_rows()[1:3]]},
        headers=c.exchange,
    ),
    ("POST", "/api/v1/campaigns/{campaign_id}/case"): lambda c: c.client.post(
        f"/api/v1/campaigns/{c.campaign_id()}/case",
        json={"share_with": [EXCHANGE]},
        headers=c.police,
    ),
    ("POST", "/api/v1/screen"): _screen,
    ("PUT", "/api/v1/screen/rules"): lambda c: c.client.put(
        "/api/v1/screen/rules",
        json=c.client.get("/api/v1/screen/rules", headers=c.exchange).json(),
        headers=c.exchange,
    ),
    ("POST", "/api/v1/webhooks"): lambda c: c.client.post(
        "/api/v1/webhooks",
        json={"url": "http://127.0.0.1:9/hook", "secret": "a-long-shared-secret-0123456789"},
        headers=c.exchange,
    ),
    ("POST", "/taxii2/api/collections/{cid}/objects/"): lambda c: c.client.post(
        f"/taxii2/api/collections/{_cid()}/objects/",
        content=json.dumps(_stix_envelope()),
        headers={
            **c.police,
            "Content-Type": "application/taxii+json;version=2.1",
            "Accept": "application/taxii+json;version=2.1",
        },
    ),
    ("DELETE", "/taxii2/api/collections/{cid}/objects/{oid}/"): _taxii_delete,
    ("POST", "/ui/intel"): lambda c: c.client.post(
        "/ui/intel",
        data={
            "csrf": c.csrf(),
            "type": "domain",
            "value": "web-audit.example",
            "category": "phishing",
            "tlp": "green",
        },
    ),
    ("POST", "/ui/intel/import"): lambda c: c.client.post(
        "/ui/intel/import",
        data={"csrf": c.csrf(), "format": "csv", "tlp": "green"},
        files={"file": ("x.csv", CSV_HEADER + "domain,upload-audit.example,,scam,70,green,\n")},
    ),
    ("POST", "/ui/intel/{indicator_id}/sightings"): lambda c: c.client.post(
        f"/ui/intel/{_web_indicator(c)}/sightings", data={"csrf": c.csrf(), "kind": "seen"}
    ),
    ("POST", "/ui/campaigns/{campaign_id}/report"): lambda c: c.client.post(
        f"/ui/campaigns/{c.campaign_id()}/report", data={"csrf": c.csrf(), "tlp": "amber"}
    ),
    ("POST", "/ui/campaigns/{campaign_id}/share"): lambda c: c.client.post(
        f"/ui/campaigns/{c.campaign_id()}/share", data={"csrf": c.csrf(), "orgs": EXCHANGE}
    ),
    ("POST", "/api/v1/campaigns/{campaign_id}/graphs"): lambda c: c.client.post(
        f"/api/v1/campaigns/{c.campaign_id()}/graphs",
        json={"name": "audit view", "graph": {"nodes": [], "edges": []}},
        headers=c.police,
    ),
    ("POST", "/ui/campaigns/{campaign_id}/graphs"): lambda c: c.client.post(
        f"/ui/campaigns/{c.campaign_id()}/graphs",
        content=json.dumps({"name": "web audit view", "graph": {"nodes": [], "edges": []}}),
        headers={"x-csrf-token": c.csrf(), "Content-Type": "application/json"},
    ),
    ("POST", "/api/v1/requests"): _request,
    ("POST", "/api/v1/requests/{request_id}/{action}"): lambda c: c.client.post(
        f"/api/v1/requests/{c.made['request']}/acknowledge", json={}, headers=c.exchange
    ),
    ("POST", "/api/v1/requests/{request_id}/answer"): lambda c: c.client.post(
        f"/api/v1/requests/{c.made['request']}/answer",
        json={
            "answers": [{"address": c.complaint_rows()[0]["to_address"], "outcome": "not-customer"}]
        },
        headers=c.exchange,
    ),
    ("PATCH", "/api/v1/requests/{request_id}"): _request_edit,
    ("POST", "/api/v1/requests/import"): _request_import,
    ("POST", "/ui/requests/{request_id}/action"): _web_request_action,
    ("POST", "/ui/requests/{request_id}/answer"): _web_request_answer,
    ("POST", "/ui/campaigns/{campaign_id}/requests"): _web_campaign_request,
    # last: signing out ends the session the rows above used, signing in opens a new one
    ("POST", "/ui/logout"): lambda c: c.client.post("/ui/logout", data={"csrf": c.csrf()}),
    ("POST", "/ui/login"): lambda c: web_sign_in(c.client, c.world.police_key),
}
NOT_WRITES: dict[tuple[str, str], str] = {}


def _web_indicator(c: Ctx) -> str:
    r = c.client.get("/api/v1/indicators", params={"q": "web-audit"}, headers=c.police)
    items = r.json()
    items = items if isinstance(items, list) else items.get("items", items.get("indicators", []))
    return str(items[0]["id"])


def write_routes(app: FastAPI) -> set[tuple[str, str]]:
    out = set()
    for route in app.routes:
        for sub in getattr(getattr(route, "original_router", None), "routes", [route]):
            for method in getattr(sub, "methods", None) or []:
                if method in WRITE_METHODS:
                    out.add((method, sub.path))
    return out


def commands() -> set[str]:
    from fundtrail.cli.main import app

    found: set[str] = set()

    def walk(c: Any, path: list[str]) -> None:
        if not hasattr(c, "commands") or getattr(c, "invoke_without_command", False):
            found.add(" ".join(path))
        for name, sub in getattr(c, "commands", {}).items():
            walk(sub, [*path, name])

    walk(typer.main.get_command(app), [])
    return found


# CLI command -> arguments that make it write (run in this order), FILE/DIR filled in below
CLI_WRITES: dict[str, list[str]] = {
    "org add": ["org", "add", "audit-bank", "--kind", "bank"],
    "key create": ["key", "create", "--org", "audit-bank", "--role", "analyst"],
    "key revoke": ["key", "revoke", "{new_key}"],
    "intel import": ["intel", "import", "{intel_csv}", "--format", "csv", "--org", POLICE],
    "tags import": ["tags", "import", "{tags_csv}", "--format", "csv", "--chain", "BTC"],
    "complaints import": ["complaints", "import", "{complaints_csv}", "--org", POLICE],
    "campaigns link": ["campaigns", "link", "--no-trace"],
    "campaign share": ["campaign", "share", "{campaign}", "--with", EXCHANGE, "--owner", POLICE],
    "campaign accept": ["campaign", "accept", "{campaign}", "{pending}", "--org", POLICE],
    "campaign report": ["campaign", "report", "{campaign}", "-o", "{report_dir}", "--org", POLICE],
    "screen check": ["screen", "check", "{address}", "--org", EXCHANGE],
    "screen rules": ["screen", "rules", "--org", EXCHANGE, "--set", "{rules}"],
    "screen purge": ["screen", "purge", "--older-than-days", "0"],
    "webhook": [
        "webhook",
        "--org",
        EXCHANGE,
        "--url",
        "http://127.0.0.1:9/h2",
        "--secret",
        "another-long-shared-secret-0123",
    ],
    "case-profile": ["case-profile", POLICE, "--legal-basis", "Art. 12 audit test"],
    "prices import": ["prices", "import", "{prices_csv}", "--asset", "BTC", "--currency", "USD"],
    "feed pull": ["feed", "pull", "{feed_url}", "--org", EXCHANGE, "--allow-host", "{feed_host}"],
    "request create": [
        "request",
        "create",
        "--org",
        POLICE,
        "--to",
        EXCHANGE,
        "--deposits",
        "{request_deposits}",
    ],
    "request edit": ["request", "edit", "{request}", "--org", POLICE, "--reference", "R-AUDIT"],
    "request send": ["request", "send", "{request}", "--org", POLICE],
    "request ack": ["request", "ack", "{request}", "--org", EXCHANGE],
    "request answer": [
        "request",
        "answer",
        "{request}",
        "--org",
        EXCHANGE,
        "--not-customer",
        "{address}",
    ],
    "request close": ["request", "close", "{request}", "--org", POLICE],
    "request withdraw": ["request", "withdraw", "{request_draft}", "--org", POLICE],
    "request decline": [
        "request",
        "decline",
        "{request_sent}",
        "--org",
        EXCHANGE,
        "--reason",
        "no such account",
    ],
    "request import": ["request", "import", "{request_doc}", "--org", EXCHANGE],
}
NOT_AUDITED: dict[str, str] = {
    # reads: they store nothing (audited reads are the intel hub's business, not this test's)
    **{
        c: "read"
        for c in (
            "address",
            "alerts",
            "audit verify",
            "campaign freeze",
            "campaign show",
            "campaign freeze",
            "campaigns",
            "campaign trace",
            "cluster show",
            "cluster why",
            "decode",
            "entity",
            "intel export",
            "intel search",
            "key list",
            "org list",
            "request list",  # reads of requests are audited as request.*read
            "request show",
            "request export",
            "request attachment",
            "stats",
            "tags lookup",
            "trace",
            "tx",
            "version",
        )
    },
    # the chain store: ledger data and what is derived from it, rebuilt from the blocks
    "ingest bitcoin": "ledger data; its provenance is the blocks themselves",
    "ingest evm": "ledger data; its provenance is the node's answers",
    "ingest tron": "ledger data; its provenance is the node's answers",
    "cluster": "derived from the ledger; rebuilt, never edited (ARCHITECTURE.md)",
    "screen index build": "derived from the stores; swapped as a whole, never edited",
    "export clusters": "writes a file for the user, stores nothing",
    "audit checkpoint": "signs the newest audit row into a file outside the database",
    "feed publish": "writes a feed folder for the user from what the org may share",
    "simulate": "writes a synthetic chain to a folder, not into a workspace",
    "init": "creates an empty workspace",
    "serve": "serves; its routes are in the route table",
    "demo": "runs the story on its own fresh workspace",
}


def test_every_route_and_command_is_in_the_table(built_world: World) -> None:
    with using(built_world.home):
        app = create_app()
    routes = write_routes(app)
    assert routes == set(API_WRITES) | set(NOT_WRITES), (
        f"write routes without a row here: {sorted(routes - set(API_WRITES) - set(NOT_WRITES))}; "
        f"rows for routes that are gone: {sorted((set(API_WRITES) | set(NOT_WRITES)) - routes)}"
    )
    found = commands()
    table = set(CLI_WRITES) | set(NOT_AUDITED)
    assert found == table, (
        f"commands without a row here: {sorted(found - table)}; "
        f"rows for commands that are gone: {sorted(table - found)}"
    )


def audit_rows(home: Path) -> list[AuditEntry]:
    with using(home):
        store = open_store()
        try:
            assert verify(store).ok, verify(store).problems
            with store.read_session() as s:
                rows = list(s.scalars(sa.select(AuditEntry).order_by(AuditEntry.id)))
                for r in rows:
                    s.expunge(r)
            return rows
        finally:
            store.close()


def new_writes(before: list[AuditEntry], after: list[AuditEntry]) -> list[AuditEntry]:
    """Rows added since ``before`` that record a write (audited reads end in 'read')."""
    return [r for r in after[len(before) :] if not r.action.endswith("read")]


def org_id(home: Path, name: str) -> str:
    with using(home):
        data = json.loads(cli("org", "list", "--json"))
    return next(o["id"] for o in data if o["name"] == name)


@pytest.fixture(autouse=True)
def _webhooks_to_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    """Webhook targets must resolve and be public; the tests register loopback ones."""
    monkeypatch.setenv("FUNDTRAIL_WEBHOOK_ALLOW_PRIVATE", "1")


@pytest.mark.slow  # writes the case file twice (trace, PDF)
def test_every_api_and_web_write_adds_an_audit_row_naming_the_caller(world: World) -> None:
    missing: list[str] = []
    with using(world.home):
        app = create_app()
        with TestClient(app, follow_redirects=False) as client:
            ctx = Ctx(client, world, world.root)
            assert web_sign_in(client, world.police_key).status_code == 303
            callers = {POLICE: org_id(world.home, POLICE), EXCHANGE: org_id(world.home, EXCHANGE)}
            for (method, path), call in API_WRITES.items():
                before = audit_rows(world.home)
                resp = call(ctx)
                assert resp.status_code < 400, (
                    f"{method} {path}: {resp.status_code} {resp.text[:300]}"
                )
                rows = new_writes(before, audit_rows(world.home))
                if not rows:
                    missing.append(f"{method} {path}: no audit row")
                elif not {r.org_id for r in rows} & set(callers.values()):
                    missing.append(f"{method} {path}: audit rows name no calling org: {rows}")
    assert not missing, "writes that leave no trace:\n" + "\n".join(missing)


def _inputs(world: World, tmp: Path) -> dict[str, str]:
    rows = world.reserved()
    intel = tmp / "intel.csv"
    intel.write_text(CSV_HEADER + "domain,cli-audit.example,,scam,70,green,\n")
    tags = tmp / "tags.csv"
    tags.write_text(f"address,label,category\n{rows[0]['to_address']},Audit Label,scam\n")
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(rows[0]))
    w.writeheader()
    w.writerow({**rows[-1], "complaint_id": "C-AUDIT-1", "victim": "Audit Cli"})
    complaints = tmp / "complaints.csv"
    complaints.write_text(buf.getvalue())
    with using(world.home):
        data = json.loads(cli("campaigns", "--json", "--org", POLICE))
    campaigns = data if isinstance(data, list) else data.get("campaigns", [])
    prices = tmp / "prices.csv"
    prices.write_text("date,price\n2024-01-01,42000.5\n2024-01-02,43000\n")
    rules = tmp / "rules.json"
    with using(world.home):
        rules.write_text(cli("screen", "rules", "--org", EXCHANGE, "--json"))
    deposits = tmp / "deposits.json"
    deposits.write_text(
        json.dumps(
            [{"chain": "BTC", "address": rows[0]["to_address"], "amount": int(rows[0]["amount"])}]
        )
    )
    made = {}
    for name in ("request_draft", "request_sent", "request_doc"):
        send = [] if name == "request_draft" else ["--send"]
        with using(world.home):
            out = cli(
                "request",
                "create",
                "--org",
                POLICE,
                "--to",
                EXCHANGE,
                "--deposits",
                str(deposits),
                "--json",
                *send,
            )
        made[name] = json.loads(out)["id"]
    with using(world.home):
        doc = json.loads(cli("request", "export", made["request_doc"], "--org", EXCHANGE))
    doc["deposits"][0]["answer"] = {"outcome": "moved", "moved_to": "another exchange"}
    answer = tmp / "answer.json"
    answer.write_text(json.dumps(doc))
    pending = _pending_complaint(world, tmp, campaigns[0]["id"], rows[-2])
    return {
        "pending": pending,
        "request_deposits": str(deposits),
        "request_draft": made["request_draft"],
        "request_sent": made["request_sent"],
        "request_doc": str(answer),
        "intel_csv": str(intel),
        "tags_csv": str(tags),
        "complaints_csv": str(complaints),
        "campaign": campaigns[0]["id"],
        "report_dir": str(tmp / "report"),
        "address": rows[0]["to_address"],
        "rules": str(rules),
        "prices_csv": str(prices),
    }


def _pending_complaint(world: World, tmp: Path, campaign: str, row: dict[str, str]) -> str:
    """The police lead a case on the campaign; another org's complaint then joins it and
    waits for the lead's acceptance (what `campaign accept` writes)."""
    from fundtrail.cases.campaigns import open_case
    from fundtrail.intelstore.db import open_store

    with using(world.home):
        cli("org", "add", "audit-late", "--kind", "exchange")
        store = open_store()
        try:
            with store.session() as s:
                open_case(s, campaign, owner=POLICE)
        finally:
            store.close()
        late = tmp / "late.csv"
        late.write_text(
            ",".join(row)
            + "\n"
            + ",".join({**row, "complaint_id": "C-LATE-1", "victim": "Late Victim"}.values())
            + "\n"
        )
        cli("complaints", "import", str(late), "--org", "audit-late")
        shown = json.loads(cli("campaign", "show", campaign, "--org", POLICE, "--json"))
    (pending,) = [p["id"] for p in shown["pending"] if p["ref"] == "C-LATE-1"]
    return str(pending)


@pytest.fixture
def feed_server(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """A folder served over HTTP on loopback, as a partner's MISP feed would be."""
    folder = tmp_path / "feed"
    folder.mkdir()
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(folder))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield folder, f"127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.slow
def test_every_cli_write_adds_an_audit_row(
    world: World, tmp_path: Path, feed_server: tuple[Path, str]
) -> None:
    values = _inputs(world, tmp_path)
    folder, host = feed_server
    with using(world.home):
        cli("feed", "publish", str(folder), "--org", POLICE)
    values |= {"feed_url": f"http://{host}/", "feed_host": host}
    missing: list[str] = []
    for name, args in CLI_WRITES.items():
        filled = [a.format(**values) if "{" in a else a for a in args]
        before = audit_rows(world.home)
        with using(world.home):
            out = cli(*filled)
        if name == "key create":
            values["new_key"] = re.search(r"ft_[A-Za-z0-9_-]+", out).group(0)  # type: ignore[union-attr]
        if name == "request create":
            values["request"] = re.search(UUID, out).group(0)  # type: ignore[union-attr]
        if not new_writes(before, audit_rows(world.home)):
            missing.append(f"fundtrail {name}: no audit row")
    assert not missing, "commands that write and leave no trace:\n" + "\n".join(missing)
