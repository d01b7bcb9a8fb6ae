"""Screening under /api/v1: verdicts, the org's rules, alerts and webhooks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, Body, Depends, Query, Request

from fundtrail.intelstore.db import IntelStore
from fundtrail.intelstore.keys import Principal
from fundtrail.screen import alerts as alert_service
from fundtrail.screen import service
from fundtrail.server.auth import require_principal, require_role
from fundtrail.server.deps import get_store, remote_addr

router = APIRouter(prefix="/api/v1", tags=["screening"])

_EXAMPLE = {
    "chain": "BTC",
    "address": "12QtD5BFwRsdNsAZY76UVE1xyCGNTojH9h",
    "direction": "deposit",
    "amount": 150000,
    "asset": "BTC",
}


def _home(request: Request) -> Path:
    return Path(request.app.state.settings.home)


@router.post("/screen")
def screen(
    request: Request,
    body: dict[str, Any] = Body(..., examples=[_EXAMPLE, {"items": [_EXAMPLE]}]),
    who: Principal = Depends(require_principal),
    store: IntelStore = Depends(get_store),
    remote: str | None = Depends(remote_addr),
) -> dict[str, Any]:
    """Risk of one address, one transfer, or a batch of up to 10,000 as {"items": [...]}.

    Each answer: risk (severe|high|medium|low|none), score 0-100, the reasons you may see
    (category, direct or indirect with share and hops, who shared it at which TLP) and the
    index version. Decisions are logged for the regulator.
    """
    items = service.parse_request(body)
    result = service.screen(
        store,
        _home(request),
        items,
        org_id=who.org_id,
        org_name=who.org_name,
        key_id=who.key_id,
        actor=who,
        remote=remote,
    )
    if "items" not in body:
        return {"index_version": result["index_version"], **result["items"][0]}
    return result


@router.get("/screen/rules")
def get_rules(
    who: Principal = Depends(require_principal), store: IntelStore = Depends(get_store)
) -> dict[str, Any]:
    """Your organisation's screening rules."""
    return service.get_rules(store, who.org_id).to_dict()


@router.put("/screen/rules")
def put_rules(
    body: dict[str, Any] = Body(...),
    who: Principal = Depends(require_role("admin")),
    store: IntelStore = Depends(get_store),
) -> dict[str, Any]:
    """Set thresholds per level, categories to ignore, category weights (admin keys)."""
    return service.set_rules(store, who.org_id, body, actor=who).to_dict()


@router.get("/screen/decisions")
def decisions(
    address: str | None = Query(None),
    limit: int = Query(100, ge=1, le=1000),
    who: Principal = Depends(require_role("analyst")),
    store: IntelStore = Depends(get_store),
) -> list[dict[str, Any]]:
    """Your organisation's logged screening decisions, newest first."""
    return service.decisions(store, who.org_id, limit=limit, address=address)


@router.get("/alerts")
def alerts(
    limit: int = Query(100, ge=1, le=1000),
    who: Principal = Depends(require_principal),
    store: IntelStore = Depends(get_store),
) -> list[dict[str, Any]]:
    """Past deposits of yours that new intel or new blocks made risky."""
    return alert_service.list_alerts(store, who.org_id, limit=limit)


@router.post("/webhooks", status_code=201)
def add_webhook(
    body: dict[str, Any] = Body(
        ..., examples=[{"url": "https://siem.example/hook", "secret": "a-long-shared-secret"}]
    ),
    who: Principal = Depends(require_role("admin")),
    store: IntelStore = Depends(get_store),
) -> dict[str, Any]:
    """Register a URL that receives your alerts, signed with HMAC-SHA256 of the body."""
    url, secret = body.get("url"), body.get("secret")
    from fundtrail.errors import InvalidInputError

    if not isinstance(url, str) or not isinstance(secret, str):
        raise InvalidInputError("url and secret are required strings", field="url")
    return {"id": alert_service.add_webhook(store, who.org_id, url, secret, actor=who)}
