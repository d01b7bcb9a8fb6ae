"""REST for complaints: POST one or many (analyst keys), GET one (its reporter and case orgs)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, BackgroundTasks, Depends
from pydantic import BaseModel, ConfigDict, Field

from fundtrail.cases.campaigns import complaint_view
from fundtrail.cases.complaints import RowError, parse_complaint
from fundtrail.cases.intake import add_complaints
from fundtrail.cases.relink import SCHEDULER
from fundtrail.errors import ConflictError, InvalidInputError
from fundtrail.intelstore.db import IntelStore
from fundtrail.model.identity import Identity
from fundtrail.server.auth import require_identity, require_role
from fundtrail.server.deps import get_app_settings, get_store, remote_addr
from fundtrail.server.schemas import ERROR_RESPONSES
from fundtrail.settings import Settings

router = APIRouter(prefix="/api/v1", tags=["complaints"], responses=ERROR_RESPONSES)


Values = str | list[str] | None


class ContactIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: str = Field(
        ..., max_length=8, examples=["email"], description="email, site, phone, handle"
    )
    value: str = Field(..., max_length=320)


class ComplaintIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    complaint_id: str | None = Field(None, max_length=100, description="your reference")
    victim: str = Field(..., min_length=1, max_length=200)
    contact: str | None = Field(None, max_length=200)
    reported_at: datetime | None = None
    chain: str = Field(..., max_length=16, examples=["BTC"])
    txid: str = Field(..., max_length=80)
    vout: int | None = Field(None, ge=0, description="output index (BTC) or log index (EVM)")
    to_address: str = Field(..., max_length=128)
    amount: int | str = Field(..., description="exact integer in base units (satoshi, wei)")
    asset: str | None = Field(None, max_length=42)
    description: str | None = Field(None, max_length=2000)
    # what the victim reports about the perpetrator (cases guide: perpetrator contacts)
    perpetrator_email: Values = Field(None, description="e-mail(s) in the ransom note / scam")
    perpetrator_site: Values = Field(None, description="website(s) or onion site(s)")
    perpetrator_phone: Values = Field(None, description="phone number(s)")
    perpetrator_handle: Values = Field(None, description="messenger handle(s), Tox id")
    perpetrator_contacts: list[ContactIn] | None = Field(None, max_length=20)


class BulkIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    complaints: list[ComplaintIn] = Field(..., min_length=1, max_length=5000)
    keep_unverified: bool = False


def _raw(body: ComplaintIn) -> dict[str, Any]:
    raw = body.model_dump()
    raw["amount"] = str(raw["amount"])
    raw["vout"] = "" if raw["vout"] is None else str(raw["vout"])
    if raw["reported_at"] is not None:
        raw["reported_at"] = raw["reported_at"].isoformat()
    return raw


@router.post("/complaints", status_code=201)
def add_complaint(
    body: ComplaintIn,
    tasks: BackgroundTasks,
    keep_unverified: bool = False,
    who: Identity = Depends(require_role("analyst")),
    store: IntelStore = Depends(get_store),
    settings: Settings = Depends(get_app_settings),
    remote: str | None = Depends(remote_addr),
) -> dict[str, Any]:
    """One complaint; checked against the chain (422 naming the field when it disagrees)."""
    item = parse_complaint(_raw(body))
    rep = add_complaints(store, [item], org_id=who.org_id, actor=who, home=settings.home,
                         keep_unverified=keep_unverified, remote=remote)  # fmt: skip
    if rep.errors:
        err = rep.errors[0]
        if "already reported" in err.message:
            raise ConflictError(err.message, field=err.field)
        raise InvalidInputError(err.message, field=err.field)
    tasks.add_task(SCHEDULER.run, store, settings.home, who)
    return complaint_view(store, rep.ids[0], who, settings.home)


@router.post("/complaints/bulk")
def add_complaints_bulk(
    body: BulkIn,
    tasks: BackgroundTasks,
    who: Identity = Depends(require_role("analyst")),
    store: IntelStore = Depends(get_store),
    settings: Settings = Depends(get_app_settings),
    remote: str | None = Depends(remote_addr),
) -> dict[str, Any]:
    """Many complaints: bad ones reported by position (``line`` = 1-based index), rest stored."""
    items, errors = [], []
    for i, c in enumerate(body.complaints, start=1):
        try:
            items.append(parse_complaint(_raw(c), i))
        except InvalidInputError as exc:
            errors.append(RowError(i, exc.field, exc.message))
    rep = add_complaints(store, items, org_id=who.org_id, actor=who, home=settings.home,
                         keep_unverified=body.keep_unverified, remote=remote)  # fmt: skip
    rep.errors = errors + rep.errors
    if rep.imported:
        tasks.add_task(SCHEDULER.run, store, settings.home, who)
    return rep.to_dict()


@router.get("/complaints/{complaint_id}")
def get_complaint(
    complaint_id: str,
    who: Identity = Depends(require_identity),
    store: IntelStore = Depends(get_store),
    settings: Settings = Depends(get_app_settings),
) -> dict[str, Any]:
    """A complaint its reporter or an org on its case may see; anyone else gets 404."""
    return complaint_view(store, complaint_id, who, settings.home)
