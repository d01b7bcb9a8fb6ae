"""Requests between partners, stored: create, send, read, answer, close; who sees what.

Every function takes the caller's :class:`Identity`. Who may see a request is the rule
of :func:`fundtrail.cases.access.request_side`: the requester, and the addressee once it
was sent; anyone else is answered exactly as for a missing request (404), in lists and
counts too. Every transition and every read writes an audit row. A request is edited
only as a draft; after sending it can only be withdrawn or followed by another.

Deposits come from the campaign's freeze plan (:mod:`fundtrail.cases.freeze`), the
deposits of the exchange the request goes to, unless the caller gives its own list.
Attachments are sealed at rest with the workspace key, like victims' data.
"""

from __future__ import annotations

import base64
import hashlib
import tempfile
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from fundtrail.cases.access import request_side, requests_visible_to
from fundtrail.cases.crypto import PiiCipher
from fundtrail.cases.requests import states
from fundtrail.errors import (
    ConflictError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
)
from fundtrail.intelstore import audit
from fundtrail.intelstore.db import IntelStore
from fundtrail.intelstore.models import Org
from fundtrail.intelstore.requests import PartnerRequest, RequestAttachment, RequestDeposit
from fundtrail.model import display
from fundtrail.model.addresses import parse_address
from fundtrail.model.amounts import parse_amount, parse_decimal_amount
from fundtrail.model.assets import resolve
from fundtrail.model.chains import get_chain
from fundtrail.model.identity import Identity
from fundtrail.settings import get_settings

MAX_DEPOSITS = 500
MAX_TEXT = 1000
MAX_ATTACHMENT = 10 * 1024 * 1024
OBJECT = "partner_request"


@dataclass(frozen=True, slots=True)
class Attachment:
    """A file to send with a request or an answer."""

    name: str
    body: bytes
    media_type: str = "application/octet-stream"
    sealed: bool = False  # an answer's file only the requesting organisation may open


def _now(now: datetime | None) -> datetime:
    return now or datetime.now(UTC)


def _cipher(home: Path | None) -> PiiCipher:
    return PiiCipher.from_settings(home)


def _text(value: str | None, field: str, limit: int = MAX_TEXT) -> str:
    text = (value or "").strip()
    if len(text) > limit:
        raise InvalidInputError(f"{field} is longer than {limit} characters", field=field)
    return text


def _writer(who: Identity) -> None:
    if not who.in_org:
        raise PermissionDeniedError(
            "requests are sent and answered by an organisation: name --org (the operator "
            "and the public view may only read)"
        )
    if not who.has_role("analyst"):
        raise PermissionDeniedError("sending or answering a request needs the analyst role")


def may_request(who: Identity) -> bool:
    """Law enforcement, or an organisation kind the alliance allows (``request_kinds``)."""
    kinds = {k.strip() for k in get_settings().request_kinds.split(",") if k.strip()}
    return who.in_org and who.org_kind in kinds


# -- deposits ---------------------------------------------------------------------------


def parse_deposit(d: Mapping[str, Any], i: int = 0) -> dict[str, Any]:
    """One deposit as given by a person or a partner's tool, checked and normalised."""
    field = f"deposits[{i}]"
    if not isinstance(d, Mapping):
        raise InvalidInputError(f"{field} must be an object", field=field)
    chain = get_chain(str(d.get("chain") or "")).code
    raw = d.get("address") or d.get("deposit_address") or ""
    address = parse_address(str(raw), chain).display
    asset = resolve(str(d.get("asset") or chain), chain).key
    amount = parse_amount(d.get("amount", 0), field=f"{field}.amount")
    share = d.get("share", 0.0) or 0.0
    if not isinstance(share, int | float) or isinstance(share, bool) or not 0 <= share <= 1:
        raise InvalidInputError(f"{field}.share must be a fraction 0..1", field=field)
    txids = d.get("txids") or []
    if not isinstance(txids, list) or len(txids) > 1000:
        raise InvalidInputError(f"{field}.txids must be a list of txids", field=field)
    clean = []
    for t in txids:
        s = str(t).strip()
        if not s or len(s) > 80 or not s.replace("0x", "", 1).isalnum():
            raise InvalidInputError(f"{field}: {t!r} is not a txid", field=field)
        clean.append(s)
    return {
        "chain": chain,
        "address": address,
        "asset": asset,
        "amount": amount,
        "share": float(share),
        "txids": clean,
    }


def parse_deposits(items: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    out = [parse_deposit(d, i) for i, d in enumerate(items)]
    if len(out) > MAX_DEPOSITS:
        raise InvalidInputError(f"at most {MAX_DEPOSITS} deposits in one request", field="deposits")
    seen: set[tuple[str, str, str]] = set()
    for d in out:
        key = (d["chain"], d["address"], d["asset"])
        if key in seen:
            raise InvalidInputError(
                f"deposit {d['address']} ({d['asset']}) is listed twice", field="deposits"
            )
        seen.add(key)
    return out


# -- creating ---------------------------------------------------------------------------


def _org(s: Session, name: str) -> Org:
    org = s.scalars(sa.select(Org).where(Org.name == (name or "").strip())).first()
    if org is None:
        raise NotFoundError(f"no organisation named {name!r}", field="to")
    return org


def _same(a: str, b: str) -> bool:
    from fundtrail.cases.freeze import slug

    return slug(a) == slug(b)


@dataclass(frozen=True, slots=True)
class FromPlan:
    """What a campaign's freeze plan gives a request to one exchange."""

    exchange: str
    deposits: list[dict[str, Any]]
    attachments: list[Attachment]


def from_freeze_plan(
    store: IntelStore,
    campaign_id: str,
    exchange: str,
    *,
    viewer: Identity,
    reference: str,
    requester_details: dict[str, Any] | None = None,
    home: Path | None = None,
    now: datetime | None = None,
) -> FromPlan:
    """The plan's deposits at ``exchange`` and its freeze-request JSON and PDF."""
    from fundtrail.cases.freeze import write_freeze_requests
    from fundtrail.cases.freezing import campaign_freeze

    _traced, plan = campaign_freeze(store, campaign_id, viewer=viewer, home=home)
    found = next((r for r in plan.requests if _same(r.exchange, exchange)), None)
    if found is None:
        names = ", ".join(r.exchange for r in plan.requests) or "none"
        raise InvalidInputError(
            f"the freeze plan of {plan.campaign} requests nothing at {exchange!r} (it names: "
            f"{names}); name the exchange as the trace does, or give the deposits",
            field="exchange",
        )
    deposits = [
        {
            "chain": d.chain,
            "address": d.deposit_address,
            "asset": d.asset,
            "amount": d.amount,
            "share": round(d.share, 6),
            "txids": list(d.txids),
        }
        for d in found.deposits
    ]
    with tempfile.TemporaryDirectory(prefix="fundtrail-request-") as tmp:
        files = write_freeze_requests(
            replace(plan, requests=(found,)),
            Path(tmp),
            reference=reference,
            requester=viewer.org_name,
            now=_now(now),
            requester_details=requester_details,
        )
        media = {".json": "application/json", ".pdf": "application/pdf"}
        attachments = [
            Attachment(p.name, p.read_bytes(), media[p.suffix]) for p in files if p.suffix in media
        ]
    return FromPlan(found.exchange, parse_deposits(deposits), attachments)


def create_request(
    store: IntelStore,
    who: Identity,
    *,
    to: str,
    kind: str = "freeze",
    campaign: str | None = None,
    exchange: str | None = None,
    deposits: Sequence[Mapping[str, Any]] | None = None,
    legal_basis: str = "",
    reference: str = "",
    contact: str = "",
    note: str = "",
    deadline: datetime | None = None,
    follows: str | None = None,
    attachments: Sequence[Attachment] = (),
    send: bool = False,
    home: Path | None = None,
    now: datetime | None = None,
    background: bool = False,
) -> dict[str, Any]:
    """A new request (a draft, or sent at once with ``send``); returns it as the requester
    sees it. Deposits default to the campaign's freeze plan at the addressee's exchange."""
    _writer(who)
    if not may_request(who):
        raise PermissionDeniedError(
            f"{who.org_name} ({who.org_kind}) may not send requests: only "
            f"{get_settings().request_kinds} organisations may (FUNDTRAIL_REQUEST_KINDS)"
        )
    kind = states.parse_kind(kind)
    stamp = _now(now)
    from fundtrail.cases.profiles import load_profile

    profile = load_profile(who.org_name, home)  # the org's case profile fills what is not given
    legal_basis = legal_basis or profile.legal_basis
    contact = contact or profile.contact
    if deadline is None and kind in ("freeze", "preserve"):
        from datetime import timedelta

        deadline = stamp + timedelta(days=profile.deadline_days)
    fields = {
        "legal_basis": _text(legal_basis, "legal_basis"),
        "reference": _text(reference, "reference", 100),
        "contact": _text(contact, "contact", 500),
        "note": _text(note, "note", 10 * MAX_TEXT),
    }
    if deadline is not None and deadline.tzinfo is None:
        raise InvalidInputError("deadline must carry a time zone (UTC)", field="deadline")
    with store.session() as s:
        addressee = _org(s, to)
        if addressee.id == who.org_id:
            raise InvalidInputError("a request goes to another organisation", field="to")
        campaign_id, case_ref = None, ""
        if campaign:
            from fundtrail.cases.campaigns import get_campaign, open_case

            view = get_campaign(s, campaign, who)  # 404 unless the requester may see it
            lead = who.org_name if who.is_law_enforcement else None
            case_ref = open_case(s, view.id, owner=lead, actor=who).reference
            campaign_id = view.id
        if follows:
            prior = _visible(s, who, follows)
            if (
                request_side(who, prior.requester_org_id, prior.addressee_org_id, prior.state)
                != "requester"
            ):
                raise NotFoundError(f"no request {follows!r}", field="follows")
    files = list(attachments)
    if deposits is None:
        if not campaign_id:
            raise InvalidInputError(
                "give the campaign (its freeze plan names the deposits) or the deposits",
                field="deposits",
            )
        plan = from_freeze_plan(
            store,
            campaign_id,
            exchange or to,
            viewer=who,
            reference=case_ref or reference,
            requester_details={
                "org": who.org_name,
                "analyst": profile.analyst,
                "contact": fields["contact"],
                "legal_basis": fields["legal_basis"],
                "deadline": display.time_utc(deadline),
            },
            home=home,
            now=stamp,
        )
        rows, ex = plan.deposits, plan.exchange
        files = plan.attachments + files
    else:
        rows, ex = parse_deposits(deposits), (exchange or "")
    if not rows and kind in ("freeze", "release"):
        raise InvalidInputError(f"a {kind} request names at least one deposit", field="deposits")
    cipher = _cipher(home)
    with store.session() as s:
        req = PartnerRequest(
            kind=kind,
            state="draft",
            requester_org_id=who.org_id,
            addressee_org_id=addressee.id,
            campaign_id=campaign_id,
            case_reference=case_ref,
            exchange=_text(ex, "exchange", 200),
            deadline=deadline,
            follows=follows,
            created=stamp,
            **fields,
        )
        s.add(req)
        s.flush()
        for i, d in enumerate(rows):
            s.add(
                RequestDeposit(
                    request_id=req.id,
                    position=i,
                    chain=d["chain"],
                    address=d["address"],
                    asset=d["asset"],
                    amount=str(d["amount"]),
                    share=d["share"],
                    txids=d["txids"],
                )
            )
        for f in files:
            _attach(s, cipher, req.id, "request", f)
        audit.record(
            s,
            who,
            "request.create",
            OBJECT,
            req.id,
            {
                "kind": kind,
                "to": addressee.name,
                "campaign": campaign_id,
                "deposits": len(rows),
                "attachments": [f.name for f in files],
            },
        )
        rid = req.id
    if send:
        return transition(store, who, rid, "send", home=home, now=stamp, background=background)
    return show_request(store, who, rid, home=home, now=stamp, audit_read=False)


EDITABLE = ("legal_basis", "reference", "contact", "note", "deadline", "deposits")


def edit_request(
    store: IntelStore,
    who: Identity,
    request_id: str,
    changes: Mapping[str, Any],
    *,
    home: Path | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Change a draft (its deposits, legal basis, reference, contact, note, deadline).
    A sent request is never edited: withdraw it, or send another that follows it."""
    _writer(who)
    unknown = sorted(set(changes) - set(EDITABLE))
    if unknown:
        raise InvalidInputError(
            f"cannot edit {', '.join(unknown)}; editable: {', '.join(EDITABLE)}", field=unknown[0]
        )
    stamp = _now(now)
    with store.session() as s:
        r = _visible(s, who, request_id, lock=True)
        if _side(who, r) != "requester":
            raise NotFoundError(f"no request {request_id!r}", field="request")
        if r.state != "draft":
            raise ConflictError(
                f"request {r.id} was {r.state}: it cannot be edited after sending; withdraw "
                "it or send another that follows it (--follows)"
            )
        limits = {"legal_basis": MAX_TEXT, "reference": 100, "contact": 500, "note": 10 * MAX_TEXT}
        for key, limit in limits.items():
            if key in changes:
                setattr(r, key, _text(changes[key], key, limit))
        if "deadline" in changes:
            r.deadline = parse_deadline(changes["deadline"], stamp)
        if "deposits" in changes:
            rows = parse_deposits(changes["deposits"] or [])
            s.execute(sa.delete(RequestDeposit).where(RequestDeposit.request_id == r.id))
            for i, d in enumerate(rows):
                s.add(
                    RequestDeposit(
                        request_id=r.id,
                        position=i,
                        chain=d["chain"],
                        address=d["address"],
                        asset=d["asset"],
                        amount=str(d["amount"]),
                        share=d["share"],
                        txids=d["txids"],
                    )
                )
        audit.record(s, who, "request.edit", OBJECT, r.id, {"fields": sorted(changes)})
        s.flush()
        return _view(s, who, r, stamp)


def _attach(s: Session, cipher: PiiCipher, request_id: str, side: str, f: Attachment) -> None:
    name = _text(f.name, "attachment name", 200)
    if not name or "/" in name or "\\" in name or name.startswith("."):
        raise InvalidInputError(
            f"attachment name {f.name!r} is not a plain file name", field="attachments"
        )
    if len(f.body) > MAX_ATTACHMENT:
        raise InvalidInputError(
            f"attachment {name} is {len(f.body):,} bytes; at most {MAX_ATTACHMENT:,}",
            field="attachments",
        )
    sealed = cipher.seal(base64.b64encode(f.body).decode(), f"request-attachment:{request_id}")
    s.add(
        RequestAttachment(
            request_id=request_id,
            side=side,
            name=name,
            media_type=_text(f.media_type, "type", 100),
            size=len(f.body),
            sha256=hashlib.sha256(f.body).hexdigest(),
            sealed=f.sealed,
            body_enc=sealed or "",
        )
    )


# -- reading ----------------------------------------------------------------------------


def _visible(s: Session, who: Identity, request_id: str, *, lock: bool = False) -> PartnerRequest:
    q = sa.select(PartnerRequest).where(
        PartnerRequest.id == (request_id or "").strip(), requests_visible_to(who)
    )
    if lock:
        q = q.with_for_update()
    row = s.scalars(q).first()
    if row is None:
        raise NotFoundError(f"no request {request_id!r}", field="request")
    return row


def _side(who: Identity, r: PartnerRequest) -> str:
    return request_side(who, r.requester_org_id, r.addressee_org_id, r.state)


def _names(s: Session, ids: Iterable[str]) -> dict[str, Org]:
    wanted = set(ids)
    return {o.id: o for o in s.scalars(sa.select(Org).where(Org.id.in_(wanted)))} if wanted else {}


def _deposit_view(d: RequestDeposit) -> dict[str, Any]:
    out: dict[str, Any] = {
        "chain": d.chain,
        "address": d.address,
        "asset": d.asset,
        "amount": int(d.amount),
        "amount_text": display.amount(int(d.amount), d.asset, chain=d.chain),
        "share": d.share,
        "txids": list(d.txids or []),
        "answer": None,
    }
    if d.outcome:
        frozen = int(d.frozen_amount) if d.frozen_amount is not None else None
        out["answer"] = {
            "outcome": d.outcome,
            "text": states.OUTCOME_TEXT[d.outcome],
            "frozen_amount": frozen,
            "frozen_asset": d.frozen_asset,
            "frozen_text": display.amount(frozen, d.frozen_asset or d.asset, chain=d.chain)
            if frozen is not None
            else None,
            "frozen_at": display.time_utc(d.frozen_at) if d.frozen_at else None,
            "moved_to": d.moved_to or None,
            "note": d.answer_note or None,
        }
    return out


def _totals(deposits: Iterable[RequestDeposit]) -> dict[str, dict[str, int]]:
    requested: dict[str, int] = defaultdict(int)
    frozen: dict[str, int] = defaultdict(int)
    for d in deposits:
        requested[d.asset] += int(d.amount)
        if d.outcome == "frozen" and d.frozen_amount is not None:
            frozen[d.frozen_asset or d.asset] += int(d.frozen_amount)
    return {"requested": dict(sorted(requested.items())), "frozen": dict(sorted(frozen.items()))}


def _view(
    s: Session, who: Identity, r: PartnerRequest, now: datetime, *, full: bool = True
) -> dict[str, Any]:
    orgs = _names(s, [r.requester_org_id, r.addressee_org_id])
    side = _side(who, r)
    deps = list(
        s.scalars(
            sa.select(RequestDeposit)
            .where(RequestDeposit.request_id == r.id)
            .order_by(RequestDeposit.position)
        )
    )
    frm, to = orgs.get(r.requester_org_id), orgs.get(r.addressee_org_id)
    out: dict[str, Any] = {
        "id": r.id,
        "kind": r.kind,
        "state": r.state,
        "side": side,
        "from": frm.name if frm else "",
        "from_kind": frm.kind if frm else "",
        "to": to.name if to else "",
        "campaign": r.campaign_id,
        "case_reference": r.case_reference,
        "exchange": r.exchange,
        "reference": r.reference,
        "deadline": display.time_utc(r.deadline) if r.deadline else None,
        "due": states.due_status(r.state, r.deadline, now),
        "created": display.time_utc(r.created),
        "sent": _t(r.sent_at),
        "received": _t(r.received_at),
        "acknowledged": _t(r.acknowledged_at),
        "answered": _t(r.answered_at),
        "closed": _t(r.closed_at),
        "withdrawn": _t(r.withdrawn_at),
        "declined": _t(r.declined_at),
        "decline_reason": r.decline_reason or None,
        "follows": r.follows,
        "deposits_count": len(deps),
        "totals": _totals(deps),
        "actions": states.allowed_actions(r.state, side)
        if side in ("requester", "addressee")
        else [],
    }
    if full:
        atts = s.scalars(
            sa.select(RequestAttachment)
            .where(RequestAttachment.request_id == r.id)
            .order_by(RequestAttachment.created, RequestAttachment.name)
        )
        out |= {
            "legal_basis": r.legal_basis,
            "contact": r.contact,
            "note": r.note,
            "answer_note": r.answer_note or None,
            "deposits": [_deposit_view(d) for d in deps],
            "attachments": [
                {
                    "id": a.id,
                    "name": a.name,
                    "media_type": a.media_type,
                    "size": a.size,
                    "sha256": a.sha256,
                    "side": a.side,
                    "sealed": a.sealed,
                    "may_open": not a.sealed or side in ("requester", "operator"),
                }
                for a in atts
            ],
        }
    return out


def _t(when: datetime | None) -> str | None:
    return display.time_utc(when) if when else None


def show_request(
    store: IntelStore,
    who: Identity,
    request_id: str,
    *,
    home: Path | None = None,
    now: datetime | None = None,
    audit_read: bool = True,
) -> dict[str, Any]:
    """One request as ``who`` may see it. The addressee's first read marks it received
    (recorded, audited, the requester sees when); every read is audited."""
    stamp = _now(now)
    with store.session() as s:
        r = _visible(s, who, request_id, lock=True)
        side = _side(who, r)
        if side == "addressee" and r.state == "sent":
            _move(s, who, r, "receive", stamp)
        if audit_read:
            audit.record(s, who, "request.read", OBJECT, r.id, {"side": side, "state": r.state})
        return _view(s, who, r, stamp)


def list_requests(
    store: IntelStore,
    who: Identity,
    *,
    box: str = "all",
    state: str | None = None,
    campaign: str | None = None,
    now: datetime | None = None,
) -> list[dict[str, Any]]:
    """The requests ``who`` may see: ``inbox`` (addressed to it), ``outbox`` (its own) or
    ``all``; newest first. Listing is a read (audited); it does not mark anything received."""
    if box not in ("inbox", "outbox", "all"):
        raise InvalidInputError("box is inbox, outbox or all", field="box")
    if state is not None and state not in states.STATES:
        raise InvalidInputError(
            f"unknown state {state!r}; use {', '.join(states.STATES)}", field="state"
        )
    stamp = _now(now)
    q = sa.select(PartnerRequest).where(requests_visible_to(who))
    if box == "inbox":
        q = q.where(PartnerRequest.addressee_org_id == who.org_id)
    elif box == "outbox":
        q = q.where(PartnerRequest.requester_org_id == who.org_id)
    if state:
        q = q.where(PartnerRequest.state == state)
    if campaign:
        q = q.where(PartnerRequest.campaign_id == campaign.strip().upper())
    with store.session() as s:
        rows = list(s.scalars(q.order_by(PartnerRequest.created.desc(), PartnerRequest.id)))
        out = [_view(s, who, r, stamp, full=False) for r in rows]
        audit.record(s, who, "request.list.read", OBJECT, "", {"box": box, "count": len(out)})
    return out


def open_attachment(
    store: IntelStore,
    who: Identity,
    request_id: str,
    attachment_id: str,
    *,
    home: Path | None = None,
) -> Attachment:
    """An attachment's bytes; a sealed one only for the requesting organisation (others:
    404, as if there were none). Audited."""
    with store.session() as s:
        r = _visible(s, who, request_id)
        side = _side(who, r)
        a = s.get(RequestAttachment, attachment_id)
        if (
            a is None
            or a.request_id != r.id
            or (a.sealed and side not in ("requester", "operator"))
        ):
            raise NotFoundError(f"no attachment {attachment_id!r}", field="attachment")
        text = _cipher(home).open(a.body_enc, f"request-attachment:{r.id}") or ""
        audit.record(
            s,
            who,
            "request.attachment.read",
            OBJECT,
            r.id,
            {"attachment": a.id, "name": a.name, "sealed": a.sealed},
        )
        return Attachment(a.name, base64.b64decode(text), a.media_type, a.sealed)


# -- moving on --------------------------------------------------------------------------

_STAMP = {
    "sent": "sent_at",
    "received": "received_at",
    "acknowledged": "acknowledged_at",
    "answered": "answered_at",
    "closed": "closed_at",
    "withdrawn": "withdrawn_at",
    "declined": "declined_at",
}


def _move(
    s: Session,
    who: Identity,
    r: PartnerRequest,
    action: str,
    now: datetime,
    details: dict[str, Any] | None = None,
) -> str:
    side = _side(who, r)
    if side not in ("requester", "addressee"):
        raise PermissionDeniedError("only the requester or the addressee moves a request on")
    before = r.state
    r.state = states.step(before, action, side)
    setattr(r, _STAMP[r.state], now)
    audit.record(
        s,
        who,
        f"request.{action}",
        OBJECT,
        r.id,
        {"from": before, "to": r.state, **(details or {})},
    )
    return before


def transition(
    store: IntelStore,
    who: Identity,
    request_id: str,
    action: str,
    *,
    reason: str = "",
    home: Path | None = None,
    now: datetime | None = None,
    notify: bool = True,
    background: bool = False,
) -> dict[str, Any]:
    """send | withdraw | acknowledge | decline (with a reason) | close."""
    if action in ("receive", "answer"):
        raise InvalidInputError(f"{action} is not done by this call", field="action")
    stamp = _now(now)
    why = _text(reason, "reason")
    if action == "decline" and not why:
        raise InvalidInputError("say why the request is declined", field="reason")
    with store.session() as s:
        r = _visible(s, who, request_id, lock=True)
        _writer(who)
        if action == "send" and not may_request(who):
            raise PermissionDeniedError(f"{who.org_name} may not send requests")
        if (
            action in ("acknowledge", "decline")
            and _side(who, r) == "addressee"
            and (
                r.state == "sent"  # acknowledging or declining it is reading it
            )
        ):
            _move(s, who, r, "receive", stamp)
        before = _move(s, who, r, action, stamp, {"reason": why} if why else None)
        if action == "decline":
            r.decline_reason = why
        event = _event(action, before)
        summary = _view(s, who, r, stamp, full=False)
        out = _view(s, who, r, stamp)
        target = r.addressee_org_id if action in ("send", "withdraw") else r.requester_org_id
    if notify and event:
        from fundtrail.cases.requests.notify import notify_org

        notify_org(store, target, event, summary, background=background)
    return out


def _event(action: str, before: str) -> str | None:
    if action == "send":
        return "request.new"
    if action == "withdraw" and before != "draft":
        return "request.withdrawn"
    if action == "decline":
        return "request.declined"
    return None


def answer_request(
    store: IntelStore,
    who: Identity,
    request_id: str,
    answers: Sequence[Mapping[str, Any]],
    *,
    note: str = "",
    attachments: Sequence[Attachment] = (),
    home: Path | None = None,
    now: datetime | None = None,
    notify: bool = True,
    background: bool = False,
) -> dict[str, Any]:
    """The addressee's answer, one per deposit address (each listed deposit once):
    ``{"address", "outcome": frozen|moved|not-customer|legal-process, "amount", "asset",
    "at", "moved_to", "note"}``. Deposits it does not mention stay unanswered."""
    _writer(who)
    stamp = _now(now)
    if not answers:
        raise InvalidInputError("answer at least one deposit address", field="answers")
    cipher = _cipher(home)
    with store.session() as s:
        r = _visible(s, who, request_id, lock=True)
        if _side(who, r) == "addressee" and r.state == "sent":
            _move(s, who, r, "receive", stamp)  # answering is reading it
        deps = list(s.scalars(sa.select(RequestDeposit).where(RequestDeposit.request_id == r.id)))
        by_addr: dict[str, list[RequestDeposit]] = defaultdict(list)
        for d in deps:
            by_addr[d.address.lower()].append(d)
        counts: dict[str, int] = defaultdict(int)
        done: set[str] = set()
        staged = []
        for i, a in enumerate(answers):
            d, fields = _answer(a, i, by_addr, stamp)
            if d.id in done:
                raise InvalidInputError(
                    f"answers[{i}]: {d.address} is answered twice", field="answers"
                )
            done.add(d.id)
            staged.append((d, fields))
            counts[fields["outcome"]] += 1
        _move(s, who, r, "answer", stamp, {"answers": dict(counts)})
        for d, fields in staged:
            for k, v in fields.items():
                setattr(d, k, v)
        r.answer_note = _text(note, "note", 10 * MAX_TEXT)
        for f in attachments:
            _attach(s, cipher, r.id, "answer", f)
        s.flush()
        summary = _view(s, who, r, stamp, full=False)
        out = _view(s, who, r, stamp)
        target = r.requester_org_id
    if notify:
        from fundtrail.cases.requests.notify import notify_org

        notify_org(store, target, "request.answered", summary, background=background)
    return out


def _answer(
    a: Mapping[str, Any], i: int, by_addr: Mapping[str, list[RequestDeposit]], now: datetime
) -> tuple[RequestDeposit, dict[str, Any]]:
    field = f"answers[{i}]"
    if not isinstance(a, Mapping):
        raise InvalidInputError(f"{field} must be an object", field="answers")
    address = str(a.get("address") or "").strip()
    found = by_addr.get(address.lower(), [])
    if a.get("asset") and len(found) > 1:
        key = resolve(str(a["asset"]), found[0].chain).key
        found = [d for d in found if d.asset == key] or found
    if not found:
        raise InvalidInputError(
            f"{field}: {address!r} is not a deposit of this request", field="answers"
        )
    d = found[0]
    outcome = states.parse_outcome(str(a.get("outcome") or ""))
    fields: dict[str, Any] = {
        "outcome": outcome,
        "frozen_amount": None,
        "frozen_asset": None,
        "frozen_at": None,
        "moved_to": "",
        "answer_note": _text(a.get("note"), f"{field}.note", 2000),
    }
    if outcome == "frozen":
        asset = resolve(str(a.get("asset") or d.asset), d.chain)
        if a.get("amount") is not None:
            frozen = parse_amount(a["amount"], field=f"{field}.amount")
        elif a.get("amount_units") is not None and asset.decimals is not None:
            frozen = parse_decimal_amount(
                str(a["amount_units"]), asset.decimals, field=f"{field}.amount"
            )
        else:
            raise InvalidInputError(f"{field}: say how much was frozen", field="answers")
        fields["frozen_amount"] = str(frozen)
        fields["frozen_asset"] = asset.key
        fields["frozen_at"] = _when(a.get("at"), f"{field}.at") or now
    elif outcome == "moved":
        fields["moved_to"] = _text(a.get("moved_to"), f"{field}.moved_to", 500)
    return d, fields


def _when(value: Any, field: str) -> datetime | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        when = value
    else:
        try:
            when = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            raise InvalidInputError(f"{field} {value!r} is not an ISO time", field=field) from None
    if when.tzinfo is None:
        raise InvalidInputError(f"{field} must carry a time zone (UTC)", field=field)
    return when.astimezone(UTC)


def parse_deadline(value: str | None, now: datetime | None = None) -> datetime | None:
    """``2026-12-31``, an ISO time with zone, or ``7d`` (days from now)."""
    if value in (None, ""):
        return None
    text = str(value).strip()
    if text.endswith("d") and text[:-1].isdigit():
        from datetime import timedelta

        return _now(now) + timedelta(days=int(text[:-1]))
    if len(text) == 10:
        text += "T23:59:59+00:00"
    when = _when(text, "deadline")
    return when


# -- back into the case -----------------------------------------------------------------


def campaign_requests(
    s: Session, who: Identity, campaign_id: str, loss: Mapping[str, int]
) -> dict[str, Any]:
    """Per exchange: what ``who`` requested and what was frozen, and the total frozen
    against the loss (only requests ``who`` may see: a requester its own)."""
    q = sa.select(PartnerRequest).where(
        PartnerRequest.campaign_id == campaign_id,
        requests_visible_to(who),
        PartnerRequest.requester_org_id == who.org_id if who.in_org else sa.true(),
    )
    reqs = list(s.scalars(q.order_by(PartnerRequest.created)))
    orgs = _names(s, [r.addressee_org_id for r in reqs])
    rows: dict[str, dict[str, Any]] = {}
    frozen_total: dict[str, int] = defaultdict(int)
    frozen_places: list[dict[str, Any]] = []
    for r in reqs:
        deps = list(s.scalars(sa.select(RequestDeposit).where(RequestDeposit.request_id == r.id)))
        to = orgs[r.addressee_org_id].name if r.addressee_org_id in orgs else ""
        row = rows.setdefault(
            to,
            {
                "org": to,
                "exchange": r.exchange,
                "requests": [],
                "requested": defaultdict(int),
                "frozen": defaultdict(int),
            },
        )
        row["requests"].append({"id": r.id, "kind": r.kind, "state": r.state})
        if r.state in ("draft", "withdrawn"):
            continue
        t = _totals(deps)
        for k, v in t["requested"].items():
            row["requested"][k] += v
        for k, v in t["frozen"].items():
            row["frozen"][k] += v
            frozen_total[k] += v
        frozen_places += [
            {
                "chain": d.chain,
                "address": d.address,
                "asset": d.frozen_asset,
                "amount": int(d.frozen_amount or 0),
                "org": to,
                "at": _t(d.frozen_at),
                "request": r.id,
            }
            for d in deps
            if d.outcome == "frozen"
        ]
    out_rows = [
        r | {"requested": dict(r["requested"]), "frozen": dict(r["frozen"])} for r in rows.values()
    ]
    return {
        "exchanges": sorted(out_rows, key=lambda r: r["org"]),
        "frozen_total": dict(sorted(frozen_total.items())),
        "loss": dict(loss),
        "frozen_share": {
            k: (v / loss[k] if loss.get(k) else None) for k, v in sorted(frozen_total.items())
        },
        "frozen_deposits": frozen_places,
    }


def frozen_marks(s: Session, who: Identity, campaign_id: str) -> dict[tuple[str, str], Any]:
    """{(chain, deposit address lower-cased): what was frozen there} from the answers to
    ``who``'s requests for the campaign (the same requests :func:`campaign_requests`
    counts): ``{"by", "amount", "asset", "at", "requests"}``, amounts summed per address."""
    asked = campaign_requests(s, who, campaign_id, {})
    marks: dict[tuple[str, str], dict[str, Any]] = {}
    for f in asked["frozen_deposits"]:
        key = (f["chain"], f["address"].lower())
        m = marks.get(key)
        if m is None or m["asset"] != f["asset"]:
            marks[key] = {
                "by": f["org"],
                "amount": f["amount"],
                "asset": f["asset"],
                "at": f["at"],
                "requests": [f["request"]],
            }
            continue
        m["amount"] += f["amount"]
        m["at"] = max(m["at"] or "", f["at"] or "") or None
        m["requests"].append(f["request"])
        if f["org"] not in m["by"].split(", "):
            m["by"] += f", {f['org']}"
    return marks


def mark_frozen(s: Session, who: Identity, view: Any) -> None:
    """Mark the cash-outs of a campaign view (``view.cashouts``) whose deposit address an
    exchange answered frozen to ``who``'s request: a re-trace after a freeze shows it."""
    if not view.cashouts:
        return
    marks = frozen_marks(s, who, view.id)
    if not marks:
        return
    view.cashouts = [
        replace(c, frozen=marks.get((c.chain, (c.deposit_address or c.address or "").lower())))
        if c.deposit_identified
        else c
        for c in view.cashouts
    ]
