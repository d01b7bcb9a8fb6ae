"""`fundtrail screen ADDR...`, `screen index build`, `alerts`, webhooks and rules."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer
from rich.markup import escape
from typer.core import TyperGroup

from fundtrail.cli.common import JsonOpt, QuietOpt, console, emit, err_console, table
from fundtrail.model import display
from fundtrail.model.identity import Identity
from fundtrail.workspace import workspace_home


class _DefaultToCheck(TyperGroup):
    """`fundtrail screen ADDR...` means `fundtrail screen check ADDR...`."""

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        if args and args[0] not in self.commands and not args[0].startswith("-"):
            args = ["check", *args]
        return super().resolve_command(ctx, args)


screen_app = typer.Typer(
    cls=_DefaultToCheck, help="Screen addresses against shared intel and on-chain exposure."
)
index_app = typer.Typer(help="The screening index.")
screen_app.add_typer(index_app, name="index")

_RISK_STYLE = {
    "severe": "bold red",
    "high": "red",
    "medium": "yellow",
    "low": "cyan",
    "none": "green",
}


def _org(store: Any, name: str | None) -> Identity:
    """Whose view to answer with; no name = the public view (CLEAR/GREEN only)."""
    if not name:
        return Identity.public()
    from fundtrail.intelstore.orgs import org_identity

    with store.read_session() as s:
        return org_identity(s, name)


def _render(result: dict[str, Any]) -> None:
    for item in result["items"]:
        risk = item["risk"]
        if risk is None:
            console.print(f"[red]{item['address']}[/red]: {item['error']}")
            continue
        style = _RISK_STYLE.get(risk, "")
        console.print(
            f"[bold]{item['address']}[/bold] ({item['chain']}): "
            f"[{style}]{risk.upper()}[/{style}] score {item['score']}"
        )
        for r in item["reasons"]:
            where = (
                f"indirect, {r['share']:.1%} of received value within {r['hops']} hop(s)"
                if r["exposure"] == "indirect"
                else f"same cluster as {r['cluster_members']} reported address(es)"
                if r["kind"] == "cluster"
                else r["kind"]
            )
            src = r["source"]
            who = f"{src['org']} (TLP:{src['tlp'].upper()})" if src["org"] else src["ref"]
            origin = f", from {r['origin']}" if r.get("origin") else ""
            line = f"   - {r['category']}: {src['label']} [{where}{origin}] from {who}"
            console.print(escape(line))
    note = ""
    if result.get("rebuild_pending"):
        note = f" (rebuild pending: {', '.join(result.get('pending', []))} changed since)"
    console.print(f"[dim]index version {result['index_version']}{note}[/dim]")


@screen_app.command("check")
def check(
    addresses: list[str] = typer.Argument(..., help="Addresses to screen."),
    chain: str = typer.Option("BTC", "--chain", help="Chain of the addresses (BTC, ETH, ...)."),
    org: str | None = typer.Option(None, "--org", help="Answer as this organisation sees it."),
    direction: str | None = typer.Option(None, "--direction", help="deposit | withdrawal"),
    as_json: bool = JsonOpt,
) -> None:
    """Risk verdict with reasons for each address (the index is rebuilt first if its
    inputs changed since it was built). Exit code 2 when any address is malformed: each
    is still answered, the bad ones with what is wrong."""
    from fundtrail.intelstore.db import open_store
    from fundtrail.screen.service import screener
    from fundtrail.screen.verdicts import ScreenItem

    store = open_store()
    who = _org(store, org)
    items = [
        ScreenItem.from_dict({"chain": chain, "address": a, "direction": direction})
        for a in addresses
    ]
    live = screener(store, workspace_home())
    moved = live.rebuild_if_stale()
    if moved and not as_json:
        err_console.print(f"[dim]screening index rebuilt first ({', '.join(moved)} changed)[/dim]")
    result = live.screen(items, who) if who.in_org else live.answer(items, who)
    live.close()  # the decisions reach the intel store before the command ends
    emit(result, as_json, _render)
    if any(item.get("error") for item in result["items"]):
        raise typer.Exit(2)  # every address answered, but some could not be screened


@index_app.command("build")
def build(
    hops: int | None = typer.Option(None, "--hops", help="Hops of indirect exposure."),
    force: bool = typer.Option(False, "--force", help="Rebuild even if nothing changed."),
    quiet: bool = QuietOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Build (or refresh) the screening index from clusters, tags and shared intel."""
    from fundtrail.screen.build import build_index

    report = build_index(workspace_home(), hops=hops, force=force, quiet=quiet)
    emit(
        report,
        as_json,
        lambda r: console.print(
            f"screening index {r['version']}: {r['addresses']:,} addresses, "
            f"{r['records']:,} reasons ({'rebuilt' if r['rebuilt'] else 'up to date'}); "
            f"{r['alerts']} new alert(s)"
        ),
    )


@screen_app.command("purge")
def purge(
    days: int | None = typer.Option(None, "--older-than-days", help="Default: the retention."),
) -> None:
    """Delete screening decisions older than the retention period."""
    from fundtrail.intelstore.db import open_store
    from fundtrail.screen.service import purge_decisions
    from fundtrail.settings import get_settings

    n = purge_decisions(open_store(), older_than_days=days or get_settings().screen_retention_days)
    console.print(f"purged {n} screening decision(s)")


@screen_app.command("rules")
def rules(
    org: str = typer.Option(..., "--org"),
    set_file: Path | None = typer.Option(None, "--set", help="JSON file with the rules."),
    as_json: bool = JsonOpt,
) -> None:
    """Show or set an organisation's screening rules."""
    from fundtrail.intelstore.db import open_store
    from fundtrail.screen.service import get_rules, set_rules

    store = open_store()
    org_id = _org(store, org).org_id
    if set_file is not None:
        set_rules(store, org_id, json.loads(set_file.read_text()))
    emit(get_rules(store, org_id).to_dict(), True)


def _alerts_table(rows: list[dict[str, Any]]) -> None:
    out = table(
        "created (UTC)", "chain", "address", "txid", "was", "now", "score", "reason",
        title="Alerts: past deposits now exposed",
    )  # fmt: skip
    for a in rows:
        top = a["reasons"][0] if a["reasons"] else {}
        out.add_row(
            display.time_utc(a["created"]),
            a["chain"],
            a["address"],
            a["txid"] or "",
            a["previous_risk"],
            a["risk"],
            str(a["score"]),
            f"{top.get('category', '')} ({top.get('exposure', '')})",
        )
    console.print(out)


def register(app: typer.Typer) -> None:
    app.add_typer(screen_app, name="screen")

    @app.command("alerts")
    def alerts(
        org: str = typer.Option(..., "--org", help="Organisation whose alerts to list."),
        limit: int = typer.Option(100, "--limit"),
        as_json: bool = JsonOpt,
    ) -> None:
        """Alerts raised on an organisation's past deposits."""
        from fundtrail.intelstore.db import open_store
        from fundtrail.screen.alerts import list_alerts

        store = open_store()
        org_id = _org(store, org).org_id
        emit(list_alerts(store, org_id, limit=limit), as_json, _alerts_table)

    @app.command("webhook")
    def webhook(
        org: str = typer.Option(..., "--org"),
        url: str = typer.Option(..., "--url", help="http(s) URL to POST alerts to."),
        secret: str = typer.Option(..., "--secret", help="Shared secret for the HMAC signature."),
    ) -> None:
        """Register a webhook that receives an organisation's alerts (HMAC-SHA256 signed)."""
        from fundtrail.intelstore.db import open_store
        from fundtrail.screen.alerts import add_webhook

        store = open_store()
        org_id = _org(store, org).org_id
        console.print(f"webhook {add_webhook(store, org_id, url, secret)} registered")
