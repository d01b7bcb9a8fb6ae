"""Every route, every organisation, every role: nothing unshared shows (issue 15).

In the spirit of MISP's ``testlive_security.py``. A hub of four organisations (the
police, two exchanges, a bank) on the guarantees world's chain, each holding things it
shared with nobody or with one partner: indicators at AMBER, AMBER+STRICT and RED with
marked descriptions and labels, sightings, complaints with their victims, a campaign
with a case and its case file, a graph, requests (one sent, one draft). Then every
route of the OpenAPI spec and every web route is called with every organisation's keys
(admin, analyst, reader; the web signed in) and without any, with the ids of every
organisation's objects and with ids that do not exist, and:

- no answer (body or header) holds a secret of something not shared with the caller:
  an indicator's id, value, description, label, lookup hash or STIX id, a sighting's
  note, a victim's name, contact or story (also of a complaint pending the case lead's
  acceptance), a campaign id, a graph, a request's note, attachment or id;
- an object hidden from the caller answers exactly like a missing one (same status,
  same body once the id is blanked), on reads and on writes (which then change
  nothing).

Routes are enumerated from the app, so a new route is walked too; a new path
parameter with no sample here fails the test until one is given. Runs on SQLite and
on PostgreSQL.
"""

from __future__ import annotations

import base64
import csv
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from world import World, using

from fundtrail.intel.lookup import lookup_hash
from fundtrail.intel.taxii import COLLECTIONS
from fundtrail.intelstore.db import IntelStore, open_store
from fundtrail.intelstore.keys import create_key
from fundtrail.intelstore.orgs import add_org, org_identity
from fundtrail.server.app import create_app
from fundtrail.settings import Settings
from fundtrail.testing import web_sign_in

ORGS = {"police": "law-enforcement", "exa": "exchange", "exb": "exchange", "bank": "bank"}
ROLES = ("admin", "analyst", "reader")
EVERY = frozenset(ORGS)
TAXII = "application/taxii+json;version=2.1"
NOT_WALKED = ("/openapi.json", "/docs", "/redoc", "/ui/login", "/ui/logout")
MISSING_ID = "0f0f0f0f-0000-4000-8000-000000000000"
QUERIES = ("", "?q=zz&count=true&limit=1000")


@dataclass(frozen=True)
class Secret:
    text: str
    seen_by: frozenset[str]  # organisations that may see it


@dataclass
class Sample:
    """Path values naming one organisation's objects, all shared with ``seen_by``."""

    label: str
    values: dict[str, str]
    seen_by: frozenset[str]
    owner: str = "police"
    value: str = ""  # an indicator's value


@dataclass
class Hub:
    app: FastAPI
    store: IntelStore
    keys: dict[str, str]  # "org/role" -> key
    base: dict[str, str] = field(default_factory=dict)  # public values (chain, address...)
    secrets: list[Secret] = field(default_factory=list)
    samples: list[Sample] = field(default_factory=list)
    bodies: dict[tuple[str, str], Any] = field(default_factory=dict)

    def h(self, who: str) -> dict[str, str]:
        org, _, role = who.partition("/")
        key = self.keys[f"{org}/{role or 'analyst'}"]
        return {"Authorization": f"Bearer {key}"}

    def secret(self, text: str, seen_by: frozenset[str] | set[str]) -> str:
        self.secrets.append(Secret(text, frozenset(seen_by)))
        return text


def _rows(world: World) -> list[dict[str, str]]:
    with (world.sim / "complaints.csv").open() as fh:
        return list(csv.DictReader(fh))


def _complaint(row: dict[str, str], org: str, i: int) -> dict[str, Any]:
    return {
        "complaint_id": f"{org.upper()}-{i}",
        "victim": f"Zzvictim-{org}-{i}",
        "contact": f"zzcontact-{org}-{i}@mail.example",
        "description": f"zzstory-{org}-{i}",
        "chain": row["chain"],
        "txid": row["txid"],
        "vout": int(row["vout"]),
        "to_address": row["to_address"],
        "amount": row["amount"],
        "asset": row["asset"],
    }


def seed(hub: Hub, world: World, client: TestClient) -> None:
    """Every organisation's private things, through the API as its users would."""
    rows = _rows(world)

    def ok(r: Any) -> Any:
        assert r.status_code in (200, 201), r.text
        return r.json()

    # indicators: each org's AMBER, AMBER+STRICT and RED, shared with nobody, one AMBER
    # the police shared with exchange A, and RED marks on an address of the chain
    for org, tlp, share in [
        *((o, t, ()) for o in ORGS for t in ("amber", "amber+strict", "red")),
        ("police", "amber", ("exa",)),
    ]:
        seen = {org, *share}
        tag = f"{org}-{tlp.replace('+', '')}-{'shared' if share else 'own'}"
        value = hub.secret(f"{tag}.hidden.example", seen)
        made = ok(client.post("/api/v1/indicators", headers=hub.h(org), json={
            "type": "domain", "value": value, "category": "phishing", "tlp": tlp,
            "share_with": list(share), "description": hub.secret(f"zzdesc-{tag}", seen),
            "labels": [hub.secret(f"zzlabel-{tag}", seen)],
        }))  # fmt: skip
        hub.secret(made["id"], seen)
        hub.secret(lookup_hash("domain", value), seen)
        values = {"indicator_id": made["id"], "prefix": lookup_hash("domain", value)[:5]}
        if tlp == "red" and not share:
            note = hub.secret(f"zzsighting-{org}", seen)
            ok(client.post(f"/api/v1/indicators/{made['id']}/sightings", headers=hub.h(org),
                           json={"kind": "seen", "note": note}))  # fmt: skip
            address = rows[-1 - list(ORGS).index(org)]["to_address"]
            red = ok(client.post("/api/v1/indicators", headers=hub.h(org), json={
                "type": "crypto-address", "value": address, "chain": "BTC", "category": "scam",
                "tlp": "red", "description": hub.secret(f"zzdesc-{org}-address", seen),
            }))  # fmt: skip
            hub.secret(red["id"], seen)
            hub.samples.append(Sample(f"{org} red address", {"indicator_id": red["id"],
                                      "address": address}, frozenset(seen), org))  # fmt: skip
        hub.samples.append(Sample(f"{tag}", values, frozenset(seen), org, value))

    # TAXII: the STIX ids of each org's indicators, from its own view
    hub.base["cid"] = next(c.id for c in COLLECTIONS if c.key == "all")
    for org in ORGS:
        h = hub.h(org) | {"Accept": TAXII}
        objs = ok(client.get(f"/taxii2/api/collections/{hub.base['cid']}/objects/", headers=h))
        for obj in objs.get("objects", []):
            for sample in hub.samples:
                if sample.owner == org and sample.value and sample.value in obj.get("pattern", ""):
                    sample.values["oid"] = hub.secret(obj["id"], sample.seen_by)

    # complaints: the police's four victims, exchange A's two, in one campaign
    police = [_complaint(r, "police", i) for i, r in enumerate(rows[:4])]
    exa = [_complaint(r, "exa", i) for i, r in enumerate(rows[4:6])]
    ok(client.post("/api/v1/complaints/bulk", headers=hub.h("police"),
                   json={"complaints": police}))  # fmt: skip
    ok(client.post("/api/v1/complaints/bulk", headers=hub.h("exa"), json={"complaints": exa}))
    camps = ok(client.get("/api/v1/campaigns", headers=hub.h("police")))
    (cid,) = [c["id"] for c in camps if c["complaints"] >= 6]
    ok(client.post(f"/api/v1/campaigns/{cid}/case", headers=hub.h("police"),
                   json={"share_with": ["bank"]}))  # fmt: skip
    campaign_orgs = frozenset({"police", "exa", "bank"})
    hub.secret(cid, campaign_orgs)
    view = ok(client.get(f"/api/v1/campaigns/{cid}", headers=hub.h("police")))
    for p in view["payments"]:
        org = p["org"]
        victims_seen = {"police", "bank"} | ({"exa"} if org == "exa" else set())
        hub.secret(p["id"], campaign_orgs)  # listed (victims withheld) to campaign orgs
        n = int(p["ref"].rsplit("-", 1)[1])
        for part in ("victim", "contact", "story"):
            hub.secret(f"zz{part}-{org}-{n}" if part != "victim" else f"Zzvictim-{org}-{n}",
                       victims_seen)  # fmt: skip
        hub.samples.append(Sample(f"{org} complaint", {"complaint_id": p["id"]},
                                  frozenset(victims_seen), org))  # fmt: skip
    # exchange A reports one more after the case was opened: pending, its victim its own
    ok(client.post("/api/v1/complaints", headers=hub.h("exa"), json=_complaint(rows[6], "exa", 9)))
    (late,) = ok(client.get(f"/api/v1/campaigns/{cid}", headers=hub.h("police")))["pending"]
    hub.secret(late["id"], {"exa", "police", "bank"})  # listed to the case and its reporter
    for text in ("Zzvictim-exa-9", "zzcontact-exa-9", "zzstory-exa-9"):
        hub.secret(text, {"exa"})
    hub.samples.append(Sample("exa pending complaint", {"complaint_id": late["id"]},
                              frozenset({"exa"}), "exa"))  # fmt: skip
    graph = ok(client.post(f"/api/v1/campaigns/{cid}/graphs", headers=hub.h("police"), json={
        "name": hub.secret("zzgraph-police", campaign_orgs), "graph": {"nodes": [], "edges": []},
    }))  # fmt: skip
    hub.samples.append(Sample("police campaign", {"campaign_id": cid, "name": "report.html",
                              "graph_id": str(graph["id"])}, campaign_orgs))  # fmt: skip
    from fundtrail.cases.casefile import write_campaign_report

    with hub.store.read_session() as s:
        lead = org_identity(s, "police", "analyst")
    write_campaign_report(hub.store, cid, Path(hub.base["home"]) / "reports" / cid,
                          viewer=lead, home=Path(hub.base["home"]))  # fmt: skip

    # requests: one the police sent to exchange A (with a file), one draft to exchange B
    for to, send in (("exa", True), ("exb", False)):
        seen = frozenset({"police", to} if send else {"police"})
        note = hub.secret(f"zznote-request-{to}", seen)
        content = hub.secret(f"zzfile-request-{to}", seen)
        req = ok(client.post("/api/v1/requests", headers=hub.h("police"), json={
            "to": to, "send": send, "note": note,
            "deposits": [{"chain": "BTC", "address": rows[0]["to_address"], "amount": 1}],
            "attachments": [{"name": "order.txt",
                             "content_base64": base64.b64encode(content.encode()).decode()}],
        }))  # fmt: skip
        hub.secret(req["id"], seen)
        hub.samples.append(Sample(f"police request to {to}", {
            "request_id": req["id"], "attachment_id": req["attachments"][0]["id"],
        }, seen))  # fmt: skip

    hub.base |= {
        "chain": "BTC", "address": rows[0]["to_address"], "txid": rows[0]["txid"],
        "name": "app.css", "prefix": "00000", "action": "cancel", "status_id": MISSING_ID,
    }  # fmt: skip
    hub.bodies = {
        ("PATCH", "/api/v1/indicators/{indicator_id}"): {"confidence": 1},
        ("POST", "/api/v1/indicators/{indicator_id}/sightings"): {"kind": "seen"},
        ("POST", "/api/v1/campaigns/{campaign_id}/case"): {"share_with": ["exb"]},
        ("POST", "/api/v1/campaigns/{campaign_id}/graphs"): {
            "name": "walk", "graph": {"nodes": [], "edges": []}},
        ("PATCH", "/api/v1/requests/{request_id}"): {"note": "walk"},
        ("POST", "/api/v1/requests/{request_id}/answer"): {
            "answers": [{"address": rows[0]["to_address"], "outcome": "moved"}]},
        ("POST", "/api/v1/requests/{request_id}/{action}"): {"reason": "walk"},
    }  # fmt: skip


def missing_sample(hub: Hub) -> dict[str, str]:
    out = dict(hub.base)
    for s in hub.samples:
        for k, v in s.values.items():
            if k in ("name", "address", "prefix"):
                out.setdefault(k, v)
            elif k == "campaign_id":
                out[k] = "CMP-0F0F0F0F0F"
            elif k == "oid":
                out[k] = "indicator--" + MISSING_ID
            else:
                out[k] = MISSING_ID
    return out


def routes(app: FastAPI) -> list[tuple[str, str]]:
    """(method, path) of every route the app serves: the API's (from its OpenAPI spec,
    TAXII included) and the web's."""
    out = {
        (m.upper(), path)
        for path, ops in app.openapi()["paths"].items()
        for m in ops
        if m in ("get", "post", "put", "patch", "delete")
    }
    for route in app.routes:
        for sub in getattr(getattr(route, "original_router", None), "routes", [route]):
            path = getattr(sub, "path", "")
            for method in getattr(sub, "methods", None) or []:
                if method != "HEAD" and path and not path.startswith(NOT_WALKED):
                    out.add((method, path))
    return sorted(r for r in out if not r[1].startswith(NOT_WALKED))


def fill(path: str, values: dict[str, str]) -> str:
    def sub(m: Any) -> str:
        name = m.group(1)
        assert name in values, f"route {path}: no sample value for {{{name}}} in this test"
        return values[name]

    return re.sub(r"\{(\w+)(?::\w+)?\}", sub, path)


def blank(text: str, values: list[str]) -> str:
    for v in sorted(set(values), key=len, reverse=True):
        text = text.replace(v, "<id>")
    return re.sub(r'"(time|created|modified|date|request_id|date_added)":\s*"[^"]*"', "", text)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def hub(request: pytest.FixtureRequest, built_world: World, tmp_path: Path) -> Iterator[Hub]:
    world = built_world.copy(tmp_path / "world")
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'hub.sqlite'}"
    else:
        url = str(request.getfixturevalue("postgres_url"))
    with using(world.home):  # the workspace's key file seals and opens victims' data
        store = open_store(url)
        keys = {}
        with store.session() as s:
            for org, kind in ORGS.items():
                add_org(s, org, kind)
                for role in ROLES:
                    keys[f"{org}/{role}"] = create_key(s, org, role).key
        app = create_app(store, Settings(home=world.home, screen_background=False))
        h = Hub(app, store, keys, base={"home": str(world.home)})
        with TestClient(app, raise_server_exceptions=False) as client:
            seed(h, world, client)
        h.base.pop("home")
        yield h
        store.close()


@dataclass
class Probe:
    """Calls of one route by one caller; each URL once, every answer checked for leaks."""

    hub: Hub
    client: TestClient
    method: str
    path: str
    headers: dict[str, str]
    csrf: str | None
    forbidden: re.Pattern[str] | None
    done: dict[str, tuple[int, str]] = field(default_factory=dict)

    def __call__(self, url: str, what: str) -> tuple[int, str]:
        if url not in self.done:
            r = self._send(url)
            assert r.status_code < 500, f"{what}: {r.status_code} {r.text[:300]}"
            text = r.text + "\n" + "\n".join(f"{k}: {v}" for k, v in r.headers.items())
            asked = unquote(url)  # what the caller sent may come back (a redirect's next=)
            found = self.forbidden.finditer(text) if self.forbidden else []
            leaks = sorted({m.group(0) for m in found if m.group(0) not in asked})
            assert not leaks, f"{what}: shows {leaks}: {text[:500]}"
            self.done[url] = (r.status_code, r.text)
        return self.done[url]

    def _send(self, url: str) -> Any:
        headers = self.headers
        if self.path.startswith("/taxii2"):
            headers = headers | {"Accept": TAXII}
        if self.method == "GET":
            return self.client.get(url, headers=headers)
        if self.path.startswith(("/api/", "/taxii2/")):
            body = self.hub.bodies.get((self.method, self.path), {})
            return self.client.request(self.method, url, headers=headers, json=body)
        return self.client.request(
            self.method, url, headers=headers, data={"csrf": self.csrf or ""}
        )


def _indicators(hub: Hub) -> dict[str, Any]:
    """Every seeded indicator as its owner reads it."""
    client = TestClient(hub.app)
    return {
        s.label: client.get(f"/api/v1/indicators/{s.values['indicator_id']}",
                            headers=hub.h(s.owner)).json()
        for s in hub.samples if "indicator_id" in s.values
    }  # fmt: skip


def test_every_route_every_org_nothing_unshared(hub: Hub) -> None:
    before = _indicators(hub)
    all_routes = routes(hub.app)
    assert len(all_routes) >= 70, all_routes
    missing = missing_sample(hub)
    assert {k for s in hub.samples for k in s.values} >= {
        "indicator_id", "campaign_id", "complaint_id", "request_id", "attachment_id", "oid",
        "graph_id", "prefix",
    }  # fmt: skip
    viewers: list[tuple[str, str | None]] = [("anonymous", None)]
    viewers += [(org, role) for org in ORGS for role in ROLES]
    calls = 0
    for org, role in viewers:
        forbidden = [s.text for s in hub.secrets if org not in s.seen_by]
        pattern = (
            re.compile("|".join(re.escape(t) for t in sorted(forbidden, key=len)[::-1]))
            if forbidden
            else None
        )
        browser = TestClient(hub.app, raise_server_exceptions=False, follow_redirects=False)
        csrf = None
        headers: dict[str, str] = {}
        if role is not None:
            headers = hub.h(f"{org}/{role}")
            assert web_sign_in(browser, hub.keys[f"{org}/{role}"]).status_code == 303
            page = browser.get("/ui/intel")
            found = re.search(r'name="csrf" value="([^"]+)"', page.text)
            csrf = found.group(1) if found else None
        for method, path in all_routes:
            web = not path.startswith(("/api/", "/taxii2/"))
            client = browser if web else TestClient(hub.app, raise_server_exceptions=False,
                                                    follow_redirects=False)  # fmt: skip
            has_params = "{" in path
            samples = [(s, s.values) for s in hub.samples] if has_params else [(None, {})]
            if role in ("admin", "reader") and (web or method != "GET"):
                continue  # the other roles of an org: every API read (same rights as analyst)
            if method != "GET":
                # writes: only with objects hidden from the caller (they must change nothing)
                if not has_params:
                    continue
                samples = [(s, v) for s, v in samples if s is None or org not in s.seen_by]
            params = set(re.findall(r"\{(\w+)", path))
            probe = Probe(hub, client, method, path, headers, csrf, pattern)
            for query in QUERIES if method == "GET" and not has_params else ("",):
                for sample, values in samples:
                    vals = hub.base | values
                    url = fill(path, missing | vals) + query
                    what = f"{org}/{role} {method} {url} ({sample.label if sample else '-'})"
                    status, text = probe(url, what)
                    ids = (params & set(values)) - {"name", "address"}
                    if sample is None or org in sample.seen_by or not ids:
                        continue
                    # hidden from the caller: answered exactly like a missing id
                    url_missing = fill(path, missing | vals | {k: missing[k] for k in ids}) + query
                    m_status, m_text = probe(url_missing, f"{what} [missing]")
                    strings = [*missing.values(), *vals.values()]
                    got, want = (status, blank(text, strings)), (m_status, blank(m_text, strings))
                    assert got == want, f"{what}: {got} but a missing id {want}"
            calls += len(probe.done)
    assert calls > 2000, calls
    # the writes of the walk were all refused: every org's indicators are as seeded
    assert _indicators(hub) == before
