"""`fundtrail audit verify`: is the audit log's hash chain intact?"""

from __future__ import annotations

import typer

from fundtrail.cli.common import JsonOpt, console, emit


def register(app: typer.Typer) -> None:
    audit_app = typer.Typer(help="The tamper-evident audit log.", no_args_is_help=True)

    @audit_app.command("verify")
    def verify(as_json: bool = JsonOpt) -> None:
        """Recompute the hash chain; exit 1 and name the rows if any was changed or deleted."""
        from fundtrail.intelstore.audit import verify as verify_log
        from fundtrail.intelstore.db import open_store

        result = verify_log(open_store())
        data = {"ok": result.ok, "rows": result.rows, "problems": result.problems}

        def render(d: dict) -> None:
            if d["ok"]:
                console.print(f"[green]audit log intact[/green]: {d['rows']} rows, chain verified")
            for p in d["problems"]:
                console.print(f"[red]TAMPERED[/red] {p}")

        emit(data, as_json, render)
        if not result.ok:
            raise typer.Exit(1)

    app.add_typer(audit_app, name="audit")
