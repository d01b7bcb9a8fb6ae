"""REST for requests between partners: create, list, read, move on, answer, export, import.

Only the requesting organisation and (once sent) the one addressed see a request;
anyone else is answered 404, exactly like a missing request, in lists too. Amounts are
exact integers in base units (a JSON number or a decimal string). Webhooks of the other
side are called in the background.
"""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from fundtrail.cases.requests import service as rq
from fundtrail.cases.requests.transfer import export_request, import_answer
from fundtrail.errors import InvalidInputError
from fundtrail.intelstore.db import IntelStore
from fundtrail.model.identity import Identity
from fundtrail.server.auth import require_identity, require_role
from fundtrail.server.deps import get_app_settings, get_store
from fundtrail.server.schemas import ERROR_RESPONSES
from fundtrail.settings import Settings

router = APIRouter(prefix="/api/v1", tags=["requests"], responses=ERROR_RESPONSES)
Amount = int | str


class DepositIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    chain: str = Field(..., max_length=16)
    address: str = Field(..., max_length=128)
    asset: str | None = Field(None, max_length=80, description="asset key; default the coin")
    amount: Amount = Field(0, description="traced amount, base units")
    share: float = Field(0.0, ge=0, le=1, description="of the campaign's loss")
    txids: list[str] = Field(default_factory=list, max_length=1000)


class AttachmentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(..., min_length=1, max_length=200)
    media_type: str = Field("application/octet-stream", max_length=100)
    content_base64: str = Field(..., max_length=14_000_000)
    sealed: bool = Field(False, description="an answer's file only the requester may open")


class RequestIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    to: str = Field(..., min_length=1, max_length=200, description="organisation addressed")
    kind: Literal["freeze", "preserve", "identify", "release"] = "freeze"
    campaign: str | None = Field(None, max_length=32)
    exchange: str | None = Field(None, max_length=200, description="as the trace names it")
    deposits: list[DepositIn] | None = Field(
        None, max_length=500, description="default: the campaign's freeze plan at the exchange"
    )
    legal_basis: str = Field("", max_length=1000)
    reference: str = Field("", max_length=100)
    contact: str = Field("", max_length=500)
    note: str = Field("", max_length=10_000)
    deadline: datetime | None = Field(None, description="UTC, with its zone")
    follows: str | None = Field(None, max_length=36)
    attachments: list[AttachmentIn] = Field(default_factory=list, max_length=20)
    send: bool = Field(False, description="send at once (else a draft)")


class RequestEdit(BaseModel):
    model_config = ConfigDict(extra="forbid")

    legal_basis: str | None = Field(None, max_length=1000)
    reference: str | None = Field(None, max_length=100)
    contact: str | None = Field(None, max_length=500)
    note: str | None = Field(None, max_length=10_000)
    deadline: str | None = Field(None, max_length=40, description="ISO time, date or 7d")
    deposits: list[DepositIn] | None = Field(None, max_length=500)


class ActionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field("", max_length=1000, description="why (declining needs one)")


class AnswerItem(BaseModel):
    model_config = ConfigDict(extra="forbid")

    address: str = Field(..., max_length=128)
    outcome: Literal["frozen", "moved", "not-customer", "legal-process"]
    amount: Amount | None = Field(None, description="frozen, base units")
    asset: str | None = Field(None, max_length=80)
    at: datetime | None = Field(None, description="when frozen (UTC); default now")
    moved_to: str | None = Field(None, max_length=500)
    note: str | None = Field(None, max_length=2000)


class AnswerIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    answers: list[AnswerItem] = Field(..., min_length=1, max_length=500)
    note: str = Field("", max_length=10_000)
    attachments: list[AttachmentIn] = Field(default_factory=list, max_length=20)


def _files(items: list[AttachmentIn]) -> list[rq.Attachment]:
    out = []
    for a in items:
        try:
            body = base64.b64decode(a.content_base64, validate=True)
        except (binascii.Error, ValueError):
            raise InvalidInputError(
                f"attachment {a.name}: content_base64 is not base64", field="attachments"
            ) from None
        out.append(rq.Attachment(a.name, body, a.media_type, a.sealed))
    return out


@router.post("/requests", status_code=201)
def create(
    body: RequestIn,
    who: Identity = Depends(require_role("analyst")),
    store: IntelStore = Depends(get_store),
    settings: Settings = Depends(get_app_settings),
) -> dict[str, Any]:
    """A new request to a partner (a draft, or sent with ``send``); deposits default to
    the campaign's freeze plan at the exchange, with its freeze-request PDF and JSON."""
    deposits = [d.model_dump() for d in body.deposits] if body.deposits is not None else None
    return rq.create_request(
        store,
        who,
        to=body.to,
        kind=body.kind,
        campaign=body.campaign,
        exchange=body.exchange,
        deposits=deposits,
        legal_basis=body.legal_basis,
        reference=body.reference,
        contact=body.contact,
        note=body.note,
        deadline=body.deadline,
        follows=body.follows,
        attachments=_files(body.attachments),
        send=body.send,
        home=settings.home,
        background=True,
    )


@router.get("/requests")
def requests(
    box: Literal["inbox", "outbox", "all"] = "all",
    state: str | None = None,
    campaign: str | None = None,
    who: Identity = Depends(require_identity),
    store: IntelStore = Depends(get_store),
) -> list[dict[str, Any]]:
    """The requests the caller's organisation sent (outbox) or was sent (inbox)."""
    return rq.list_requests(store, who, box=box, state=state, campaign=campaign)


@router.post("/requests/import")
def import_(
    request: Request,
    body: dict[str, Any],
    who: Identity = Depends(require_role("analyst")),
    store: IntelStore = Depends(get_store),
    settings: Settings = Depends(get_app_settings),
) -> dict[str, Any]:
    """Answer a request from an exported document whose ``deposits[].answer`` are filled
    in (docs/requests.schema.json): what an exchange's own case tool hands back."""
    import json

    return import_answer(store, who, json.dumps(body), home=settings.home, background=True)


@router.get("/requests/{request_id}")
def show(
    request_id: str,
    who: Identity = Depends(require_identity),
    store: IntelStore = Depends(get_store),
    settings: Settings = Depends(get_app_settings),
) -> dict[str, Any]:
    """One request with its deposits and answers; the addressee's first read marks it
    received."""
    return rq.show_request(store, who, request_id, home=settings.home)


@router.patch("/requests/{request_id}")
def edit(
    request_id: str,
    body: RequestEdit,
    who: Identity = Depends(require_role("analyst")),
    store: IntelStore = Depends(get_store),
    settings: Settings = Depends(get_app_settings),
) -> dict[str, Any]:
    """Change a draft; a sent request is never edited (withdraw it or send another)."""
    changes = body.model_dump(exclude_unset=True)
    if body.deposits is not None:
        changes["deposits"] = [d.model_dump() for d in body.deposits]
    return rq.edit_request(store, who, request_id, changes, home=settings.home)


@router.post("/requests/{request_id}/answer")
def answer(
    request_id: str,
    body: AnswerIn,
    who: Identity = Depends(require_role("analyst")),
    store: IntelStore = Depends(get_store),
    settings: Settings = Depends(get_app_settings),
) -> dict[str, Any]:
    """The addressee's answer per deposit address (frozen, moved, not a customer,
    subscriber data through legal process)."""
    answers = [a.model_dump(exclude_none=True) for a in body.answers]
    return rq.answer_request(
        store,
        who,
        request_id,
        answers,
        note=body.note,
        attachments=_files(body.attachments),
        home=settings.home,
        background=True,
    )


@router.post("/requests/{request_id}/{action}")
def move(
    request_id: str,
    action: Literal["send", "acknowledge", "decline", "withdraw", "close"],
    body: ActionIn | None = None,
    who: Identity = Depends(require_role("analyst")),
    store: IntelStore = Depends(get_store),
    settings: Settings = Depends(get_app_settings),
) -> dict[str, Any]:
    """Send a draft, acknowledge or decline (with a reason) a request addressed to the
    caller, withdraw or close the caller's own."""
    reason = body.reason if body else ""
    return rq.transition(
        store, who, request_id, action, reason=reason, home=settings.home, background=True
    )


@router.get("/requests/{request_id}/export")
def export(
    request_id: str,
    who: Identity = Depends(require_identity),
    store: IntelStore = Depends(get_store),
    settings: Settings = Depends(get_app_settings),
) -> dict[str, Any]:
    """The request with its answer as one document (docs/requests.schema.json)."""
    return export_request(store, who, request_id, home=settings.home)


@router.get(
    "/requests/{request_id}/attachments/{attachment_id}",
    response_class=Response,
    responses={200: {"content": {"application/octet-stream": {}}}},
)
def attachment(
    request_id: str,
    attachment_id: str,
    who: Identity = Depends(require_identity),
    store: IntelStore = Depends(get_store),
    settings: Settings = Depends(get_app_settings),
) -> Response:
    """One attachment's bytes (a sealed one: the requesting organisation only)."""
    att = rq.open_attachment(store, who, request_id, attachment_id, home=settings.home)
    safe = "".join(c if c.isalnum() or c in "._-" else "_" for c in att.name)
    return Response(
        att.body,
        media_type=att.media_type,
        headers={"Content-Disposition": f'attachment; filename="{safe}"'},
    )
