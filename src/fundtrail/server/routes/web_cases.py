"""Campaign pages: list, one campaign (victims per the viewer's rights), the case file."""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import date
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import FileResponse, Response

from fundtrail.errors import NotFoundError
from fundtrail.model.assets import resolve
from fundtrail.model.display import day_utc
from fundtrail.model.identity import Identity
from fundtrail.pictures.charts import DayBar, bar_chart_svg
from fundtrail.web.pages import guarded, guarded_write, home_of, store_of
from fundtrail.web.render import page as page_  # `page` is the victims' page number here

router = APIRouter(include_in_schema=False)


def _campaign(request: Request, who: Identity, campaign_id: str) -> dict[str, Any]:
    from fundtrail.cases.campaigns import get_campaign

    with store_of(request).read_session() as s:
        return dict(get_campaign(s, campaign_id, who).to_dict())


def _reports_dir(request: Request, campaign_id: str) -> Path:
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", campaign_id)
    return home_of(request) / "reports" / safe


@router.get("/ui/campaigns")
def campaigns(request: Request, kind: str = "", status: str = "", page: int = 1) -> Response:
    """Every campaign the viewer may see with its kind, status and loss; filter and page."""

    def build(who: Identity) -> Response:
        from fundtrail.cases.campaigns import list_campaigns
        from fundtrail.web.campaign_view import PER_PAGE, campaign_kinds

        with store_of(request).read_session() as s:
            rows = [v.summary() for v in list_campaigns(s, who)]
        for r, k in zip(rows, campaign_kinds(home_of(request), rows), strict=True):
            r["kind"] = k
        kinds = sorted({r["kind"] for r in rows})
        statuses = sorted({r["status"] for r in rows})
        shown = [r for r in rows if (not kind or r["kind"] == kind)
                 and (not status or r["status"] == status)]  # fmt: skip
        shown.sort(key=lambda r: r["last_seen"] or "", reverse=True)
        pages = max(1, -(-len(shown) // PER_PAGE))
        at = min(max(1, page), pages)
        return page_(
            request, "campaigns.html", who=who,
            campaigns=shown[(at - 1) * PER_PAGE : at * PER_PAGE], total=len(shown),
            kinds=kinds, statuses=statuses, kind=kind, status_filter=status, page=at, pages=pages,
        )  # fmt: skip

    return guarded(request, build)


def _payments_chart(c: dict[str, Any]) -> str:
    """Victims' payments per day, one chart per asset (amounts in that asset's units)."""
    per: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for p in c.get("payments", []):
        day = day_utc(p.get("paid_at") or p.get("reported_at"))
        if day != "-":
            per[(p["chain"], p["asset"])][day] += int(p.get("amount") or 0)
    return "".join(
        bar_chart_svg(
            [DayBar(date.fromisoformat(d), v) for d, v in sorted(days.items())],
            resolve(asset, chain),
            title=f"Victims' payments per day ({resolve(asset, chain).symbol})",
            up_label="paid",
        )
        for (chain, asset), days in sorted(per.items())
    )


@router.get("/ui/campaigns/{campaign_id}")
def campaign(
    request: Request,
    campaign_id: str,
    notice: str = "",
    page: int = 1,
    sort: str = "paid",
    order: str = "asc",
) -> Response:
    def build(who: Identity) -> Response:
        from fundtrail.cases.casefiles import listing, readable_versions
        from fundtrail.web.campaign_view import (
            campaign_kind,
            exchange_rows,
            loss_fiat,
            victims_page,
        )

        c = _campaign(request, who, campaign_id)
        asked = _requests(request, who, c)
        with store_of(request).read_session() as s:
            readable = readable_versions(s, who, c["id"], _reports_dir(request, c["id"]))
        newest = readable[-1] if readable else None
        files = listing(newest) if newest else []
        first = next(iter(c.get("payments", [])), None)
        start = (
            f"{first['txid']}:{first['vout']}" if first and first.get("vout") is not None else ""
        )
        return page_(
            request,
            "campaign.html",
            who=who,
            c=c,
            kind=campaign_kind(home_of(request), c),
            exchanges=exchange_rows(c, asked["frozen_deposits"]),
            asked=asked,
            victims=victims_page(c, page, sort, order == "desc"),
            loss_fiat=loss_fiat(store_of(request), c),
            files=files,
            version=newest.name if newest else None,
            versions=[v.name for v in reversed(readable)],
            notice=notice,
            chart=_payments_chart(c),
            first_start=start or (first or {}).get("txid", ""),
            flow_svg=bool(c.get("cashouts")),
        )

    return guarded(request, build)


def _requests(request: Request, who: Identity, c: dict[str, Any]) -> dict[str, Any]:
    """What the viewer asked exchanges for this campaign, and who it may ask."""
    import sqlalchemy as sa

    from fundtrail.cases.requests.service import campaign_requests, may_request
    from fundtrail.intelstore.models import Org

    with store_of(request).read_session() as s:
        out = campaign_requests(s, who, c["id"], c.get("total_loss") or {})
        orgs = [o.name for o in s.scalars(sa.select(Org).order_by(Org.name))
                if o.id != who.org_id]  # fmt: skip
    return out | {"may_request": may_request(who) and who.has_role("analyst"), "orgs": orgs}


@router.post("/ui/campaigns/{campaign_id}/report")
def write_report(
    request: Request, campaign_id: str, csrf: str = Form(""), tlp: str = Form("amber")
) -> Response:
    def build(who: Identity) -> Response:
        from fundtrail.cases.casefile import write_campaign_report

        c = _campaign(request, who, campaign_id)
        files = write_campaign_report(
            store_of(request),
            c["id"],
            _reports_dir(request, c["id"]),
            tlp=tlp,
            viewer=who,
            requester=who.org_name,
            home=home_of(request),
            actor=who,
        )
        folder = files[0].parent.name if files else "?"
        return campaign(request, c["id"], notice=f"wrote {len(files)} files as version {folder}")

    return guarded_write(request, csrf, build)


@router.post("/ui/campaigns/{campaign_id}/share")
def share(
    request: Request, campaign_id: str, csrf: str = Form(""), orgs: str = Form("")
) -> Response:
    """Put orgs on the case (the caller's org leads it) and share the campaign's addresses
    with everyone on it (``fundtrail campaign share`` from the web)."""

    def build(who: Identity) -> Response:
        from fundtrail.cases.sharing import share_campaign

        c = _campaign(request, who, campaign_id)
        names = [n.strip() for n in orgs.replace(";", ",").split(",") if n.strip()]
        rep = share_campaign(store_of(request), c["id"], names, who=who, owner=who.org_name,
                             home=home_of(request), remote=who.remote)  # fmt: skip
        return campaign(request, c["id"], notice=rep.summary().replace("\n", "; "))

    return guarded_write(request, csrf, build)


@router.get("/ui/campaigns/{campaign_id}/files/{name}")
def report_file(request: Request, campaign_id: str, name: str, version: str = "") -> Response:
    def build(who: Identity) -> Response:
        from fundtrail.cases.casefiles import open_case_file

        c = _campaign(request, who, campaign_id)  # 404 unless the viewer may see the campaign
        root = _reports_dir(request, c["id"])
        path = open_case_file(store_of(request), who, c["id"], root, name, version)
        return FileResponse(path, filename=name)

    return guarded(request, build)


@router.get("/ui/campaigns/{campaign_id}/flow.svg")
def flow_svg(request: Request, campaign_id: str) -> Response:
    def build(who: Identity) -> Response:
        from fundtrail.analysis.trace.request import TraceRequest
        from fundtrail.analysis.trace.service import trace
        from fundtrail.cases.campaigns import get_campaign
        from fundtrail.cases.tracing import start_of
        from fundtrail.pictures import dot
        from fundtrail.pictures.flowgraph import build

        with store_of(request).read_session() as s:
            view = get_campaign(s, campaign_id, who)
        by_chain: dict[str, list[str]] = defaultdict(list)
        for c in view.complaints:
            by_chain[c.chain].append(start_of(c.txid, c.vout))
        if not by_chain:
            raise NotFoundError("campaign has no payments to trace")
        chain, starts = max(by_chain.items(), key=lambda kv: len(kv[1]))
        from fundtrail.prices.service import book_for

        req = TraceRequest.parse(chain, starts, viewer=who)
        result = trace(req, home=home_of(request))
        book = book_for(store_of(request))
        graph = build(result, max_nodes=24, squash_chains=True, fiat=book.fiat if book else None)
        svg = dot.render(dot.to_dot(graph), "svg")
        return Response(svg, media_type="image/svg+xml")

    return guarded(request, build)
