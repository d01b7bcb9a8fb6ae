"""`fundtrail ingest evm`: Ethereum, BNB Smart Chain or any EVM chain, from a node or files."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.progress import TaskID

from fundtrail.cli.common import HomeOpt, JsonOpt, QuietOpt, console, emit, progress


def ingest_evm(
    rpc: str | None = typer.Option(None, "--rpc", help="JSON-RPC URL of an EVM node."),
    files: Path | None = typer.Option(None, "--files", help="Folder of ethereum-etl exports."),
    chain: str = typer.Option("eth", "--chain", help="eth, bsc or a custom EVM chain name."),
    start: int | None = typer.Option(None, "--from", help="First block (default: resume)."),
    stop: int | None = typer.Option(
        None, "--to", help="Last block (default: head - confirmations)."
    ),
    confirmations: int | None = typer.Option(
        None, "--confirmations", help="Blocks kept back from the head (default 12, reorg-safe)."
    ),
    as_json: bool = JsonOpt,
    quiet: bool = QuietOpt,
    home: Path | None = HomeOpt,
) -> None:
    """Ingest EVM blocks: native coin, internal transfers, ERC-20/BEP-20 tokens, gas fees."""
    from fundtrail.chains.evm import ingest as service
    from fundtrail.errors import InvalidInputError

    if (rpc is None) == (files is None):
        raise InvalidInputError("give exactly one of --rpc URL or --files DIR", field="rpc")
    with progress(quiet or as_json) as bar:
        tasks: list[TaskID] = []  # made at the first batch: nothing new shows no bar

        def on_progress(done: int, total: int) -> None:
            if not tasks:
                tasks.append(bar.add_task(f"ingest {chain}", total=total, info="blocks"))
            bar.update(tasks[0], completed=done, total=total, info="blocks")

        if rpc is not None:
            report = service.ingest_rpc(
                rpc, chain=chain, start=start, stop=stop, confirmations=confirmations,
                home=home, on_progress=on_progress,
            )  # fmt: skip
        else:
            assert files is not None
            report = service.ingest_files(files, chain=chain, home=home, on_progress=on_progress)
    if as_json:
        emit(report.as_dict(), True)
    elif not quiet:
        console.print(report.summary())


def register(app: typer.Typer) -> None:
    from fundtrail.cli.ingest import ingest_app

    ingest_app.command("evm")(ingest_evm)
