"""Every response carries the strict Content-Security-Policy, and no page holds a script inline.

The README promises that a strict CSP forbids inline scripts. That holds only if every
response carries it (pages, redirects, error pages, files, JSON) and if no page relies
on an inline script the policy would block. Routes are discovered from the app, so a
page added later is checked too; a new path parameter without a sample value fails
the test until one is given here.
"""

from __future__ import annotations

import csv
import json
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from world import POLICE, World, cli, using

from fundtrail.server.app import create_app
from fundtrail.testing import web_sign_in

REQUIRED = {
    "script-src": {"'self'"},
    "object-src": {"'none'"},
    "frame-ancestors": {"'none'"},
    "base-uri": {"'none'"},
}
NOT_PAGES = ("/api/", "/taxii2/", "/openapi.json", "/docs", "/redoc")


def policy(headers: Any) -> dict[str, set[str]]:
    raw = headers.get("content-security-policy", "")
    out: dict[str, set[str]] = {}
    for part in raw.split(";"):
        words = part.split()
        if words:
            out[words[0]] = set(words[1:])
    return out


class InlineScripts(HTMLParser):
    """Collects what a strict CSP would block: inline scripts, handlers, javascript: URLs."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []
        self._in_inline = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = dict(attrs)
        if tag == "script" and not names.get("src"):
            self._in_inline = True
        for name, value in attrs:
            if name.startswith("on"):
                self.found.append(f"<{tag} {name}=...>")
            if name in {"href", "src", "action", "formaction"} and (
                value or ""
            ).strip().lower().startswith("javascript:"):
                self.found.append(f"<{tag} {name}={value!r}>")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_inline = False

    def handle_data(self, data: str) -> None:
        if self._in_inline and data.strip():
            self.found.append(f"inline <script>{data.strip()[:60]}")


def web_routes(app: FastAPI) -> list[tuple[str, str]]:
    """(method, path) of every route the app serves that is not the API."""
    out = []
    for route in app.routes:
        for sub in getattr(getattr(route, "original_router", None), "routes", [route]):
            path = getattr(sub, "path", "")
            for method in getattr(sub, "methods", None) or []:
                if method != "HEAD" and path and not path.startswith(NOT_PAGES):
                    out.append((method, path))
    return sorted(set(out))


def samples(world: World, client: TestClient) -> dict[str, str]:
    """A real value for every path parameter a web route has."""
    with (world.sim / "complaints.csv").open() as fh:
        first = next(csv.DictReader(fh))
    with using(world.home):
        campaign = json.loads(cli("campaigns", "--json", "--org", POLICE))
    rows = campaign if isinstance(campaign, list) else campaign.get("campaigns", [])
    made = client.post(
        "/api/v1/indicators",
        json={"type": "domain", "value": "csp-test.example", "category": "phishing"},
        headers={"Authorization": f"Bearer {world.police_key}"},
    )
    assert made.status_code == 201, made.text
    graph = client.post(
        f"/api/v1/campaigns/{rows[0]['id']}/graphs",
        json={"name": "csp view", "graph": {"nodes": [], "edges": []}},
        headers={"Authorization": f"Bearer {world.police_key}"},
    )
    assert graph.status_code == 201, graph.text
    asked = client.post(
        "/api/v1/requests",
        json={
            "to": "exchange",
            "send": True,
            "attachments": [{"name": "order.txt", "content_base64": "b3JkZXI="}],
            "deposits": [{"chain": "BTC", "address": first["to_address"], "amount": 1}],
        },
        headers={"Authorization": f"Bearer {world.police_key}"},
    )
    assert asked.status_code == 201, asked.text
    return {
        "request_id": asked.json()["id"],
        "attachment_id": asked.json()["attachments"][0]["id"],
        "chain": "BTC",
        "address": first["to_address"],
        "txid": first["txid"],
        "campaign_id": rows[0]["id"],
        "indicator_id": made.json()["id"],
        "name": "app.css",
        "graph_id": str(graph.json()["id"]),
    }


@pytest.fixture
def site(world: World) -> Any:
    with using(world.home):
        app = create_app()
        with TestClient(app, follow_redirects=False) as client:
            yield app, client, samples(world, client)


def fill(path: str, values: dict[str, str]) -> str:
    import re

    def sub(m: Any) -> str:
        name = m.group(1)
        assert name in values, f"web route {path}: no sample value for {{{name}}} in test_csp.py"
        return values[name]

    return re.sub(r"\{(\w+)(?::\w+)?\}", sub, path)


def assert_strict(resp: Any, what: str) -> None:
    got = policy(resp.headers)
    for directive, wanted in REQUIRED.items():
        assert got.get(directive) == wanted, (
            f"{what} -> {resp.status_code}: {directive} is {got.get(directive)}, "
            f"want {wanted} (header: {resp.headers.get('content-security-policy')!r})"
        )
    assert "'unsafe-inline'" not in got.get("script-src", set())
    if "text/html" in resp.headers.get("content-type", ""):
        parser = InlineScripts()
        parser.feed(resp.text)
        assert not parser.found, f"{what}: {parser.found}"


def test_every_web_response_carries_the_strict_policy(site: Any, world: World) -> None:
    app, client, values = site
    routes = web_routes(app)
    assert len(routes) >= 20, routes
    signed_out = TestClient(app, follow_redirects=False)
    r = web_sign_in(client, world.police_key)
    assert r.status_code == 303, r.text
    assert_strict(r, "POST /ui/login")
    checked = 0
    for method, path in routes:
        url = fill(path, values)
        for who, c in (("signed in", client), ("signed out", signed_out)):
            if method == "GET":
                resp = c.get(url)
            else:  # no CSRF token: refused, and the refusal is a page too
                resp = c.request(method, url, data={})
            assert resp.status_code < 500, f"{method} {url} ({who}): {resp.status_code}"
            assert_strict(resp, f"{method} {url} ({who})")
            checked += 1
    for url in ("/ui/no-such-page", "/static/missing.js", "/ui/address/BTC/not-an-address"):
        assert_strict(client.get(url), f"GET {url}")
    assert checked >= 2 * len(routes)


def test_api_answers_carry_the_policy_too(site: Any, world: World) -> None:
    """JSON is no page, but one policy on every answer leaves no hole to find."""
    _app, client, _ = site
    key = {"Authorization": f"Bearer {world.police_key}"}
    for url, headers in (("/api/v1/me", key), ("/api/v1/me", {}), ("/taxii2/", {})):
        assert_strict(client.get(url, headers=headers), f"GET {url}")


def test_the_checker_sees_inline_scripts() -> None:
    """The HTML check itself: what it must catch, and what it must let through."""
    bad = InlineScripts()
    bad.feed('<script>alert(1)</script><a href="javascript:x()">x</a><img onerror="y()">')
    assert len(bad.found) == 3
    good = InlineScripts()
    good.feed('<script src="/static/trace.js"></script><a href="/ui/">home</a>')
    assert good.found == []


def test_static_scripts_are_files_not_inline(site: Any) -> None:
    _, client, _ = site
    root = Path(__file__).resolve().parents[3] / "src" / "fundtrail" / "web" / "static"
    for js in root.glob("*.js"):
        r = client.get(f"/static/{js.name}")
        assert r.status_code == 200 and "javascript" in r.headers["content-type"]
