"""`fundtrail complaints import`: victims' complaints from CSV into the intel store."""

from __future__ import annotations

from pathlib import Path

import typer

from fundtrail.cli.common import JsonOpt, QuietOpt, console, emit, err_console

complaints_app = typer.Typer(
    help="Victims' complaints: import (each payment checked on the chain; campaigns link).",
    no_args_is_help=True,
)


@complaints_app.command("import")
def import_(
    file: Path = typer.Argument(..., help="CSV with the simulator's complaints.csv columns."),
    map_: str | None = typer.Option(
        None, "--map", help="Rename columns: THEIRS=OURS,... (e.g. name=victim,hash=txid)."
    ),
    org: str | None = typer.Option(None, "--org", help="Reporting organisation."),
    keep_unverified: bool = typer.Option(
        False, "--keep-unverified", help="Store complaints the chain does not confirm, flagged."
    ),
    link: bool = typer.Option(True, "--link/--no-link", help="Re-link campaigns afterwards."),
    as_json: bool = JsonOpt,
    quiet: bool = QuietOpt,
) -> None:
    """Import complaints; bad rows are reported by line and the rest imported."""
    from fundtrail.cases.complaints import parse_mapping
    from fundtrail.cases.service import import_and_link

    data = import_and_link(
        file, mapping=parse_mapping(map_), org=org, keep_unverified=keep_unverified, link=link
    )

    def render(d: dict) -> None:
        for e in d["import"]["errors"]:
            err_console.print(
                f"[yellow]line {e['line']}[/yellow]: {e['field'] or ''}: {e['message']}"
            )
        i = d["import"]
        console.print(
            f"{i['imported']} complaint(s) imported, {i['rejected']} rejected"
            + (f", {i['flagged']} flagged" if i["flagged"] else "")
        )
        if d.get("link") and not quiet:
            lk = d["link"]
            console.print(
                f"{lk['complaints_linked']} complaint(s) in {lk['campaigns']} campaign(s)"
            )
            for note in lk["notes"]:
                err_console.print(note)

    emit(data, as_json, render)
    if data["import"]["imported"] == 0 and data["import"]["rejected"]:
        raise typer.Exit(1)  # asked to import, imported nothing: a failure for scripts


def register(app: typer.Typer) -> None:
    app.add_typer(complaints_app, name="complaints")
