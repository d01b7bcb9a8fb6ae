"""`fundtrail entity NAME`: the clusters named NAME, with size, balance and labels."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from fundtrail.cli.common import HomeOpt, JsonOpt, console, emit


def register(app: typer.Typer) -> None:
    @app.command("entity")
    def entity(
        name: str = typer.Argument(..., help="Label or actor (substring, case-insensitive)."),
        chain: str | None = typer.Option(None, "--chain", help="Only this chain."),
        as_json: bool = JsonOpt,
        home: Path | None = HomeOpt,
    ) -> None:
        """Find entities by name across the chains of the workspace."""
        from fundtrail.analysis.attribution.search import find_all_entities

        emit(find_all_entities(name, chain=chain, home=home), as_json, _render)


def _render(rows: list[dict[str, Any]]) -> None:
    if not rows:
        console.print("no entity matches")
    for r in rows:
        flag = " [red](conflicting labels)[/red]" if r["conflict"] else ""
        role = "" if r["is_primary"] else " (secondary label)"
        console.print(
            f"{r['chain']} cluster {r['cluster_id']}: [bold]{r['label']}[/bold]{role} "
            f"[{r['category']}] size {r['size']} balance {r['balance']}{flag}"
        )
