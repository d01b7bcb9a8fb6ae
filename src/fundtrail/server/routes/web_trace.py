"""The trace view: the page, the trace as JSON (what `fundtrail trace --json` prints), SVG."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from fundtrail.chains.reads import chain_stores
from fundtrail.errors import InvalidInputError, UserError
from fundtrail.model.identity import Identity
from fundtrail.web.pages import guarded, home_of, store_of
from fundtrail.web.render import page
from fundtrail.web.session import SignInRequired, check_csrf, identity_of, require_writer

router = APIRouter(include_in_schema=False)
MAX_GRAPH_BODY = 2_100_000


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
        method=form["method"], hops=form["hops"], viewer=who,
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
            raw_url=f"/ui/trace.raw.json?{query}",
            svg_url=f"/ui/trace.svg?{query}",
            graph_id=request.query_params.get("graph", ""),
        )

    return guarded(request, build)


def _api(request: Request) -> tuple[Identity | None, Response | None]:
    try:
        return identity_of(request), None
    except SignInRequired:
        return None, JSONResponse({"error": "AuthenticationError", "message": "sign in first"}, 401)


def _ids(request: Request, key: str) -> frozenset[str]:
    """Box ids from a comma list (the canvas's expanded or collapsed boxes), bounded."""
    raw = request.query_params.get(key, "")
    return frozenset(x for x in raw.split(",")[:200] if x and len(x) <= 80)


def _json(request: Request, body: Any) -> Response:
    who, denied = _api(request)
    if denied or who is None:
        return denied or Response(status_code=401)
    try:
        return JSONResponse(body(who))
    except UserError as exc:
        return JSONResponse(exc.to_dict(), status_code=exc.status_code)


@router.get("/ui/trace.json")
def trace_json(request: Request) -> Response:
    """The canvas: the flow model (as pictures draw it), subtotals, a page of endpoints."""
    from fundtrail.prices.service import book_for
    from fundtrail.web.canvas import canvas_payload

    def body(who: Identity) -> dict[str, Any]:
        page_no = request.query_params.get("page", "1")
        nodes = request.query_params.get("nodes", "24")
        book = book_for(store_of(request))
        return canvas_payload(
            _trace(request, who)["result"],
            expand=_ids(request, "expand"),
            collapse=_ids(request, "collapse"),
            page=int(page_no) if page_no.isdigit() else 1,
            max_nodes=min(int(nodes), 400) if nodes.isdigit() else 24,
            fiat=book.fiat if book else None,
        )

    return _json(request, body)


@router.get("/ui/trace.raw.json")
def trace_raw_json(request: Request) -> Response:
    """The trace as `fundtrail trace --json` prints it (base units), for download."""
    return _json(request, lambda who: _trace(request, who)["result"].to_dict())


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
    from fundtrail.prices.service import book_for

    book = book_for(store_of(request))
    graph = build(result, max_nodes=40, fiat=book.fiat if book else None)
    svg = dot.render(dot.to_dot(graph), "svg")
    return Response(svg, media_type="image/svg+xml")


@router.post("/ui/campaigns/{campaign_id}/graphs")
async def save_graph_ui(request: Request, campaign_id: str) -> Response:
    """The canvas's Save button (session + CSRF header); the API route does the same."""
    from fundtrail.cases.graphs import save_graph

    raw = await request.body()
    if len(raw) > MAX_GRAPH_BODY:
        return JSONResponse({"error": "InvalidInputError", "message": "graph too large",
                             "field": "graph"}, status_code=413)  # fmt: skip

    def body(who: Identity) -> dict[str, Any]:
        check_csrf(request, request.headers.get("x-csrf-token"))
        require_writer(who)
        try:
            data = json.loads(raw)
        except ValueError as exc:
            raise InvalidInputError("body is not JSON", field="graph") from exc
        if not isinstance(data, dict):
            raise InvalidInputError("body must be an object {name, graph}", field="graph")
        return save_graph(store_of(request), campaign_id, str(data.get("name") or ""),
                          data.get("graph") or {}, viewer=who, actor=who)  # fmt: skip

    response = _json(request, body)
    if response.status_code == 200:
        response.status_code = 201
    return response


@router.get("/ui/campaigns/{campaign_id}/graphs")
def list_graphs_ui(request: Request, campaign_id: str) -> Response:
    from fundtrail.cases.graphs import list_graphs

    return _json(request, lambda who: list_graphs(store_of(request), campaign_id,
                                                   viewer=who))  # fmt: skip


@router.get("/ui/campaigns/{campaign_id}/graphs/{graph_id}")
def get_graph_ui(request: Request, campaign_id: str, graph_id: str) -> Response:
    from fundtrail.cases.graphs import get_graph

    return _json(request, lambda who: get_graph(store_of(request), campaign_id, graph_id,
                                                 viewer=who))  # fmt: skip
