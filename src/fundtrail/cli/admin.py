"""Workspace housekeeping: init, version."""

from __future__ import annotations

from pathlib import Path

import typer

from fundtrail import __version__
from fundtrail.cli.common import HomeOpt, console
from fundtrail.workspace import workspace_home


def register(app: typer.Typer) -> None:
    @app.command()
    def init(home: Path | None = HomeOpt) -> None:
        """Create the workspace (optional: every command creates it on first use)."""
        path = workspace_home(home)
        console.print(f"workspace ready at [bold]{path.resolve()}[/bold]")

    @app.command()
    def version() -> None:
        """Print fundtrail's version."""
        console.print(__version__)
