"""The audit log records the real client: X-Forwarded-For only from trusted proxies."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from fundtrail.errors import InvalidInputError
from fundtrail.intelstore.audit import AuditEntry
from fundtrail.server.proxies import TrustedProxies

Hub = Any  # the `hub` fixture (conftest.py)


def _write_and_read_remote(hub: Hub, client: TestClient, forwarded: str) -> str | None:
    body = {"type": "domain", "value": "fwd.example.com", "category": "phishing", "tlp": "green"}
    headers = {**hub.auth("police/analyst"), "X-Forwarded-For": forwarded}
    assert client.post("/api/v1/indicators", json=body, headers=headers).status_code == 201
    with hub.store.read_session() as s:
        return s.scalars(
            sa.select(AuditEntry.remote).where(AuditEntry.action == "indicator.add")
        ).one()


def test_forwarded_for_is_ignored_by_default(hub: Hub) -> None:
    """Attack: a local caller claims to be 203.0.113.7; the audit row keeps its real address."""
    # TestClient connects as "testclient"; uvicorn would say 127.0.0.1 (loopback)
    remote = _write_and_read_remote(hub, hub.client, "203.0.113.7")
    assert remote == "testclient"


def test_forwarded_for_is_believed_from_a_trusted_proxy(hub: Hub, tmp_path: Path) -> None:
    from fundtrail.server.app import create_app
    from fundtrail.settings import Settings

    app = create_app(hub.store, Settings(home=tmp_path, trusted_proxies="10.0.0.0/8"))
    client = TestClient(app, client=("10.1.2.3", 50000))
    # the proxy appended the address it saw; whatever the client wrote before it is ignored
    assert _write_and_read_remote(hub, client, "198.51.100.1, 203.0.113.7") == "203.0.113.7"


def test_proxy_rules() -> None:
    trusted = TrustedProxies.parse("10.0.0.0/8, ::1")
    assert trusted.client("10.0.0.1", "203.0.113.7, 10.0.0.2") == "203.0.113.7"
    assert trusted.client("192.0.2.9", "203.0.113.7") == "192.0.2.9"  # untrusted peer
    assert trusted.client("::1", "not-an-ip") == "::1"  # malformed header: the peer
    assert TrustedProxies().client("127.0.0.1", "203.0.113.7") == "127.0.0.1"
    with pytest.raises(InvalidInputError, match="not an IP address"):
        TrustedProxies.parse("10.0.0.0/8, proxy.example")


def test_the_real_server_ignores_forwarded_for_from_loopback(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The attack as reported: `X-Forwarded-For` sent from loopback to `fundtrail serve`."""
    import threading
    import time

    import httpx
    import uvicorn

    from fundtrail.intelstore.db import open_store
    from fundtrail.intelstore.keys import create_key
    from fundtrail.intelstore.orgs import add_org
    from fundtrail.server.serving import config
    from fundtrail.testing import free_port

    store = open_store()
    with store.session() as s:
        add_org(s, "police", "law-enforcement")
        key = create_key(s, "police", "analyst").key
    port = free_port()
    server = uvicorn.Server(config("127.0.0.1", port))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        for _ in range(200):
            if server.started:
                break
            time.sleep(0.05)
        r = httpx.post(
            f"http://127.0.0.1:{port}/api/v1/indicators",
            json={"type": "domain", "value": "x.example.com", "category": "phishing"},
            headers={"Authorization": f"Bearer {key}", "X-Forwarded-For": "203.0.113.7"},
        )
        assert r.status_code == 201, r.text
        assert "server" not in r.headers  # no version banner either
    finally:
        server.should_exit = True
        thread.join(timeout=10)
    with store.read_session() as s:
        remote = s.scalars(
            sa.select(AuditEntry.remote).where(AuditEntry.action == "indicator.add")
        ).one()
    assert remote == "127.0.0.1"
    store.close()
