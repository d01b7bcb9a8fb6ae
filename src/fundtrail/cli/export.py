"""`fundtrail export`: derived data out as files (`export clusters`)."""

from __future__ import annotations

from pathlib import Path

import typer

from fundtrail.cli.common import HomeOpt, QuietOpt, err_console

export_app = typer.Typer(help="Export derived data as files.", no_args_is_help=True)


@export_app.command("clusters")
def export_clusters(
    output: Path = typer.Option(..., "-o", "--output", help="CSV file to write."),
    chain: str = typer.Option("BTC", "--chain", help="Chain whose clusters to export."),
    quiet: bool = QuietOpt,
    home: Path | None = HomeOpt,
) -> None:
    """Write address,cluster_id for every address of the chain."""
    from fundtrail.analysis.cluster.export import export_clusters_csv

    rows = export_clusters_csv(chain, output, home=home)
    if not quiet:
        err_console.print(f"wrote {rows} addresses to {output}")


def register(app: typer.Typer) -> None:
    app.add_typer(export_app, name="export")
