"""`fundtrail ingest ...`: load ledger data into the chain store, one sub-command per family."""

from __future__ import annotations

from pathlib import Path

import typer

from fundtrail.cli.common import HomeOpt, JsonOpt, QuietOpt, console, emit

ingest_app = typer.Typer(help="Load blocks into the chain store (bitcoin files or RPC, evm RPC).")


@ingest_app.command("bitcoin")
def ingest_bitcoin(
    paths: list[Path] = typer.Argument(None, help="blk*.dat files, raw or hex blocks."),
    rpc: str | None = typer.Option(None, "--rpc", help="Bitcoin Core JSON-RPC URL."),
    start: int | None = typer.Option(None, "--start", help="First height to fetch (RPC)."),
    stop: int | None = typer.Option(None, "--stop", help="Last height to fetch (RPC)."),
    user: str | None = typer.Option(None, "--rpc-user", envvar="FUNDTRAIL_RPC_USER"),
    password: str | None = typer.Option(None, "--rpc-password", envvar="FUNDTRAIL_RPC_PASSWORD"),
    cookie: Path | None = typer.Option(None, "--rpc-cookie", help="Bitcoin Core .cookie file."),
    workers: int = typer.Option(
        -1,
        "--workers",
        help="Parser threads, with Parquet writes in the background (default -1: by input "
        "size and cores, inline below 16 MB; 0: all inline, one core).",
    ),
    network: str | None = typer.Option(
        None,
        "--network",
        help="mainnet, testnet, testnet4, signet or regtest (default: the workspace's, else "
        "mainnet; a node's is read from its genesis block). One network per workspace.",
    ),
    quiet: bool = QuietOpt,
    as_json: bool = JsonOpt,
    home: Path | None = HomeOpt,
) -> None:
    """Ingest Bitcoin blocks from files (blk*.dat, raw or hex) or a Bitcoin Core node."""
    import fundtrail.chains.bitcoin.ingest as service
    from fundtrail.errors import InvalidInputError

    if rpc and paths:
        raise InvalidInputError("give block files or --rpc URL, not both", field="paths")
    if not rpc and (start is not None or stop is not None):
        raise InvalidInputError("--start/--stop choose heights to fetch with --rpc", field="start")
    if rpc:
        report = service.ingest_rpc(
            rpc,
            start=start,
            stop=stop,
            home=home,
            quiet=quiet or as_json,
            user=user,
            password=password,
            cookie=cookie,
            network=network,
        )
    elif paths:
        report = service.ingest_paths(
            list(paths), home=home, quiet=quiet or as_json, workers=workers, network=network
        )
    else:
        raise InvalidInputError("give block files to read, or --rpc URL", field="paths")
    if as_json:
        emit(report.to_dict(), True)
    elif not quiet:
        console.print(report.summary())


def register(app: typer.Typer) -> None:
    app.add_typer(ingest_app, name="ingest")
