"""`fundtrail audit verify|checkpoint`: is the audit log's keyed chain intact? Pin it."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from fundtrail.cli.common import JsonOpt, console, emit


def register(app: typer.Typer) -> None:
    audit_app = typer.Typer(help="The tamper-evident audit log.", no_args_is_help=True)

    @audit_app.command("verify")
    def verify(
        checkpoints: list[Path] = typer.Option(
            [],
            "--checkpoint",
            help="A file of signed checkpoints (from `audit checkpoint`) to check the log "
            "against; repeatable. The workspace's own checkpoint file is always read.",
        ),
        as_json: bool = JsonOpt,
    ) -> None:
        """Recompute the keyed chain; exit 1 and name the rows if any was changed, deleted,
        cut from the end or no longer matches a checkpoint."""
        from fundtrail.intelstore.audit import verify as verify_log
        from fundtrail.intelstore.db import open_store

        result = verify_log(open_store(), checkpoints)
        data = {"ok": result.ok, "rows": result.rows, "problems": result.problems}

        def render(d: dict) -> None:
            if d["ok"]:
                console.print(f"[green]audit log intact[/green]: {d['rows']} rows, chain verified")
            for p in d["problems"]:
                console.print(f"[red]TAMPERED[/red] {p}")

        emit(data, as_json, render)
        if not result.ok:
            raise typer.Exit(1)

    @audit_app.command("checkpoint")
    def checkpoint(
        out: Path | None = typer.Option(
            None,
            "--out",
            help="Append the checkpoint to this file (default: audit-checkpoints.jsonl in "
            "the workspace); give partners the printed line too.",
        ),
        as_json: bool = JsonOpt,
    ) -> None:
        """Sign the newest audit row (Ed25519, key derived from the workspace's secret key):
        a later `audit verify` fails if the log no longer holds it."""
        from fundtrail.intelstore.audit import checkpoint as make
        from fundtrail.intelstore.audit import checkpoint_file
        from fundtrail.intelstore.db import open_store

        store = open_store()
        cp = make(store, out)
        where = out or checkpoint_file(store)

        def render(d: dict) -> None:
            console.print(
                f"checkpoint: row {d['id']} of {d['rows']} signed by key {d['key'][:16]}..., "
                f"appended to {where}"
            )
            typer.echo(json.dumps(d, sort_keys=True))

        emit(cp, as_json, render)

    app.add_typer(audit_app, name="audit")
