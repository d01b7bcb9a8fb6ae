"""Sign-in for the web UI: an API key once, then a signed, HttpOnly session cookie.

The cookie holds the key's id and a CSRF token, signed with a per-store secret; never
the key itself. Every request re-checks that the key still exists, is not revoked and
has not expired, so revoking a key ends its browser sessions too. Forms carry the CSRF
token; the cookie is SameSite=Strict.
"""

from __future__ import annotations

import hmac
import secrets
from datetime import UTC, datetime
from typing import Any

from fastapi import Request
from itsdangerous import BadSignature, URLSafeTimedSerializer

from fundtrail.errors import PermissionDeniedError
from fundtrail.intelstore.db import IntelStore
from fundtrail.intelstore.keys import authenticate
from fundtrail.intelstore.models import ApiKey
from fundtrail.model.identity import Identity

COOKIE = "ft_session"
MAX_AGE = 8 * 3600  # a working day


class SignInRequired(Exception):
    """Raised by page dependencies; the app answers with a redirect to the sign-in page."""


def _serializer(store: IntelStore) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(store.meta_secret("web_session"), salt="fundtrail-web")


def sign_in(store: IntelStore, api_key: str) -> tuple[str, Identity]:
    """Check the key; return (cookie value, identity)."""
    with store.read_session() as s:
        who = authenticate(s, api_key)
    token = _serializer(store).dumps({"kid": who.key_id, "csrf": secrets.token_urlsafe(24)})
    return token, who


def _session_data(request: Request) -> dict[str, Any]:
    raw = request.cookies.get(COOKIE)
    if not raw:
        raise SignInRequired()
    store: IntelStore = request.app.state.store
    try:
        data = _serializer(store).loads(raw, max_age=MAX_AGE)
    except BadSignature:
        raise SignInRequired() from None
    if not isinstance(data, dict) or "kid" not in data:
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
        row = s.get(ApiKey, data["kid"])
        now = datetime.now(UTC)
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
    return str(_session_data(request)["csrf"])


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
