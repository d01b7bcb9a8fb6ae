"""Templates with autoescaping on (every outside value is text, never markup)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from fundtrail import __version__
from fundtrail.chains.pseudo import describe
from fundtrail.model import display
from fundtrail.model.assets import Asset, resolve, token

TEMPLATES = Jinja2Templates(
    env=jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(Path(__file__).parent / "templates")),
        autoescape=True,
    )
)


def amount(value: Any, asset: Asset | str | None, chain: str | None = None) -> str:
    """``{{ v|amount(asset, chain) }}``: base units in the asset's units with its symbol,
    through the one display layer (``asset`` as stored: a key, a code, or a symbol on
    ``chain``; none means the chain's native coin)."""
    if value is None or value == "":
        return "-"
    return display.amount(int(value), asset or (chain or ""), chain=chain)


def token_asset(
    chain: str, contract: str | None, symbol: str | None, decimals: int | None
) -> Asset:
    """The asset of a transfer row as the chain store describes it (native when no contract)."""
    if not contract:
        return resolve(chain)
    return token(chain, contract, symbol=symbol, decimals=decimals)


TEMPLATES.env.filters["amount"] = amount
TEMPLATES.env.filters["when"] = display.time_utc  # {{ t|when }}: UTC ISO 8601
TEMPLATES.env.filters["day"] = display.day_utc
TEMPLATES.env.globals["token_asset"] = token_asset
TEMPLATES.env.globals["protocol_ledger"] = describe  # pseudo-addresses shown by name


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
