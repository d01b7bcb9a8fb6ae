"""An app in process over a fresh store, with three orgs and keys of every role."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from fundtrail.intelstore.db import IntelStore, open_store
from fundtrail.intelstore.keys import create_key
from fundtrail.intelstore.orgs import add_org
from fundtrail.server.app import create_app
from fundtrail.settings import Settings

MAX_BODY = 64 * 1024


@dataclass
class Hub:
    app: FastAPI
    client: TestClient
    store: IntelStore
    keys: dict[str, str] = field(default_factory=dict)  # "police/analyst" -> key
    max_body: int = MAX_BODY

    def auth(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[who]}"}

    def basic(self, who: str, user: str | None = None) -> dict[str, str]:
        org = who.split("/")[0]
        raw = f"{user if user is not None else org}:{self.keys[who]}".encode()
        return {"Authorization": "Basic " + base64.b64encode(raw).decode()}

    def add(self, who: str, **fields: object) -> dict[str, object]:
        body = {"type": "domain", "category": "phishing", **fields}
        r = self.client.post("/api/v1/indicators", json=body, headers=self.auth(who))
        assert r.status_code == 201, r.text
        return dict(r.json())


def make_hub(url: str, home: Path) -> Hub:
    store = open_store(url)
    keys: dict[str, str] = {}
    with store.session() as s:
        for org, kind in (
            ("police", "law-enforcement"),
            ("exchange", "exchange"),
            ("bank", "bank"),
        ):
            add_org(s, org, kind)
            for role in ("admin", "analyst", "reader"):
                keys[f"{org}/{role}"] = create_key(s, org, role).key
    settings = Settings(home=home, max_body_bytes=MAX_BODY)
    app = create_app(store, settings)
    return Hub(
        app=app, client=TestClient(app, raise_server_exceptions=False), store=store, keys=keys
    )


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[Hub]:
    h = make_hub(f"sqlite:///{tmp_path / 'intel.sqlite'}", tmp_path)
    yield h
    h.store.close()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def any_hub(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Hub]:
    """The same hub on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'intel.sqlite'}"
    else:
        url = str(request.getfixturevalue("postgres_url"))
    h = make_hub(url, tmp_path)
    yield h
    h.store.close()
