"""Request pages: inbox and outbox, one request (actions, the answer form), the campaign's
"send requests" form. Each route calls one function of ``cases.requests.service``."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from fundtrail.cases.requests import service as rq
from fundtrail.errors import InvalidInputError
from fundtrail.model.identity import Identity
from fundtrail.web.pages import guarded, guarded_write, home_of, store_of
from fundtrail.web.render import page

router = APIRouter(include_in_schema=False)


def _to(request_id: str, notice: str = "") -> Response:
    q = f"?notice={quote(notice)}" if notice else ""
    return RedirectResponse(f"/ui/requests/{quote(request_id)}{q}", status_code=303)


@router.get("/ui/requests")
def requests_page(request: Request, state: str = "") -> Response:
    """The organisation's inbox (addressed to it) and outbox (sent by it)."""

    def build(who: Identity) -> Response:
        store = store_of(request)
        inbox = rq.list_requests(store, who, box="inbox", state=state or None)
        outbox = rq.list_requests(store, who, box="outbox", state=state or None)
        return page(request, "requests.html", who=who, inbox=inbox, outbox=outbox, state=state)

    return guarded(request, build)


@router.get("/ui/requests/{request_id}")
def request_page(request: Request, request_id: str, notice: str = "") -> Response:
    """One request; opening it as the addressee records that it was received."""

    def build(who: Identity) -> Response:
        r = rq.show_request(store_of(request), who, request_id, home=home_of(request))
        return page(
            request, "request.html", who=who, r=r, notice=notice, outcomes=rq.states.OUTCOME_TEXT
        )

    return guarded(request, build)


@router.post("/ui/requests/{request_id}/action")
def request_action(
    request: Request,
    request_id: str,
    csrf: str = Form(""),
    action: str = Form(""),
    reason: str = Form(""),
) -> Response:
    def build(who: Identity) -> Response:
        r = rq.transition(
            store_of(request),
            who,
            request_id,
            action,
            reason=reason,
            home=home_of(request),
            background=True,
        )
        return _to(r["id"], f"request {r['state']}")

    return guarded_write(request, csrf, build)


@router.post("/ui/requests/{request_id}/answer")
async def request_answer(request: Request, request_id: str) -> Response:
    form = await request.form()
    fields = {k: v for k, v in form.multi_items() if isinstance(v, str)}
    sealed = [v for k, v in form.multi_items() if k == "sealed" and not isinstance(v, str)]
    files = []
    for f in sealed:
        body = await f.read()
        if body and f.filename:
            files.append(rq.Attachment(f.filename, body, f.content_type or "", sealed=True))

    def build(who: Identity) -> Response:
        answers = _answers(fields)
        r = rq.answer_request(
            store_of(request),
            who,
            request_id,
            answers,
            note=fields.get("note", ""),
            attachments=files,
            home=home_of(request),
            background=True,
        )
        return _to(r["id"], "answer sent")

    return guarded_write(request, fields.get("csrf"), build)


def _answers(fields: dict[str, str]) -> list[dict[str, Any]]:
    """The answer form's rows: ``address_N``, ``outcome_N``, ``amount_N``, ``moved_N``."""
    out = []
    for key, address in sorted(fields.items()):
        if not key.startswith("address_"):
            continue
        n = key.removeprefix("address_")
        outcome = fields.get(f"outcome_{n}", "")
        if not outcome:
            continue
        a: dict[str, Any] = {"address": address, "outcome": outcome}
        if outcome == "frozen":
            a["amount_units"] = fields.get(f"amount_{n}", "").strip() or None
        if outcome == "moved":
            a["moved_to"] = fields.get(f"moved_{n}", "")
        out.append(a)
    if not out:
        raise InvalidInputError(
            "choose an answer for at least one deposit address", field="answers"
        )
    return out


@router.get("/ui/requests/{request_id}/attachments/{attachment_id}")
def request_attachment(request: Request, request_id: str, attachment_id: str) -> Response:
    def build(who: Identity) -> Response:
        att = rq.open_attachment(
            store_of(request), who, request_id, attachment_id, home=home_of(request)
        )
        safe = "".join(c if c.isalnum() or c in "._-" else "_" for c in att.name)
        return Response(
            att.body,
            media_type=att.media_type or "application/octet-stream",
            headers={"Content-Disposition": f'attachment; filename="{safe}"'},
        )

    return guarded(request, build)


@router.post("/ui/campaigns/{campaign_id}/requests")
def campaign_request(
    request: Request,
    campaign_id: str,
    csrf: str = Form(""),
    to: str = Form(""),
    kind: str = Form("freeze"),
    exchange: str = Form(""),
    legal_basis: str = Form(""),
    reference: str = Form(""),
    contact: str = Form(""),
    deadline: str = Form(""),
    send: str = Form(""),
) -> Response:
    """A request from the campaign page: deposits and files from the freeze plan."""

    def build(who: Identity) -> Response:
        r = rq.create_request(
            store_of(request),
            who,
            to=to,
            kind=kind,
            campaign=campaign_id,
            exchange=exchange or None,
            legal_basis=legal_basis,
            reference=reference,
            contact=contact,
            deadline=rq.parse_deadline(deadline or None),
            send=bool(send),
            home=home_of(request),
            background=True,
        )
        return _to(r["id"], f"{r['kind']} request to {r['to']} {r['state']}")

    return guarded_write(request, csrf, build)
