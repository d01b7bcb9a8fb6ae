"""An app in process over a fresh store, with three orgs and keys of every role."""

from __future__ import annotations

import base64
import shutil
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


def seed_hub(url: str) -> tuple[IntelStore, dict[str, str]]:
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
    return store, keys


def make_hub(store: IntelStore, keys: dict[str, str], home: Path) -> Hub:
    # the in-process hub rebuilds its screening index and drains decisions when a test says so
    settings = Settings(home=home, max_body_bytes=MAX_BODY, screen_background=False)
    app = create_app(store, settings)
    return Hub(
        app=app, client=TestClient(app, raise_server_exceptions=False), store=store, keys=keys
    )


@pytest.fixture(scope="session")
def hub_template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """A migrated SQLite store with the orgs and keys, made once; each test gets a copy."""
    path = tmp_path_factory.mktemp("hub") / "template.sqlite"
    store, keys = seed_hub(f"sqlite:///{path}")
    with store.engine.connect() as con:
        con.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    store.close()
    return path, keys


@pytest.fixture
def hub(tmp_path: Path, hub_template: tuple[Path, dict[str, str]]) -> Iterator[Hub]:
    template, keys = hub_template
    shutil.copy(template, tmp_path / "intel.sqlite")
    key = template.parent / "secret.key"  # the audit chain's key goes with its database
    if key.exists():
        shutil.copy(key, tmp_path / "secret.key")
    h = make_hub(open_store(f"sqlite:///{tmp_path / 'intel.sqlite'}"), keys, tmp_path)
    yield h
    h.store.close()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def any_hub(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Hub]:
    """The same hub on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'intel.sqlite'}"
    else:
        url = str(request.getfixturevalue("postgres_url"))
    store, keys = seed_hub(url)
    h = make_hub(store, keys, tmp_path)
    yield h
    h.store.close()
