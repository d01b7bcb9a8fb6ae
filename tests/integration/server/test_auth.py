"""No route answers without a valid key; the key is checked before the body is read."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest

from fundtrail.intelstore.base import utcnow
from fundtrail.intelstore.keys import create_key, revoke_key
from fundtrail.server.auth import is_public

Hub = Any  # the `hub` fixture (conftest.py)


def every_route(hub: Hub) -> list[tuple[str, str]]:
    """(method, path) of every operation in the OpenAPI spec, plus the spec and docs pages."""
    out = [("GET", "/openapi.json"), ("GET", "/docs"), ("GET", "/redoc")]
    for path, ops in hub.app.openapi()["paths"].items():
        concrete = re.sub(r"\{[^}]+\}", "some-id", path)
        out += [
            (m.upper(), concrete) for m in ops if m in ("get", "post", "put", "patch", "delete")
        ]
    return out


def test_every_route_but_the_public_ones_needs_a_key(hub: Hub) -> None:
    routes = every_route(hub)
    assert ("GET", "/openapi.json") in routes and ("POST", "/api/v1/indicators") in routes
    for method, path in routes:
        if is_public(path):
            continue
        r = hub.client.request(method, path, json={})
        assert r.status_code == 401, (method, path, r.status_code)
        assert r.json()["error"] == "AuthenticationError"
        assert "traceback" not in r.text.lower()


def test_taxii_discovery_path_is_public(hub: Hub) -> None:
    assert hub.client.get("/taxii2/").status_code != 401


@pytest.mark.parametrize("scheme", ["Bearer", "Token", "basic"])
def test_the_three_ways_to_present_a_key(hub: Hub, scheme: str) -> None:
    key = hub.keys["exchange/reader"]
    headers = (
        hub.basic("exchange/reader") if scheme == "basic" else {"Authorization": f"{scheme} {key}"}
    )
    r = hub.client.get("/api/v1/me", headers=headers)
    assert r.status_code == 200
    assert r.json()["org"] == "exchange" and r.json()["role"] == "reader"


def test_basic_auth_user_must_be_the_keys_org(hub: Hub) -> None:
    r = hub.client.get("/api/v1/me", headers=hub.basic("exchange/reader", user="police"))
    assert r.status_code == 401


@pytest.mark.parametrize(
    "header",
    ["Bearer", "Bearer nonsense", "Token ft_0123456789ab_" + "x" * 30, "Basic !!!", "Digest abc"],
)
def test_bad_credentials_are_401_with_a_clear_message(hub: Hub, header: str) -> None:
    r = hub.client.get("/api/v1/indicators", headers={"Authorization": header})
    assert r.status_code == 401
    assert r.headers["www-authenticate"].startswith("Bearer")
    assert r.json()["message"]


def test_revoked_and_expired_keys_are_refused(hub: Hub) -> None:
    assert hub.client.get("/api/v1/me", headers=hub.auth("bank/reader")).status_code == 200
    with hub.store.session() as s:
        old = create_key(s, "bank", "analyst", expires=utcnow() - timedelta(minutes=1)).key
        revoke_key(s, hub.keys["bank/reader"])
    assert (
        hub.client.get("/api/v1/me", headers={"Authorization": f"Bearer {old}"}).json()["message"]
        == "API key expired"
    )
    r = hub.client.get("/api/v1/me", headers=hub.auth("bank/reader"))
    assert (r.status_code, r.json()["message"]) == (401, "API key revoked")


def test_key_is_checked_before_the_body_size(hub: Hub) -> None:
    big = b"{" + b" " * (hub.max_body + 10) + b"}"
    r = hub.client.post(
        "/api/v1/indicators", content=big, headers={"content-type": "application/json"}
    )
    assert r.status_code == 401
    r = hub.client.post(
        "/api/v1/indicators",
        content=big,
        headers={**hub.auth("police/analyst"), "content-type": "application/json"},
    )
    assert r.status_code == 413
    assert "limit" in r.json()["message"]


def test_streamed_body_over_the_limit_is_413(hub: Hub) -> None:
    def chunks():  # no Content-Length: the gatekeeper counts as it streams
        for _ in range(5):
            yield b" " * (hub.max_body // 4)

    r = hub.client.post(
        "/api/v1/indicators",
        content=chunks(),
        headers={**hub.auth("police/analyst"), "content-type": "application/json"},
    )
    assert r.status_code == 413
    with hub.store.read_session() as s:
        from fundtrail.intelstore.models import Indicator

        assert s.query(Indicator).count() == 0


def test_wrong_media_type_is_415_and_bad_json_400(hub: Hub) -> None:
    a = hub.auth("police/analyst")
    r = hub.client.post(
        "/api/v1/indicators",
        content=b"type=domain",
        headers={**a, "content-type": "application/x-www-form-urlencoded"},
    )
    assert r.status_code == 415
    r = hub.client.post(
        "/api/v1/indicators",
        content=b'{"type": "domain",',
        headers={**a, "content-type": "application/json"},
    )
    assert r.status_code == 400
    assert r.json()["message"].startswith("malformed JSON")


def test_role_dependency_is_reusable(hub: Hub) -> None:
    from fastapi import Depends

    from fundtrail.model.identity import Identity
    from fundtrail.server.auth import require_role

    @hub.app.get("/api/v1/test-admin-only")
    def admin_only(who: Identity = Depends(require_role("admin"))) -> dict[str, str]:
        return {"org": who.org_name}

    assert (
        hub.client.get("/api/v1/test-admin-only", headers=hub.auth("bank/admin")).status_code == 200
    )
    r = hub.client.get("/api/v1/test-admin-only", headers=hub.auth("bank/analyst"))
    assert r.status_code == 403


def test_unexpected_errors_are_500_json_without_internals(hub: Hub) -> None:
    @hub.app.get("/api/v1/test-boom")
    def boom() -> None:
        raise RuntimeError("secret internal detail /etc/passwd")

    r = hub.client.get("/api/v1/test-boom", headers=hub.auth("bank/reader"))
    assert r.status_code == 500
    assert r.json() == {
        "error": "InternalError",
        "message": "internal error; the server log has the details",
    }


def test_route_modules_are_discovered(hub: Hub, tmp_path: Any, monkeypatch: Any) -> None:
    import fundtrail.server.routes as routes
    from fundtrail.server.app import create_app

    (tmp_path / "zz_extra_for_test.py").write_text(
        "from fastapi import APIRouter\nrouter = APIRouter()\n"
        "@router.get('/api/v1/extra')\ndef extra() -> dict:\n    return {'ok': True}\n"
    )
    monkeypatch.setattr(routes, "__path__", [*routes.__path__, str(tmp_path)])
    app = create_app(hub.store, hub.app.state.settings)
    paths = set(app.openapi()["paths"])
    assert "/api/v1/extra" in paths and "/api/v1/indicators" in paths
