"""`fundtrail ingest tron`: TRON blocks from a java-tron node's HTTP API."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.progress import TaskID

from fundtrail.cli.common import HomeOpt, JsonOpt, QuietOpt, console, emit, progress


def ingest_tron(
    rpc: str = typer.Option(..., "--rpc", help="HTTP API URL of a java-tron node."),
    start: int | None = typer.Option(None, "--from", help="First block (default: resume)."),
    stop: int | None = typer.Option(None, "--to", help="Last block (default: solidified head)."),
    confirmations: int | None = typer.Option(
        None,
        "--confirmations",
        help="Blocks kept back from the head (default: read solidified blocks only).",
    ),
    api_key: str | None = typer.Option(
        None, "--api-key", envvar="FUNDTRAIL_TRON_API_KEY", help="TRON-PRO-API-KEY header."
    ),
    as_json: bool = JsonOpt,
    quiet: bool = QuietOpt,
    home: Path | None = HomeOpt,
) -> None:
    """Ingest TRON blocks: TRX, TRC-10, TRC-20 (USDT) transfers, internal TRX, fees burned."""
    from fundtrail.chains.tron import ingest as service

    with progress(quiet or as_json) as bar:
        tasks: list[TaskID] = []  # made at the first batch: nothing new shows no bar

        def on_progress(done: int, total: int) -> None:
            if not tasks:
                tasks.append(bar.add_task("ingest tron", total=total, info="blocks"))
            bar.update(tasks[0], completed=done, total=total, info="blocks")

        report = service.ingest_rpc(
            rpc, start=start, stop=stop, confirmations=confirmations, api_key=api_key,
            home=home, on_progress=on_progress,
        )  # fmt: skip
    if as_json:
        emit(report.as_dict(), True)
    elif not quiet:
        console.print(report.summary())


def register(app: typer.Typer) -> None:
    from fundtrail.cli.ingest import ingest_app

    ingest_app.command("tron")(ingest_tron)
