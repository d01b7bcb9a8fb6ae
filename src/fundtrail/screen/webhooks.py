"""Signed webhook delivery of alerts: HMAC-SHA256 over the exact body, retries with backoff."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from typing import Any

import httpx

from fundtrail.netguard import check_outbound_url

SIGNATURE_HEADER = "X-Fundtrail-Signature"


def sign(body: bytes, secret: str) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(body: bytes, secret: str, signature: str) -> bool:
    """What a receiver runs: constant-time comparison of the signature header."""
    return hmac.compare_digest(sign(body, secret), signature)


@dataclass(slots=True)
class Delivery:
    ok: bool
    attempts: int
    status: int | None
    error: str | None = None


def deliver(
    url: str,
    payload: dict[str, Any],
    secret: str,
    *,
    retries: int = 4,
    backoff: float = 0.5,
    timeout: float = 5.0,
    allow_private: bool = False,
) -> Delivery:
    """POST the payload; retry 5xx, 429 and network errors with exponential backoff."""
    check_outbound_url(url, allow_private=allow_private)
    body = json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()
    headers = {
        "Content-Type": "application/json",
        SIGNATURE_HEADER: sign(body, secret),
        "User-Agent": "fundtrail-webhook/1",
    }
    status: int | None = None
    error: str | None = None
    for attempt in range(1, retries + 2):
        try:
            resp = httpx.post(url, content=body, headers=headers, timeout=timeout)
            status = resp.status_code
            if status < 300:
                return Delivery(True, attempt, status)
            error = f"HTTP {status}"
            if status < 500 and status != 429:
                return Delivery(False, attempt, status, error)
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"
        if attempt <= retries:
            time.sleep(backoff * 2 ** (attempt - 1))
    return Delivery(False, retries + 1, status, error)
