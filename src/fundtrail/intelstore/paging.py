"""Pagination tokens bound to the caller's org and query, signed with the store secret.

A token carries the last (created, id) seen; it is refused when its signature is
wrong, or when it is replayed by another org or with another query, so a token
never widens what its holder may see.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import datetime
from typing import Any

from fundtrail.errors import InvalidInputError

SECRET_KEY = "paging_secret"


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def query_fingerprint(query: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(query, sort_keys=True, default=str).encode()).hexdigest()[:16]


def make_token(
    secret: bytes, org_id: str, query: dict[str, Any], created: datetime, last_id: str
) -> str:
    body = json.dumps(
        {"o": org_id, "q": query_fingerprint(query), "c": created.isoformat(), "i": last_id},
        separators=(",", ":"),
    ).encode()
    sig = hmac.new(secret, body, hashlib.sha256).digest()
    return f"{_b64(body)}.{_b64(sig)}"


def read_token(
    secret: bytes, token: str, org_id: str, query: dict[str, Any]
) -> tuple[datetime, str]:
    """The (created, id) position a token points after; InvalidInputError if not ours."""
    bad = InvalidInputError(
        "pagination token is not valid for this caller and query; start again without 'next'",
        field="next",
    )
    try:
        body_b64, sig_b64 = token.split(".", 1)
        body, sig = _unb64(body_b64), _unb64(sig_b64)
    except (ValueError, TypeError):
        raise bad from None
    if not hmac.compare_digest(sig, hmac.new(secret, body, hashlib.sha256).digest()):
        raise bad
    data = json.loads(body)
    if data.get("o") != org_id or data.get("q") != query_fingerprint(query):
        raise bad
    return datetime.fromisoformat(data["c"]), str(data["i"])
