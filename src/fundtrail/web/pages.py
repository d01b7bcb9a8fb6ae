"""Helpers every page route shares: sign-in redirects, HTML errors, the store and home."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from fundtrail.errors import UserError
from fundtrail.intelstore.db import IntelStore
from fundtrail.model.identity import Identity
from fundtrail.web.render import page
from fundtrail.web.session import SignInRequired, check_csrf, identity_of, require_writer


def store_of(request: Request) -> IntelStore:
    store: IntelStore = request.app.state.store
    return store


def home_of(request: Request) -> Path:
    return Path(request.app.state.settings.home)


def guarded(
    request: Request,
    build: Callable[[Identity], Response],
    *,
    template_ctx: dict[str, Any] | None = None,
) -> Response:
    """Run a page: not signed in -> sign-in page; a user error -> an HTML error page."""
    try:
        who = identity_of(request)
    except SignInRequired:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/ui/login?next={_safe_next(target)}", status_code=303)
    try:
        return build(who)
    except UserError as exc:
        return error_page(request, who, exc)


def guarded_write(
    request: Request, csrf: str | None, build: Callable[[Identity], Response]
) -> Response:
    """Run a form that writes: the one place a web write is checked for its CSRF token and
    for a writer's role, before ``build`` runs (a reader's or a forged post changes nothing)."""

    def checked(who: Identity) -> Response:
        check_csrf(request, csrf)
        require_writer(who)
        return build(who)

    return guarded(request, checked)


def error_page(request: Request, who: Identity | None, exc: UserError) -> HTMLResponse:
    titles = {404: "Not found", 403: "Not allowed", 401: "Sign in again", 413: "Too large"}
    return page(
        request,
        "error.html",
        status=exc.status_code,
        who=who,
        status_code=exc.status_code,
        title=titles.get(exc.status_code, "Cannot do that"),
        message=exc.message,
    )


def _safe_next(target: str) -> str:
    from urllib.parse import quote

    return quote(target if target.startswith("/ui/") else "/ui/", safe="")
