"""Screening under /api/v1: verdicts, the org's rules, alerts and webhooks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
from fastapi import APIRouter, Body, Depends, Query, Request, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from fundtrail.errors import AuthenticationError, InvalidInputError
from fundtrail.intelstore.db import IntelStore
from fundtrail.model.identity import Identity
from fundtrail.screen import alerts as alert_service
from fundtrail.screen import service
from fundtrail.server.auth import require_identity, require_role
from fundtrail.server.deps import get_store
from fundtrail.server.errors import error_response
from fundtrail.server.schemas import ERROR_RESPONSES

router = APIRouter(prefix="/api/v1", tags=["screening"], responses=ERROR_RESPONSES)

_EXAMPLE = {
    "chain": "BTC",
    "address": "12QtD5BFwRsdNsAZY76UVE1xyCGNTojH9h",
    "direction": "deposit",
    "amount": 150000,
    "asset": "BTC",
}


def _home(request: Request) -> Path:
    return Path(request.app.state.settings.home)


_ITEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["address"],
    "properties": {
        "chain": {"type": "string", "default": "BTC"},
        "address": {"type": "string"},
        "direction": {"type": "string", "enum": ["deposit", "withdrawal"]},
        "amount": {"type": ["integer", "string"], "description": "base units"},
        "asset": {"type": "string", "maxLength": 80},
        "txid": {"type": "string", "maxLength": 80},
    },
}
_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "oneOf": [
                        _ITEM_SCHEMA,
                        {
                            "type": "object",
                            "required": ["items"],
                            "properties": {
                                "items": {"type": "array", "items": _ITEM_SCHEMA, "maxItems": 10000}
                            },
                        },
                    ]
                },
                "examples": {"one": {"value": _EXAMPLE}, "batch": {"value": {"items": [_EXAMPLE]}}},
            }
        },
    }
}


@router.post("/screen", openapi_extra={**_BODY, "security": [{"HTTPBearer": []}]})
async def screen(request: Request) -> Response:
    """Risk of one address, one transfer, or a batch of up to 10,000 as {"items": [...]}.

    Each answer: risk (severe|high|medium|low|none), score 0-100, the reasons you may see
    now (category, direct or indirect with share, hops and origin, who shared it at which
    TLP), its decision_id, the index version and whether a rebuild is pending. The
    decision is durable before the answer is sent (FUNDTRAIL_SCREEN_DURABILITY).
    """
    who = await require_identity(request, None)
    return Response(
        await _answer(await request.body(), who, request.app.state.screener),
        media_type="application/json",
    )


async def _answer(raw: bytes, who: Identity, live: service.Screener) -> bytes:
    """The screening answer to one request body, as JSON bytes (serialised once)."""
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise InvalidInputError(f"request body is not valid JSON: {exc}", field="body") from None
    items = service.parse_request(body)
    result = await live.screen_async(items, who, remote=who.remote)
    if "items" not in body:
        (item,) = result.pop("items")
        result.update(item)
    return orjson.dumps(result)


class ScreenFastPath:
    """``POST /api/v1/screen`` answered straight from ASGI, inside the gatekeeper (the
    key, body size and media type are checked already) and inside the security headers:
    the same answer as the route above, which stays for the OpenAPI document, without
    FastAPI's per-request routing, dependency solving and response classes."""

    PATH = "/api/v1/screen"

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != self.PATH or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        try:
            who = scope.get("state", {}).get("identity")
            if not isinstance(who, Identity):
                raise AuthenticationError("an API key is required")
            chunks = []
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    return
                chunks.append(message.get("body", b""))
                if not message.get("more_body"):
                    break
            payload = await _answer(b"".join(chunks), who, scope["app"].state.screener)
        except Exception as exc:  # the one mapping of errors to answers
            await error_response(exc)(scope, receive, send)
            return
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(payload)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": payload})


@router.get("/screen/rules")
def get_rules(
    who: Identity = Depends(require_identity), store: IntelStore = Depends(get_store)
) -> dict[str, Any]:
    """Your organisation's screening rules."""
    return service.get_rules(store, who.org_id).to_dict()


@router.put("/screen/rules")
def put_rules(
    body: dict[str, Any] = Body(...),
    who: Identity = Depends(require_role("admin")),
    store: IntelStore = Depends(get_store),
) -> dict[str, Any]:
    """Set thresholds per level, categories to ignore, category weights (admin keys)."""
    return service.set_rules(store, who.org_id, body, actor=who).to_dict()


@router.get("/screen/decisions")
def decisions(
    request: Request,
    address: str | None = Query(None),
    limit: int = Query(100, ge=1, le=1000),
    who: Identity = Depends(require_role("analyst")),
    store: IntelStore = Depends(get_store),
) -> list[dict[str, Any]]:
    """Your organisation's logged screening decisions, newest first."""
    return service.decisions(store, who.org_id, limit=limit, address=address, home=_home(request))


@router.get("/alerts")
def alerts(
    limit: int = Query(100, ge=1, le=1000),
    who: Identity = Depends(require_identity),
    store: IntelStore = Depends(get_store),
) -> list[dict[str, Any]]:
    """Past deposits of yours that new intel or new blocks made risky."""
    return alert_service.list_alerts(store, who.org_id, limit=limit)


@router.post("/webhooks", status_code=201)
def add_webhook(
    body: dict[str, Any] = Body(
        ..., examples=[{"url": "https://siem.example/hook", "secret": "a-long-shared-secret"}]
    ),
    who: Identity = Depends(require_role("admin")),
    store: IntelStore = Depends(get_store),
) -> dict[str, Any]:
    """Register a URL that receives your alerts, signed with HMAC-SHA256 of the body."""
    url, secret = body.get("url"), body.get("secret")
    from fundtrail.errors import InvalidInputError

    if not isinstance(url, str) or not isinstance(secret, str):
        raise InvalidInputError("url and secret are required strings", field="url")
    return {"id": alert_service.add_webhook(store, who.org_id, url, secret, actor=who)}
