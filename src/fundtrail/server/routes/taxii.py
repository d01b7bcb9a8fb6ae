"""TAXII 2.1 under /taxii2/: discovery (public), one API root, collections, objects, status.

Handlers are thin: media types are checked here (406 before any work, 415 before the
body is read; the Gatekeeper already refused an oversized body by its Content-Length),
the rest is :class:`fundtrail.intel.taxii.TaxiiService`. Errors are TAXII error
messages (``title``, ``description``, ``http_status``) in the TAXII media type.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from fundtrail.errors import NotFoundError, UnsupportedMediaError, UserError
from fundtrail.intel.taxii import (
    COLLECTIONS,
    TAXII_MEDIA,
    CollectionView,
    Filters,
    NotAcceptableError,
    Page,
    TaxiiService,
    date_added,
    parse_timestamp,
)
from fundtrail.model.identity import Identity
from fundtrail.server.auth import require_identity
from fundtrail.server.deps import remote_addr

API_ROOT = "/taxii2/api/"


class TaxiiJSON(JSONResponse):
    media_type = TAXII_MEDIA


_TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    406: "Not Acceptable",
    413: "Payload Too Large",
    415: "Unsupported Media Type",
    422: "Unprocessable Entity",
}


class TaxiiErrorOut(BaseModel):
    """A TAXII 2.1 error message (section 3.6.1)."""

    title: str
    description: str
    http_status: str


TAXII_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": TaxiiErrorOut, "description": title} for code, title in _TITLES.items()
}


def taxii_error(status: int, description: str) -> TaxiiJSON:
    body = {
        "title": _TITLES.get(status, "Error"),
        "description": description,
        "http_status": str(status),
    }
    headers = {"WWW-Authenticate": 'Basic realm="fundtrail TAXII"'} if status == 401 else None
    return TaxiiJSON(body, status_code=status, headers=headers)


class TaxiiRoute(APIRoute):
    """Answers every failure of a TAXII route as a TAXII error message."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        original = super().get_route_handler()

        async def handler(request: Request) -> Response:
            try:
                return await original(request)
            except UserError as exc:
                return taxii_error(exc.status_code, exc.message)
            except RequestValidationError as exc:
                first: dict[str, Any] = next(iter(exc.errors()), {})
                return taxii_error(400, str(first.get("msg", "invalid request")))
            except StarletteHTTPException as exc:
                return taxii_error(exc.status_code, str(exc.detail))

        return handler


def _media_ok(value: str, *, wildcard: bool) -> bool:
    kind, *params = [p.strip().lower() for p in value.split(";")]
    opts = dict(p.partition("=")[::2] for p in params)
    if wildcard and kind in ("*/*", "application/*"):
        return True
    return kind == "application/taxii+json" and opts.get("version", "2.1").strip() == "2.1"


async def check_accept(request: Request) -> None:
    """406 unless the client accepts TAXII 2.1 JSON (or anything)."""
    accept = request.headers.get("accept", "*/*")
    if not any(_media_ok(item, wildcard=True) for item in accept.split(",") if item.strip()):
        raise NotAcceptableError(
            f"cannot answer with {accept[:80]!r}; this server speaks {TAXII_MEDIA}"
        )


router = APIRouter(
    prefix="/taxii2",
    tags=["taxii"],
    route_class=TaxiiRoute,
    dependencies=[Depends(check_accept)],
    default_response_class=TaxiiJSON,  # the spec documents the media type TAXII answers in
    responses=TAXII_ERRORS,
)
Who = Depends(require_identity)
Remote = Depends(remote_addr)


async def taxii_service(request: Request) -> TaxiiService:
    state = request.app.state
    if getattr(state, "taxii", None) is None:
        state.taxii = TaxiiService(state.indicators)
    service: TaxiiService = state.taxii
    return service


Svc = Depends(taxii_service)


def _filters(request: Request) -> Filters:
    q = request.query_params

    def many(name: str) -> tuple[str, ...]:
        return tuple(v.strip() for raw in q.getlist(name) for v in raw.split(",") if v.strip())

    after = q.get("added_after")
    return Filters(
        added_after=parse_timestamp(after, "added_after") if after else None,
        ids=many("match[id]"),
        types=many("match[type]"),
        versions=many("match[version]"),
        spec_versions=many("match[spec_version]"),
    )


def _limit(request: Request) -> int | None:
    raw = request.query_params.get("limit")
    if raw is None:
        return None
    if not raw.strip().lstrip("-").isdigit():
        raise UserError(f"limit {raw[:20]!r} is not a whole number", field="limit")
    return int(raw)


def _paged(page: Page, body: dict[str, Any]) -> TaxiiJSON:
    headers = {}
    if page.added:
        headers = {
            "X-TAXII-Date-Added-First": date_added(page.added[0]),
            "X-TAXII-Date-Added-Last": date_added(page.added[-1]),
        }
    if page.more:
        body = {"more": True, "next": page.next, **body}
    else:
        body = {"more": False, **body}
    return TaxiiJSON(body, headers=headers)


@router.get("/")
def discovery(request: Request) -> TaxiiJSON:
    """Server discovery: the one unauthenticated TAXII endpoint."""
    return TaxiiJSON(
        {
            "title": "fundtrail intel hub",
            "description": "Crypto-crime indicators shared by the alliance, filtered by TLP.",
            "default": API_ROOT,
            "api_roots": [API_ROOT],
        }
    )


@router.get("/api/")
def api_root(request: Request, who: Identity = Who) -> TaxiiJSON:
    return TaxiiJSON(
        {
            "title": "fundtrail",
            "description": "Indicators your organisation may see.",
            "versions": [TAXII_MEDIA],
            "max_content_length": request.app.state.settings.max_body_bytes,
        }
    )


@router.get("/api/status/{status_id}/")
def get_status(status_id: str, who: Identity = Who, svc: TaxiiService = Svc) -> TaxiiJSON:
    return TaxiiJSON(svc.status(who, status_id))


@router.get("/api/collections/")
def list_collections(who: Identity = Who) -> TaxiiJSON:
    return TaxiiJSON({"collections": [c.resource(who) for c in COLLECTIONS]})


@router.get("/api/collections/{cid}/")
def get_collection(cid: str, who: Identity = Who, svc: TaxiiService = Svc) -> TaxiiJSON:
    return TaxiiJSON(svc.collection(cid).resource(who))


def _read(
    svc: TaxiiService,
    who: Identity,
    cid: str,
    request: Request,
    kind: str,
    flt: Filters | None = None,
) -> tuple[CollectionView, Page]:
    coll = svc.collection(cid)
    page = svc.page(
        who, coll, flt or _filters(request), kind, _limit(request), request.query_params.get("next")
    )
    svc.audit_page(who, page, f"taxii.{kind}", who.remote)
    return coll, page


@router.get("/api/collections/{cid}/objects/")
def get_objects(
    cid: str, request: Request, who: Identity = Who, svc: TaxiiService = Svc
) -> TaxiiJSON:
    _, page = _read(svc, who, cid, request, "objects")
    return _paged(page, {"objects": svc.objects(page)})


@router.post("/api/collections/{cid}/objects/", status_code=202)
async def add_objects(
    cid: str,
    request: Request,
    who: Identity = Who,
    svc: TaxiiService = Svc,
    remote: str | None = Remote,
) -> TaxiiJSON:
    coll = svc.collection(cid)
    media = request.headers.get("content-type", "")
    if not _media_ok(media, wildcard=False):
        raise UnsupportedMediaError(
            f"content type {media[:80] or '(none)'!r} is not accepted; send {TAXII_MEDIA}"
        )
    body = await request.body()  # the Gatekeeper caps its size while it streams
    status = await run_in_threadpool(svc.add_objects, who, coll, body, remote)
    return TaxiiJSON(status, status_code=202)


@router.get("/api/collections/{cid}/objects/{oid}/")
def get_object(
    cid: str, oid: str, request: Request, who: Identity = Who, svc: TaxiiService = Svc
) -> TaxiiJSON:
    base = _filters(request)
    flt = Filters(
        ids=(oid,),
        versions=base.versions,
        spec_versions=base.spec_versions,
        added_after=base.added_after,
    )
    _, page = _read(svc, who, cid, request, "object", flt)
    if not page.records:
        raise NotFoundError(f"no object {oid[:80]!r} in this collection", field="id")
    return _paged(page, {"objects": svc.objects(page)})


@router.delete("/api/collections/{cid}/objects/{oid}/")
def delete_object(
    cid: str, oid: str, who: Identity = Who, svc: TaxiiService = Svc, remote: str | None = Remote
) -> TaxiiJSON:
    svc.delete_object(who, svc.collection(cid), oid, remote)
    return TaxiiJSON({})


@router.get("/api/collections/{cid}/objects/{oid}/versions/")
def get_versions(
    cid: str, oid: str, request: Request, who: Identity = Who, svc: TaxiiService = Svc
) -> TaxiiJSON:
    base = _filters(request)
    flt = Filters(ids=(oid,), spec_versions=base.spec_versions, added_after=base.added_after)
    _, page = _read(svc, who, cid, request, "versions", flt)
    if not page.records:
        raise NotFoundError(f"no object {oid[:80]!r} in this collection", field="id")
    return _paged(page, {"versions": [o["modified"] for o in svc.objects(page)]})


@router.get("/api/collections/{cid}/manifest/")
def get_manifest(
    cid: str, request: Request, who: Identity = Who, svc: TaxiiService = Svc
) -> TaxiiJSON:
    _, page = _read(svc, who, cid, request, "manifest")
    entries = [
        {
            "id": o["id"],
            "date_added": date_added(r.modified),
            "version": o["modified"],
            "media_type": "application/stix+json;version=2.1",
        }
        for r, o in zip(page.records, svc.objects(page), strict=True)
        if r.modified is not None
    ]
    return _paged(page, {"objects": entries})
