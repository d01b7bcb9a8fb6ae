"""`fundtrail feed pull|publish`: MISP feeds from and to partners."""

from __future__ import annotations

from pathlib import Path

import typer

from fundtrail.cli.common import JsonOpt, console, emit, err_console

feed_app = typer.Typer(
    help="MISP feeds: pull a partner's feed, publish your own.", no_args_is_help=True
)


@feed_app.command("pull")
def pull(
    source: str = typer.Argument(..., help="Feed URL (its manifest.json's folder) or folder."),
    org: str = typer.Option(..., "--org", help="Organisation that will own the indicators."),
    allow_host: list[str] = typer.Option(
        [], "--allow-host", help="Allow this host[:port] even if it is internal (test servers)."
    ),
    tlp: str | None = typer.Option(None, "--tlp", help="At least this TLP for every record."),
    as_json: bool = JsonOpt,
) -> None:
    """Fetch every event of a MISP feed, then store them in one transaction."""
    from fundtrail.intel.misp_feed import import_misp_feed
    from fundtrail.model.tlp import TLP

    out = import_misp_feed(
        source, org=org, allow_hosts=allow_host, tlp=TLP.parse(tlp) if tlp else None
    )

    def render(d: dict) -> None:
        for p in d["problems"]:
            err_console.print(f"[yellow]skipped[/yellow] {p}")
        console.print(
            f"{d['events']} events: {d['added']} indicators added, "
            f"{d['updated']} updated; skipped {sum(d['skipped'].values())}"
        )

    emit(out, as_json, render)


@feed_app.command("publish")
def publish(
    folder: Path = typer.Argument(..., help="Folder to write manifest.json + events into."),
    org: str = typer.Option(..., "--org", help="Publish what this organisation may see."),
    max_tlp: str = typer.Option(
        "green", "--max-tlp", help="Leave out anything stricter (a feed is for sharing)."
    ),
    as_json: bool = JsonOpt,
) -> None:
    """Write a MISP feed folder (one event per TLP level) of what the org may see."""
    from fundtrail.intel.indicators import IndicatorService
    from fundtrail.intel.misp_feed import write_misp_feed
    from fundtrail.intelstore.db import open_store
    from fundtrail.intelstore.orgs import org_identity
    from fundtrail.model.tlp import TLP

    store = open_store()
    with store.session() as s:
        who = org_identity(s, org)
    limit = TLP.parse(max_tlp)
    records = [r for r in IndicatorService(store).export(who) if r.tlp.rank <= limit.rank]
    out = write_misp_feed(records, folder)
    emit(
        out,
        as_json,
        lambda d: console.print(
            f"wrote {d['events']} events with {d['indicators']} indicators to {folder}"
        ),
    )


def register(app: typer.Typer) -> None:
    app.add_typer(feed_app, name="feed")
