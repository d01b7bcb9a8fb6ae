"""Templates with autoescaping on (every outside value is text, never markup)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from fundtrail import __version__
from fundtrail.model.amounts import format_units
from fundtrail.model.chains import evm_chain

TEMPLATES = Jinja2Templates(
    env=jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(Path(__file__).parent / "templates")),
        autoescape=True,
    )
)


def units(value: Any, chain: str, decimals: int | None = None, asset: str | None = None) -> str:
    """Exact decimal display of a base-unit integer, with its asset symbol."""
    if value is None:
        return "-"
    c = evm_chain(chain)  # the registry's chain; custom names (tags) read as EVM
    d = c.decimals if decimals is None else decimals
    return f"{format_units(int(value), d)} {asset or c.native_asset}"


TEMPLATES.env.filters["units"] = units


def page(request: Request, name: str, status: int = 200, **ctx: Any) -> HTMLResponse:
    from fundtrail.web.session import SignInRequired, csrf_token, identity_of

    try:
        who = ctx.pop("who", None) or identity_of(request)
        csrf = csrf_token(request)
    except SignInRequired:
        who, csrf = None, ""
    context = {"who": who, "csrf": csrf, "version": __version__, "q": "", **ctx}
    # the Content-Security-Policy is set on every answer by server/headers.py
    return TEMPLATES.TemplateResponse(request, name, context, status_code=status)
