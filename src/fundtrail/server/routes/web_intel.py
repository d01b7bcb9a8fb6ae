"""Intel pages: browse and search what the viewer may see, share one, import a file, sight."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import RedirectResponse, Response

from fundtrail.errors import InvalidInputError, UserError
from fundtrail.intel.indicators import IndicatorService
from fundtrail.intel.records import IndicatorRecord
from fundtrail.intelstore.indicators import IndicatorQuery
from fundtrail.model.identity import Identity
from fundtrail.model.indicators import Category, IndicatorType
from fundtrail.model.tlp import TLP
from fundtrail.web.pages import guarded, guarded_write, store_of
from fundtrail.web.render import page

router = APIRouter(include_in_schema=False)


MAX_UPLOAD = 20 * 1024 * 1024


def _service(request: Request) -> IndicatorService:
    return IndicatorService(store_of(request))


def _list(request: Request, who: Identity, **extra: Any) -> Response:
    from fundtrail.intel.formats import FORMATS

    q = request.query_params
    iq, category = q.get("iq", ""), q.get("category", "")
    query = IndicatorQuery(
        q=iq or None, category=Category.parse(category).value if category else None
    )
    result = _service(request).search(
        who, query, limit=50, next_token=q.get("next") or None, remote=who.remote
    )
    return page(
        request,
        "intel.html",
        who=who,
        items=result.items,
        next=result.next,
        iq=iq,
        category=category,
        types=[t.value for t in IndicatorType],
        categories=[c.value for c in Category],
        formats=sorted(FORMATS),
        **extra,
    )


@router.get("/ui/intel")
def intel(request: Request) -> Response:
    return guarded(request, lambda who: _list(request, who))


@router.post("/ui/intel")
def add_indicator(
    request: Request,
    csrf: str = Form(""),
    type: str = Form(...),
    value: str = Form(...),
    chain: str = Form(""),
    category: str = Form(...),
    tlp: str = Form("amber"),
    share_with: str = Form(""),
    confidence: int = Form(70),
    description: str = Form(""),
) -> Response:
    def build(who: Identity) -> Response:
        try:
            rec = IndicatorRecord.build(
                type,
                value,
                category,
                chain=chain or None,
                tlp=tlp,
                share_with=[s.strip() for s in share_with.split(",") if s.strip()],
                confidence=confidence,
                description=description,
            )
            added = _service(request).add(who, rec, who.remote)
        except UserError as exc:
            return _list(request, who, error=exc.message)
        return RedirectResponse(f"/ui/intel/{added.id}", status_code=303)

    return guarded_write(request, csrf, build)


@router.post("/ui/intel/import")
async def import_file(
    request: Request,
    csrf: str = Form(""),
    format: str = Form(...),
    tlp: str = Form("amber"),
    file: UploadFile = File(...),
) -> Response:
    data = await file.read(MAX_UPLOAD + 1)

    def build(who: Identity) -> Response:
        from fundtrail.intel.formats import read_file

        if len(data) > MAX_UPLOAD:
            return _list(request, who, error=f"file is over {MAX_UPLOAD // 2**20} MB")
        name = Path(file.filename or "upload").name
        try:
            with tempfile.TemporaryDirectory() as tmp:
                path = Path(tmp) / name
                path.write_bytes(data)
                result = read_file(path, format, tlp=TLP.parse(tlp))
            summary = _service(request).import_records(
                who, result.records, source=f"web upload {name}", remote=who.remote
            )
        except UserError as exc:
            return _list(request, who, error=f"{name}: {exc.message}")
        problems = "; ".join(str(p) for p in result.problems[:5])
        note = f"imported {name}: {summary}" + (f" — skipped: {problems}" if problems else "")
        return _list(request, who, notice=note)

    return guarded_write(request, csrf, build)


@router.get("/ui/intel/{indicator_id}")
def indicator(request: Request, indicator_id: str) -> Response:
    def build(who: Identity) -> Response:
        svc = _service(request)
        rec = svc.get(who, indicator_id, who.remote)
        return page(
            request,
            "indicator.html",
            who=who,
            i=rec,
            sightings=svc.list_sightings(who, indicator_id, who.remote),
        )

    return guarded(request, build)


@router.post("/ui/intel/{indicator_id}/sightings")
def sighting(
    request: Request,
    indicator_id: str,
    csrf: str = Form(""),
    kind: str = Form("seen"),
    where: str = Form(""),
) -> Response:
    def build(who: Identity) -> Response:
        if len(where) > 500:
            raise InvalidInputError("where is longer than 500 characters", field="where")
        _service(request).add_sighting(who, indicator_id, kind=kind, where=where, remote=who.remote)
        return RedirectResponse(f"/ui/intel/{indicator_id}", status_code=303)

    return guarded_write(request, csrf, build)
