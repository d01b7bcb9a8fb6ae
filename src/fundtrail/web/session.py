"""Sign-in for the web UI: an API key once, then a server-side session.

The cookie holds a random session token, signed with a per-store secret; never the key.
The store keeps the token's SHA-256 with the key it signed in with, a CSRF token and
when the session ends (``intelstore/websessions.py``). Every request re-checks that
the session is live (not signed out, not expired) and that its key still exists, is
not revoked and has not expired: signing out or revoking the key ends the session at
once, also for a copy of the cookie. Forms carry the CSRF token; the cookie is
SameSite=Strict. The sign-in form itself is refused from a foreign Origin and needs
the token of a pre-session cookie (login CSRF).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import Request
from itsdangerous import BadSignature, URLSafeTimedSerializer

from fundtrail.errors import PermissionDeniedError
from fundtrail.intelstore import audit
from fundtrail.intelstore.db import IntelStore
from fundtrail.intelstore.keys import authenticate
from fundtrail.intelstore.models import ApiKey
from fundtrail.intelstore.websessions import WebSession
from fundtrail.model.identity import Identity

COOKIE = "ft_session"
LOGIN_COOKIE = "ft_login"  # pre-session token the sign-in form must echo
MAX_AGE = 8 * 3600  # a working day


class SignInRequired(Exception):
    """Raised by page dependencies; the app answers with a redirect to the sign-in page."""


def _serializer(store: IntelStore) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(store.meta_secret("web_session"), salt="fundtrail-web")


def _sid(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def sign_in(store: IntelStore, api_key: str, remote: str | None = None) -> tuple[str, Identity]:
    """Check the key, open a session (audited: ``web.sign_in``); return (cookie, identity)."""
    token = secrets.token_urlsafe(32)
    now = datetime.now(UTC)
    with store.session() as s:
        who = authenticate(s, api_key)
        s.add(
            WebSession(
                id=_sid(token), key_id=who.key_id, csrf=secrets.token_urlsafe(24),
                created=now, expires=now + timedelta(seconds=MAX_AGE),
            )
        )  # fmt: skip
        audit.record(s, who, "web.sign_in", "api_key", who.key_id, {}, remote)
    return _serializer(store).dumps({"sid": token}), who


def sign_out(request: Request, who: Identity, remote: str | None = None) -> None:
    """End the request's session for good (a copy of the cookie is worthless after);
    audited as ``web.sign_out``."""
    data = _session_data(request)
    store: IntelStore = request.app.state.store
    with store.session() as s:
        row = s.get(WebSession, _sid(str(data["sid"])))
        if row is not None and row.ended is None:
            row.ended = datetime.now(UTC)
            audit.record(s, who, "web.sign_out", "api_key", who.key_id, {}, remote)


def login_token(store: IntelStore) -> tuple[str, str]:
    """(cookie value, form token) for the sign-in form: the form must echo the token
    signed into the cookie, which a foreign site can neither read nor set."""
    token = secrets.token_urlsafe(24)
    return URLSafeTimedSerializer(store.meta_secret("web_session"), salt="fundtrail-login").dumps(
        token
    ), token


def check_login(request: Request, token: str | None) -> None:
    """Refuse a sign-in posted from another site (Origin) or without the form's token."""
    origin = request.headers.get("origin")
    if origin and origin.rstrip("/") != str(request.base_url).rstrip("/"):
        raise PermissionDeniedError("cross-site sign-in refused")
    store: IntelStore = request.app.state.store
    raw = request.cookies.get(LOGIN_COOKIE, "")
    try:
        expected = URLSafeTimedSerializer(
            store.meta_secret("web_session"), salt="fundtrail-login"
        ).loads(raw, max_age=3600)
    except BadSignature:
        expected = None
    if not token or not isinstance(expected, str) or not hmac.compare_digest(expected, token):
        raise PermissionDeniedError("the sign-in form is stale; reload the page")


def _session_data(request: Request) -> dict[str, Any]:
    raw = request.cookies.get(COOKIE)
    if not raw:
        raise SignInRequired()
    store: IntelStore = request.app.state.store
    try:
        data = _serializer(store).loads(raw, max_age=MAX_AGE)
    except BadSignature:
        raise SignInRequired() from None
    if not isinstance(data, dict) or not isinstance(data.get("sid"), str):
        raise SignInRequired()
    return data


def identity_of(request: Request) -> Identity:
    """The signed-in identity, re-validated against the key's current state."""
    cached = request.scope.get("state", {}).get("web_identity")
    if isinstance(cached, Identity):
        return cached
    data = _session_data(request)
    store: IntelStore = request.app.state.store
    with store.read_session() as s:
        live = s.get(WebSession, _sid(data["sid"]))
        now = datetime.now(UTC)
        if live is None or live.ended is not None or live.expires <= now:
            raise SignInRequired()
        row = s.get(ApiKey, live.key_id)
        if row is None or row.revoked is not None or (row.expires and row.expires <= now):
            raise SignInRequired()
        who = Identity(
            org_id=row.org_id, org_name=row.org.name, org_kind=row.org.kind, role=row.role,
            via="session", key_id=row.id, key_expires=row.expires,
            remote=request.scope.get("state", {}).get("remote"),
        )  # fmt: skip
    request.scope.setdefault("state", {})["web_identity"] = who
    return who


def csrf_token(request: Request) -> str:
    cached = request.scope.get("state", {}).get("web_csrf")
    if isinstance(cached, str):
        return cached
    data = _session_data(request)
    store: IntelStore = request.app.state.store
    with store.read_session() as s:
        live = s.get(WebSession, _sid(data["sid"]))
        if live is None or live.ended is not None:
            raise SignInRequired()
        token = live.csrf
    request.scope.setdefault("state", {})["web_csrf"] = token
    return token


def check_csrf(request: Request, token: str | None) -> None:
    expected = csrf_token(request)
    if not token or not hmac.compare_digest(expected, token):
        raise PermissionDeniedError("the form's CSRF token is missing or stale; reload the page")
    origin = request.headers.get("origin")
    if origin and origin.rstrip("/") != str(request.base_url).rstrip("/"):
        raise PermissionDeniedError("cross-site form submission refused")


def require_writer(who: Identity) -> None:
    if not who.has_role("analyst"):
        raise PermissionDeniedError("this needs an analyst or admin key")
