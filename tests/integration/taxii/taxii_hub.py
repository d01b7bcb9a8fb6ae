"""A real TAXII server for the tests: the app under uvicorn on a free loopback port, three
orgs with keys, and what each may not see. (A module with a unique name: test modules
import it; ``conftest`` would clash with the other folders' conftest modules.)"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import uvicorn
from taxii2client.v21 import ApiRoot, Collection, as_pages

from fundtrail.intel.indicators import IndicatorService
from fundtrail.intel.records import IndicatorRecord
from fundtrail.intel.stix_check import stix_validation_errors
from fundtrail.intelstore.db import IntelStore, open_store
from fundtrail.intelstore.keys import create_key
from fundtrail.intelstore.orgs import add_org, org_identity
from fundtrail.model.encoding import b58check_encode
from fundtrail.server.app import create_app
from fundtrail.settings import Settings

MAX_BODY = 256 * 1024
TAXII = "application/taxii+json;version=2.1"
N_GREEN = 23  # police's GREEN addresses: enough for several pages


def btc_address(i: int) -> str:
    """A valid P2PKH address derived from ``i`` (real base58check, fake key)."""
    return b58check_encode(b"\x00" + hashlib.sha256(f"seed-{i}".encode()).digest()[:20])


@dataclass
class LiveHub:
    url: str  # http://127.0.0.1:PORT
    store: IntelStore
    keys: dict[str, str] = field(default_factory=dict)  # "police/analyst" -> key
    hidden_from_bank: set[str] = field(default_factory=set)  # values bank must never see
    hidden_from_exchange: set[str] = field(default_factory=set)

    @property
    def discovery(self) -> str:
        return f"{self.url}/taxii2/"

    @property
    def api_root(self) -> str:
        return f"{self.url}/taxii2/api/"

    def creds(self, who: str) -> tuple[str, str]:
        """(user, password) for HTTP Basic, as TAXII clients send them."""
        return who.split("/")[0], self.keys[who]

    def bearer(self, who: str, accept: str = TAXII) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[who]}", "Accept": accept}


def seed(store: IntelStore) -> tuple[set[str], set[str]]:
    svc = IndicatorService(store)
    with store.read_session() as s:
        police = org_identity(s, "police", "analyst")
    green = [
        IndicatorRecord.build(
            "crypto-address", btc_address(i), "ransomware", chain="BTC", tlp="green"
        )
        for i in range(N_GREEN)
    ]
    svc.import_records(police, green)
    restricted = [
        ("amber-shared.example", "amber", ["exchange"]),
        ("amber-unshared.example", "amber", []),
        ("amber-strict.example", "amber+strict", ["exchange"]),
        ("red-shared.example", "red", ["exchange"]),
        ("red-unshared.example", "red", []),
    ]
    for value, tlp, share in restricted:  # one by one: distinct date_added
        svc.import_records(
            police, [IndicatorRecord.build("domain", value, "phishing", tlp=tlp, share_with=share)]
        )
    hidden_bank = {v for v, _, _ in restricted}
    hidden_exchange = {"amber-unshared.example", "red-unshared.example"}  # TLP 2.0 strict: listed
    return hidden_bank, hidden_exchange


def start(app: object) -> tuple[uvicorn.Server, threading.Thread, str]:
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    port = server.servers[0].sockets[0].getsockname()[1]
    return server, thread, f"http://127.0.0.1:{port}"


def make_live_hub(home: Path, url: str | None = None) -> Iterator[LiveHub]:
    store = open_store(url or f"sqlite:///{home / 'intel.sqlite'}")
    keys: dict[str, str] = {}
    with store.session() as s:
        for org, kind in (
            ("police", "law-enforcement"),
            ("exchange", "exchange"),
            ("bank", "bank"),
        ):
            add_org(s, org, kind)
            for role in ("analyst", "reader"):
                keys[f"{org}/{role}"] = create_key(s, org, role).key
    hidden_bank, hidden_exchange = seed(store)
    app = create_app(store, Settings(home=home, max_body_bytes=MAX_BODY))
    server, thread, url = start(app)
    try:
        yield LiveHub(url, store, keys, hidden_bank, hidden_exchange)
    finally:
        server.should_exit = True
        thread.join(10)
        store.close()


def collection(live: LiveHub, who: str, title: str) -> Collection:
    root = ApiRoot(live.api_root, user=live.creds(who)[0], password=live.creds(who)[1])
    found = next(c for c in root.collections if c.title == title)
    return Collection(found.url, user=live.creds(who)[0], password=live.creds(who)[1])


def all_objects(coll: Collection, per_request: int, **filters: Any) -> list[dict[str, Any]]:
    objects: list[dict[str, Any]] = []
    for envelope in as_pages(coll.get_objects, per_request=per_request, **filters):
        page = envelope.get("objects", [])
        assert stix_validation_errors(page, enforce_refs=False) == []
        objects += page
    return objects
