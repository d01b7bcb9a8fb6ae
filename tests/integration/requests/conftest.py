"""Three partners and a bank around one campaign, in a fresh workspace (no chain needed).

The police unit leads the campaign's case; two exchanges receive its requests; a bank
is the third party that must learn nothing. Deposits are given by hand here; the story
test (``tests/integration/cases``) takes them from a traced campaign's freeze plan.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from requests_world import CAMPAIGN, Api, Partners, Receiver

from fundtrail.intelstore.db import open_store


@pytest.fixture
def partners(home: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Partners]:
    from fundtrail.intelstore.cases import Campaign, Case
    from fundtrail.intelstore.orgs import add_org, org_identity
    from fundtrail.settings import reset_settings

    monkeypatch.setenv("FUNDTRAIL_WEBHOOK_ALLOW_PRIVATE", "1")
    reset_settings()
    store = open_store()
    with store.session() as s:
        for name, kind in (
            ("police", "law-enforcement"),
            ("ex-a", "exchange"),
            ("ex-b", "exchange"),
            ("bank", "bank"),
        ):
            add_org(s, name, kind)
        s.add(Campaign(id=CAMPAIGN))
        s.flush()
    with store.session() as s:
        ids = {n: org_identity(s, n, "analyst") for n in ("police", "ex-a", "ex-b", "bank")}
        s.add(
            Case(
                reference="FT-2026-REQTEST001",
                campaign_id=CAMPAIGN,
                owner_org_id=ids["police"].org_id,
            )
        )
    try:
        yield Partners(home, store, ids["police"], ids["ex-a"], ids["ex-b"], ids["bank"])
    finally:
        store.close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A webhook receiver on loopback that keeps what it was sent."""
    rec = Receiver("")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            rec.got.append(({k: v for k, v in self.headers.items()}, body))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    rec.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield rec
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def api(partners: Partners) -> Iterator[Api]:
    """The HTTP server in process over the partners' store, an analyst key per org."""
    from fastapi.testclient import TestClient

    from fundtrail.intelstore.keys import create_key
    from fundtrail.server.app import create_app
    from fundtrail.settings import Settings

    with partners.store.session() as s:
        keys = {o: create_key(s, o, "analyst").key for o in ("police", "ex-a", "ex-b", "bank")}
        keys["ex-a/reader"] = create_key(s, "ex-a", "reader").key
        keys["police/admin"] = create_key(s, "police", "admin").key
    settings = Settings(home=partners.home, screen_background=False, webhook_allow_private=True)
    app = create_app(partners.store, settings)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield Api(client, keys)
