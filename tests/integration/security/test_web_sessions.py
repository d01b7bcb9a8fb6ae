"""Web sessions end when the user signs out or the key is revoked; sign-in refuses
foreign sites (issue 15 #8, #9)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from fundtrail.intelstore.db import IntelStore, open_store
from fundtrail.intelstore.keys import create_key, revoke_key
from fundtrail.intelstore.orgs import add_org
from fundtrail.server.app import create_app
from fundtrail.settings import Settings
from fundtrail.testing import web_sign_in
from fundtrail.web.session import COOKIE


@dataclass
class Site:
    store: IntelStore
    home: Path
    key: str
    key_id: str

    def client(self) -> TestClient:
        app = create_app(self.store, Settings(home=self.home))
        return TestClient(app, raise_server_exceptions=False, follow_redirects=False)


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    store = open_store(f"sqlite:///{tmp_path / 'intel.sqlite'}")
    with store.session() as s:
        add_org(s, "police", "law-enforcement")
        made = create_key(s, "police", "analyst")
        key, key_id = made.key, made.id
    yield Site(store, tmp_path, key, key_id)
    store.close()


def csrf_of(client: TestClient) -> str:
    import re

    page = client.get("/ui/intel")
    found = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert found, page.text[:300]
    return found.group(1)


def test_logout_ends_the_session_for_a_kept_copy_of_the_cookie(site: Site) -> None:
    browser = site.client()
    assert web_sign_in(browser, site.key).status_code == 303
    stolen = browser.cookies.get(COOKIE)
    assert stolen and browser.get("/ui/").status_code == 200
    r = browser.post("/ui/logout", data={"csrf": csrf_of(browser)})
    assert r.status_code == 303
    thief = site.client()
    thief.cookies.set(COOKIE, stolen)
    r = thief.get("/ui/")
    assert r.status_code == 303 and "/ui/login" in r.headers["location"]
    # a write with the old cookie is refused too
    r = thief.post("/ui/logout", data={"csrf": "x"})
    assert r.status_code == 303 and "/ui/login" in r.headers["location"]


def test_revoking_the_key_ends_its_sessions(site: Site) -> None:
    browser = site.client()
    assert web_sign_in(browser, site.key).status_code == 303
    assert browser.get("/ui/").status_code == 200
    with site.store.session() as s:
        revoke_key(s, site.key_id)
    r = browser.get("/ui/")
    assert r.status_code == 303 and "/ui/login" in r.headers["location"]


def test_the_cookie_holds_no_key_and_the_store_no_token(site: Site) -> None:
    import sqlite3

    browser = site.client()
    web_sign_in(browser, site.key)
    cookie = browser.cookies.get(COOKIE) or ""
    assert site.key not in cookie and site.key_id not in cookie
    with sqlite3.connect(site.home / "intel.sqlite") as con:
        (sid,) = con.execute("SELECT id FROM web_sessions").fetchone()
    assert sid not in cookie


def test_sign_in_from_a_foreign_origin_is_refused(site: Site) -> None:
    browser = site.client()
    form = browser.get("/ui/login")
    import re

    token = re.search(r'name="login_token" value="([^"]+)"', form.text)
    assert token
    r = browser.post(
        "/ui/login",
        data={"api_key": site.key, "login_token": token.group(1)},
        headers={"Origin": "https://evil.example"},
    )
    assert r.status_code == 403 and COOKIE not in r.cookies


def test_sign_in_without_the_form_token_is_refused(site: Site) -> None:
    """A foreign page's form posts no token (and cannot read or set the token cookie)."""
    r = site.client().post("/ui/login", data={"api_key": site.key})
    assert r.status_code == 403 and COOKIE not in r.cookies
    other = site.client()
    other.get("/ui/login")
    r = other.post("/ui/login", data={"api_key": site.key, "login_token": "guessed"})
    assert r.status_code == 403 and COOKIE not in r.cookies


def test_sign_in_and_sign_out_are_audited(site: Site) -> None:
    from fundtrail.intelstore.audit import AuditEntry

    browser = site.client()
    assert web_sign_in(browser, site.key).status_code == 303
    assert browser.post("/ui/logout", data={"csrf": csrf_of(browser)}).status_code == 303
    refused = site.client()
    assert web_sign_in(refused, "ft_not-a-key").status_code == 401  # stores nothing
    with site.store.read_session() as s:
        rows = s.query(AuditEntry).filter(AuditEntry.action.like("web.%")).all()
    assert [(r.action, r.object_id) for r in rows] == [
        ("web.sign_in", site.key_id),
        ("web.sign_out", site.key_id),
    ]
    with site.store.read_session() as s:
        police = s.query(AuditEntry).filter(AuditEntry.action == "web.sign_in").one().org_id
    assert police and all(r.org_id == police for r in rows)
