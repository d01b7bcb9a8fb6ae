"""REST for indicators and their sightings under /api/v1 (a few lines per route)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel

from fundtrail.intel.indicators import IndicatorService
from fundtrail.intel.records import IndicatorRecord
from fundtrail.intelstore.db import IntelStore
from fundtrail.intelstore.indicators import IndicatorQuery
from fundtrail.intelstore.orgs import list_orgs
from fundtrail.model.identity import Identity
from fundtrail.model.indicators import Category, IndicatorType
from fundtrail.model.tlp import TLP
from fundtrail.server.auth import require_identity
from fundtrail.server.deps import get_store, indicator_service, remote_addr
from fundtrail.server.schemas import (
    ERROR_RESPONSES,
    IdentityOut,
    IndicatorIn,
    IndicatorOut,
    IndicatorPage,
    IndicatorPatch,
    OrgOut,
    SightingIn,
    SightingOut,
)

router = APIRouter(prefix="/api/v1", tags=["indicators"], responses=ERROR_RESPONSES)
Who = Depends(require_identity)
Svc = Depends(indicator_service)
Remote = Depends(remote_addr)


def _json(model: BaseModel) -> Response:
    """The model serialised once, by pydantic-core: the read routes' hot path.

    Returning the model would have FastAPI validate it again against ``response_model``
    and encode it a second time (half the CPU of a single lookup); the routes keep
    ``response_model`` for the OpenAPI spec.
    """
    return Response(model.model_dump_json(), media_type="application/json")


@router.post("/indicators", status_code=201, response_model=IndicatorOut)
def add_indicator(
    body: IndicatorIn,
    who: Identity = Who,
    svc: IndicatorService = Svc,
    remote: str | None = Remote,
) -> IndicatorOut:
    data = body.model_dump(exclude={"type", "value", "chain", "category", "tlp"})
    rec = IndicatorRecord.build(
        body.type.value,
        body.value,
        body.category.value,
        chain=body.chain,
        tlp=body.tlp.value,
        source="api",
        **data,
    )
    return IndicatorOut.of(svc.add(who, rec, remote))


@router.get("/indicators", response_model=IndicatorPage)
def list_indicators(
    q: str | None = Query(None, max_length=200, description="substring of value or description"),
    value: str | None = Query(None, max_length=2048, description="exact normalised value"),
    type: IndicatorType | None = None,
    chain: str | None = Query(None, max_length=16),
    category: Category | None = None,
    tlp: TLP | None = None,
    org: str | None = Query(None, max_length=200, description="owning organisation"),
    limit: int = Query(100, ge=1, le=1000),
    next: str | None = Query(None, max_length=1000, description="token from the previous page"),
    count: bool = Query(False, description="also return the total"),
    who: Identity = Who,
    svc: IndicatorService = Svc,
    remote: str | None = Remote,
) -> Response:
    query = IndicatorQuery(
        q=q,
        value=value,
        type=type and type.value,
        chain=chain,
        category=category and category.value,
        tlp=tlp and tlp.value,
        org=org,
    )
    page = svc.search(who, query, limit=limit, next_token=next, with_total=count, remote=remote)
    out = IndicatorPage(
        items=[IndicatorOut.of(r) for r in page.items], next=page.next, total=page.total
    )
    return _json(out)


@router.get("/indicators/{indicator_id}", response_model=IndicatorOut)
def get_indicator(
    indicator_id: str,
    who: Identity = Who,
    svc: IndicatorService = Svc,
    remote: str | None = Remote,
) -> Response:
    return _json(IndicatorOut.of(svc.get(who, indicator_id, remote)))


@router.patch("/indicators/{indicator_id}", response_model=IndicatorOut)
def update_indicator(
    indicator_id: str,
    body: IndicatorPatch,
    who: Identity = Who,
    svc: IndicatorService = Svc,
    remote: str | None = Remote,
) -> IndicatorOut:
    changes = body.model_dump(exclude_unset=True)
    return IndicatorOut.of(svc.update(who, indicator_id, changes, remote))


@router.delete("/indicators/{indicator_id}", status_code=204)
def delete_indicator(
    indicator_id: str,
    who: Identity = Who,
    svc: IndicatorService = Svc,
    remote: str | None = Remote,
) -> Response:
    svc.delete(who, indicator_id, remote)
    return Response(status_code=204)


@router.post("/indicators/{indicator_id}/sightings", status_code=201, response_model=SightingOut)
def add_sighting(
    indicator_id: str,
    body: SightingIn,
    who: Identity = Who,
    svc: IndicatorService = Svc,
    remote: str | None = Remote,
) -> SightingOut:
    view = svc.add_sighting(
        who,
        indicator_id,
        kind=body.kind,
        seen_at=body.seen_at,
        where=body.where,
        note=body.note,
        remote=remote,
    )
    return SightingOut.of(view)


@router.get("/indicators/{indicator_id}/sightings", response_model=list[SightingOut])
def list_sightings(
    indicator_id: str,
    who: Identity = Who,
    svc: IndicatorService = Svc,
    remote: str | None = Remote,
) -> list[SightingOut]:
    return [SightingOut.of(v) for v in svc.list_sightings(who, indicator_id, remote)]


@router.get("/me", response_model=IdentityOut, tags=["organisations"])
def whoami(who: Identity = Who) -> IdentityOut:
    return IdentityOut(org=who.org_name, kind=who.org_kind, role=who.role, key_id=who.key_id)


@router.get("/orgs", response_model=list[OrgOut], tags=["organisations"])
def orgs(who: Identity = Who, store: IntelStore = Depends(get_store)) -> list[OrgOut]:
    with store.read_session() as s:
        return [OrgOut(name=o.name, kind=o.kind) for o in list_orgs(s)]
