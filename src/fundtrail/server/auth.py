"""Who is calling: API keys checked before any body is read, then role dependencies.

:class:`Gatekeeper` is a plain ASGI middleware in front of every route. For each
HTTP request it (1) lets public paths through, (2) authenticates the key given as
``Authorization: Bearer KEY``, ``Token KEY`` or HTTP Basic (user = org name,
password = key), (3) refuses a declared body over ``max_body_bytes`` (413) and
counts undeclared (chunked) ones as they stream, (4) insists on a JSON media type
for bodies sent to ``/api/`` (415). Only then does the route see the request.

Route modules take ``Depends(require_identity)`` or ``Depends(require_role("analyst"))``.
Other parts open public paths with :func:`add_public_path` (TAXII discovery, the
web UI's sign-in page and static files).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import time
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPBearer
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from fundtrail.errors import (
    AuthenticationError,
    PayloadTooLargeError,
    PermissionDeniedError,
    UnsupportedMediaError,
    UserError,
)
from fundtrail.intelstore import keys
from fundtrail.intelstore.base import utcnow
from fundtrail.intelstore.db import IntelStore
from fundtrail.intelstore.keys import authenticate
from fundtrail.model.identity import Identity
from fundtrail.server.errors import error_response
from fundtrail.server.proxies import TrustedProxies

__all__ = ["Gatekeeper", "Identity", "add_public_path", "require_identity", "require_role"]

PUBLIC_PATHS: set[str] = {"/taxii2/"}  # exact paths answered without a key
PUBLIC_PREFIXES: set[str] = set()  # path prefixes answered without a key (e.g. "/static/")
JSON_PREFIXES: set[str] = {"/api/"}  # bodies under these must be JSON
_BODY_METHODS = {"POST", "PUT", "PATCH"}


def add_public_path(path: str, *, prefix: bool = False) -> None:
    """Let ``path`` (or everything under it) answer without an API key."""
    (PUBLIC_PREFIXES if prefix else PUBLIC_PATHS).add(path)


def is_public(path: str) -> bool:
    return path in PUBLIC_PATHS or any(path.startswith(p) for p in PUBLIC_PREFIXES)


def credentials(headers: dict[str, str]) -> tuple[str, str | None]:
    """(key, basic-auth username or None) from the Authorization header."""
    raw = headers.get("authorization", "").strip()
    scheme, _, value = raw.partition(" ")
    scheme, value = scheme.lower(), value.strip()
    if scheme in ("bearer", "token") and value:
        return value, None
    if scheme == "basic" and value:
        try:
            user, sep, password = base64.b64decode(value, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            raise AuthenticationError("malformed HTTP Basic credentials") from None
        if sep and password:
            return password, user
    raise AuthenticationError(
        "an API key is required: 'Authorization: Bearer KEY', 'Token KEY' or HTTP Basic "
        "(user = organisation name, password = key)"
    )


class KeyCache:
    """Remembers good keys for ``ttl`` seconds so a burst of calls costs one lookup.

    Only successes are kept (by the key's SHA-256), expiry is still checked on every
    hit, and a revocation in this process empties the cache; a key revoked by another
    process stops working within ``ttl`` seconds.
    """

    def __init__(self, ttl: float, size: int = 10_000) -> None:
        self.ttl, self.size = ttl, size
        self._hits: dict[str, tuple[float, Identity]] = {}
        self._revocations = keys.revocations

    def get(self, key: str) -> Identity | None:
        if self._revocations != keys.revocations:
            self._hits.clear()
            self._revocations = keys.revocations
        hit = self._hits.get(_digest(key))
        if hit is None or time.monotonic() - hit[0] > self.ttl:
            return None
        who = hit[1]
        if who.key_expires is not None and who.key_expires <= utcnow():
            return None
        return who

    def put(self, key: str, who: Identity) -> None:
        if self.ttl <= 0:
            return
        if len(self._hits) >= self.size:
            self._hits.clear()
        self._hits[_digest(key)] = (time.monotonic(), who)


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def identity_for(store: IntelStore, key: str) -> Identity:
    with store.read_session() as s:
        return authenticate(s, key)


class Gatekeeper:
    """ASGI middleware: key, body size and media type, in that order, before any route.

    It also decides, once, the client's address (``scope["state"]["remote"]``, proxy
    headers believed only from ``proxies``) and hands routes the caller's
    :class:`Identity` seen from there.
    """

    def __init__(
        self,
        app: ASGIApp,
        store: IntelStore,
        max_body_bytes: int,
        key_cache_seconds: float = 1.0,
        proxies: TrustedProxies | None = None,
    ) -> None:
        self.app = app
        self.store = store
        self.max_body = max_body_bytes
        self.cache = KeyCache(key_cache_seconds)
        self.proxies = proxies or TrustedProxies()

    async def _identity(self, headers: dict[str, str]) -> Identity:
        key, user = credentials(headers)
        who = self.cache.get(key)
        if who is None:
            who = await anyio.to_thread.run_sync(identity_for, self.store, key)
            self.cache.put(key, who)
        if user is not None and user != who.org_name:
            raise AuthenticationError("HTTP Basic user name must be the key's organisation name")
        return who

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        state = scope.setdefault("state", {})
        peer = scope.get("client")
        state["remote"] = remote = self.proxies.client(
            peer[0] if peer else None, headers.get("x-forwarded-for")
        )
        try:
            if not is_public(scope["path"]):
                state["identity"] = (await self._identity(headers)).at(remote)
            self._check_body(scope, headers)
        except UserError as exc:
            await error_response(exc)(scope, receive, send)
            return
        await self.app(scope, self._limited(receive), send)

    def _check_body(self, scope: Scope, headers: dict[str, str]) -> None:
        length = headers.get("content-length")
        if length is not None:
            if not length.isdigit():
                raise PayloadTooLargeError("invalid Content-Length header")
            if int(length) > self.max_body:
                raise PayloadTooLargeError(
                    f"request body of {length} bytes is over the limit of {self.max_body}"
                )
        has_body = (length not in (None, "0")) or "transfer-encoding" in headers
        if (
            scope["method"] in _BODY_METHODS
            and has_body
            and any(scope["path"].startswith(p) for p in JSON_PREFIXES)
        ):
            media = headers.get("content-type", "").split(";")[0].strip().lower()
            if media != "application/json" and not media.endswith("+json"):
                raise UnsupportedMediaError(
                    f"content type {media or '(none)'!r} is not accepted; send application/json"
                )

    def _limited(self, receive: Receive) -> Receive:
        seen = 0

        async def wrapped() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_body:  # FastAPI passes HTTPException through body parsing
                    raise HTTPException(
                        413, f"request body is over the limit of {self.max_body} bytes"
                    )
            return message

        return wrapped


_bearer = HTTPBearer(auto_error=False, description="API key: 'Authorization: Bearer KEY'")


async def require_identity(request: Request, _doc: Any = Depends(_bearer)) -> Identity:
    """The authenticated caller (set by :class:`Gatekeeper`)."""
    who = request.scope.get("state", {}).get("identity")
    if not isinstance(who, Identity):
        raise AuthenticationError("an API key is required")
    return who


def require_role(role: str) -> Callable[..., Awaitable[Identity]]:
    """A dependency: the caller, if its key has at least ``role`` (reader < analyst < admin)."""

    async def dependency(who: Identity = Depends(require_identity)) -> Identity:
        if not who.has_role(role):
            raise PermissionDeniedError(f"this needs an {role} key; yours is {who.role}")
        return who

    return dependency
