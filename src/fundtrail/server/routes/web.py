"""The web UI's pages: sign-in, home, search, address, tx, cluster evidence, alerts."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import FileResponse, RedirectResponse, Response

from fundtrail.chains.ledger import ledger_for
from fundtrail.chainstore.store import shared_reads
from fundtrail.errors import (
    AuthenticationError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
)
from fundtrail.model.display import time_utc
from fundtrail.model.identity import Identity
from fundtrail.server.auth import add_public_path
from fundtrail.web import views
from fundtrail.web.pages import guarded, home_of, store_of
from fundtrail.web.render import page
from fundtrail.web.session import (
    COOKIE,
    LOGIN_COOKIE,
    MAX_AGE,
    check_csrf,
    check_login,
    login_token,
    sign_in,
    sign_out,
)

router = APIRouter(include_in_schema=False)
for _path in ("/", "/favicon.ico"):
    add_public_path(_path)
add_public_path("/ui/", prefix=True)  # pages check the session cookie themselves
add_public_path("/static/", prefix=True)

STATIC = Path(__file__).resolve().parents[2] / "web" / "static"


def vendor_dirs() -> list[Path]:
    """Where `make setup` put the npm packages (Cytoscape.js): never committed."""
    repo = Path(__file__).resolve().parents[4]
    return [
        repo / "tools" / "node" / "node_modules",
        Path.cwd() / "tools" / "node" / "node_modules",
    ]


@router.get("/")
def root() -> RedirectResponse:
    return RedirectResponse("/ui/", status_code=303)


# the npm files the pages load (tools/node/package.json): Cytoscape.js and its dagre layout
VENDOR = {
    "cytoscape.min.js": ("cytoscape", "dist", "cytoscape.min.js"),
    "dagre.min.js": ("dagre", "dist", "dagre.min.js"),
    "cytoscape-dagre.js": ("cytoscape-dagre", "cytoscape-dagre.js"),
}


@router.get("/static/vendor/{name}")
def vendor_js(name: str) -> Response:
    parts = VENDOR.get(name)
    if parts is None:
        raise NotFoundError("no such file")
    for base in vendor_dirs():
        path = base.joinpath(*parts)
        if path.is_file():
            return FileResponse(path, media_type="text/javascript")
    raise NotFoundError(f"{parts[0]} is not installed: run `make setup`")


@router.get("/static/{name}")
def static(name: str) -> Response:
    path = STATIC / name
    if "/" in name or name.startswith(".") or not path.is_file():
        raise NotFoundError("no such file")
    media = {"css": "text/css", "js": "text/javascript"}.get(name.rsplit(".", 1)[-1])
    return FileResponse(path, media_type=media)


def _login_page(request: Request, next: str, status: int = 200, error: str = "") -> Response:
    cookie, token = login_token(store_of(request))
    response = page(
        request, "login.html", status=status, who=None, next=next, login_token=token,
        error=error or None,
    )  # fmt: skip
    response.set_cookie(
        LOGIN_COOKIE, cookie, max_age=3600, httponly=True, samesite="strict",
        secure=request.url.scheme == "https", path="/ui/login",
    )  # fmt: skip
    return response


def client_address(request: Request) -> str | None:
    """The client's address as the gatekeeper decided it (trusted proxies only)."""
    remote = request.scope.get("state", {}).get("remote")
    return remote if isinstance(remote, str) else None


@router.get("/ui/login")
def login_form(request: Request, next: str = "/ui/") -> Response:
    return _login_page(request, next)


@router.post("/ui/login")
def login(
    request: Request,
    api_key: str = Form(""),
    login_token: str = Form(""),
    next: str = Query("/ui/"),
) -> Response:
    try:
        check_login(request, login_token)  # login CSRF: foreign Origin or no form token
    except PermissionDeniedError as exc:
        return _login_page(request, next, status=403, error=exc.message)
    try:
        token, _who = sign_in(store_of(request), api_key, client_address(request))
    except AuthenticationError as exc:
        return _login_page(request, next, status=401, error=exc.message)
    target = unquote(next)
    response = RedirectResponse(target if target.startswith("/ui/") else "/ui/", status_code=303)
    response.set_cookie(
        COOKIE,
        token,
        max_age=MAX_AGE,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/",
    )
    response.delete_cookie(LOGIN_COOKIE, path="/ui/login")
    return response


@router.post("/ui/logout")
def logout(request: Request, csrf: str = Form("")) -> Response:
    def build(who: Identity) -> Response:
        check_csrf(request, csrf)
        sign_out(
            request, who, client_address(request)
        )  # the session ends server-side: a kept copy of the cookie is dead
        response = RedirectResponse("/ui/login", status_code=303)
        response.delete_cookie(COOKIE, path="/")
        return response

    return guarded(request, build)


@router.get("/ui/")
def home(request: Request) -> Response:
    def build(who: Identity) -> Response:
        from fundtrail.screen.alerts import list_alerts

        store = store_of(request)
        return page(
            request,
            "home.html",
            who=who,
            chains=views.chains_overview(home_of(request)),
            indicators=_count_indicators(request, who),
            campaigns=len(_campaigns(request, who)),
            alerts=len(list_alerts(store, who.org_id)),
        )

    return guarded(request, build)


def _count_indicators(request: Request, who: Identity) -> int:
    from fundtrail.intel.indicators import IndicatorService
    from fundtrail.intelstore.indicators import IndicatorQuery

    return IndicatorService(store_of(request)).count(who, IndicatorQuery())


def _campaigns(request: Request, who: Identity) -> list[dict]:
    from fundtrail.cases.campaigns import list_campaigns

    with store_of(request).read_session() as s:
        return [v.summary() for v in list_campaigns(s, who)]


@router.get("/ui/search")
def search(request: Request, q: str = "") -> Response:
    def build(who: Identity) -> Response:
        try:
            target, results = views.search(home_of(request), store_of(request), who, q)
        except InvalidInputError as exc:
            return page(
                request,
                "search.html",
                status=422,
                who=who,
                q=q,
                results=[],
                error=f"{q!r}: {exc.message}",
            )
        if target:
            return RedirectResponse(target, status_code=303)
        return page(request, "search.html", who=who, q=q, results=results)

    return guarded(request, build)


@router.get("/ui/address/{chain}/{address}")
def address(request: Request, chain: str, address: str) -> Response:
    def build(who: Identity) -> Response:
        home = home_of(request)
        with shared_reads():  # one chain-store connection for the page's several reads
            data = views.address_page(home, chain, address)
            s = data["summary"]
            if "protocol" in data:  # a protocol ledger: its own page, nobody to screen
                seen = [time_utc((s.get(k) or {}).get("time")) for k in ("first_seen", "last_seen")]
                return page(request, "protocol.html", who=who, s=s, p=data["protocol"],
                            recent=data["recent"], first_seen=seen[0],
                            last_seen=seen[1])  # fmt: skip
            verdict = views.screening(store_of(request), home, who, s["chain"], data["normalised"])
        return page(
            request,
            "address.html",
            who=who,
            s=s,
            normalised=data["normalised"],
            cluster=data["cluster"],
            evidence=data["evidence"],
            tags=data["tags"],
            chart=views.timeline_svg(data["timeline"], s["chain"]),
            verdict=verdict,
            indicators=views.indicators_mentioning(store_of(request), who, data["normalised"]),
            first_seen=time_utc(
                s.get("first_seen_time") or (s.get("first_seen") or {}).get("time")
            ),
            last_seen=time_utc(s.get("last_seen_time") or (s.get("last_seen") or {}).get("time")),
        )

    return guarded(request, build)


@router.get("/ui/tx/{chain}/{txid}")
def tx(request: Request, chain: str, txid: str) -> Response:
    def build(who: Identity) -> Response:
        from fundtrail.chainstore.store import ChainStore

        store = ChainStore(chain, home_of(request))
        data = ledger_for(store).tx_summary(store, txid)
        return page(
            request,
            "tx.html",
            who=who,
            tx=data,
            chain=store.chain.code,
            when=time_utc(data.get("time")),
        )

    return guarded(request, build)


@router.get("/ui/why")
def why(request: Request, chain: str, a: str, b: str) -> Response:
    def build(who: Identity) -> Response:
        from fundtrail.analysis.cluster.query import why as explain
        from fundtrail.chainstore.store import ChainStore

        result = explain(ChainStore(chain, home_of(request)), a, b)
        return page(request, "why.html", who=who, w=result)

    return guarded(request, build)


@router.get("/ui/alerts")
def alerts(request: Request) -> Response:
    def build(who: Identity) -> Response:
        from fundtrail.screen.alerts import list_alerts

        return page(
            request, "alerts.html", who=who, alerts=list_alerts(store_of(request), who.org_id)
        )

    return guarded(request, build)
