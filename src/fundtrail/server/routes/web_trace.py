"""The trace view: the page, the trace as JSON (what `fundtrail trace --json` prints), SVG."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from fundtrail.chains.reads import chain_stores
from fundtrail.errors import InvalidInputError, UserError
from fundtrail.model.identity import Identity
from fundtrail.web.pages import guarded, home_of, store_of
from fundtrail.web.render import page
from fundtrail.web.session import SignInRequired, identity_of

router = APIRouter(include_in_schema=False)


def _form(request: Request) -> dict[str, Any]:
    q = request.query_params
    hops = q.get("hops", "5")
    if not hops.isdigit() or not 1 <= int(hops) <= 50:
        raise InvalidInputError("hops must be a whole number from 1 to 50", field="hops")
    return {
        "chain": (q.get("chain") or "BTC").upper(),
        "start": q.get("start", "").strip(),
        "campaign": q.get("campaign", "").strip(),
        "direction": q.get("direction", "forward"),
        "method": q.get("method", "haircut"),
        "hops": int(hops),
    }


def _starts(request: Request, who: Identity, form: dict[str, Any]) -> list[str]:
    if form["campaign"]:
        from fundtrail.cases.campaigns import get_campaign
        from fundtrail.cases.tracing import start_of

        with store_of(request).read_session() as s:
            view = get_campaign(s, form["campaign"], who)
        return [start_of(c.txid, c.vout) for c in view.complaints if c.chain == form["chain"]]
    return [form["start"]]


def _trace(request: Request, who: Identity) -> dict[str, Any]:
    from fundtrail.analysis.trace.request import TraceRequest
    from fundtrail.analysis.trace.service import trace

    form = _form(request)
    req = TraceRequest.parse(
        form["chain"], _starts(request, who, form), direction=form["direction"],
        method=form["method"], hops=form["hops"], viewer=who.org_id,
    )  # fmt: skip
    return {"form": form, "result": trace(req, home=home_of(request))}


@router.get("/ui/trace")
def trace_page(request: Request) -> Response:
    def build(who: Identity) -> Response:
        form = _form(request)
        chains = [s.chain.code for s in chain_stores(home_of(request))] or ["BTC"]
        query = urlencode({k: v for k, v in form.items() if v not in ("", None)})
        return page(
            request,
            "trace.html",
            who=who,
            form=form,
            chains=chains,
            json_url=f"/ui/trace.json?{query}",
            svg_url=f"/ui/trace.svg?{query}",
        )

    return guarded(request, build)


def _api(request: Request) -> tuple[Identity | None, Response | None]:
    try:
        return identity_of(request), None
    except SignInRequired:
        return None, JSONResponse({"error": "AuthenticationError", "message": "sign in first"}, 401)


@router.get("/ui/trace.json")
def trace_json(request: Request) -> Response:
    who, denied = _api(request)
    if denied or who is None:
        return denied or Response(status_code=401)
    try:
        return JSONResponse(_trace(request, who)["result"].to_dict())
    except UserError as exc:
        return JSONResponse(exc.to_dict(), status_code=exc.status_code)


@router.get("/ui/trace.svg")
def trace_svg(request: Request) -> Response:
    who, denied = _api(request)
    if denied or who is None:
        return denied or Response(status_code=401)
    from fundtrail.pictures import dot
    from fundtrail.pictures.flowgraph import build

    try:
        result = _trace(request, who)["result"]
    except UserError as exc:
        return JSONResponse(exc.to_dict(), status_code=exc.status_code)
    svg = dot.render(dot.to_dot(build(result, max_nodes=40)), "svg")
    return Response(svg, media_type="image/svg+xml")
