"""`fundtrail simulate`: write a realistic chain with a crime in it, plus its ground truth."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import typer

from fundtrail.cli.common import JsonOpt, QuietOpt, console, emit, kv_table, progress
from fundtrail.model import display


def register(app: typer.Typer) -> None:
    @app.command()
    def simulate(
        scenario: str = typer.Option(
            ..., "--scenario", help="investment-scam, ransomware or mixed (both)."
        ),
        out: Path = typer.Option(
            ..., "--out", help="Folder for blocks, truth.json, complaints.csv, tags.yaml."
        ),
        seed: int = typer.Option(0, "--seed", help="Same seed, same bytes."),
        txs: int = typer.Option(5000, "--txs", help="About how many transactions to write."),
        chain: str = typer.Option(
            "btc",
            "--chain",
            help="btc (blk*.dat files), evm (ethereum-etl CSV) or tron (node answers).",
        ),
        rpc: str | None = typer.Option(
            None, "--rpc", help="EVM only: also send the scenario to this dev node."
        ),
        style: str = typer.Option(
            "default",
            "--style",
            help="The gangs' and exchanges' habits (every chain), a preset "
            "(single-use-deposits, slow-sweeps, long-peels, coinjoin-heavy, one-exchange, "
            "no-batching, mule-customers, field, ...) and/or knobs key=value, comma-separated.",
        ),
        quiet: bool = QuietOpt,
        as_json: bool = JsonOpt,
    ) -> None:
        """Simulate a scenario on a Bitcoin, EVM or TRON chain, with the truth to score against."""
        from fundtrail.chains.simulate import run
        from fundtrail.chains.simulate.service import check_args

        parsed = check_args(scenario, chain, txs, seed, rpc, style)
        with progress(quiet or as_json) as bar:
            task = bar.add_task("simulating", total=txs, info=f"{scenario} on {chain}")

            def tick(done: int, total: int) -> None:
                bar.update(task, completed=min(done, total))

            summary = run(
                scenario, out, seed=seed, txs=txs, chain=chain, rpc=rpc, quiet=quiet,
                progress=tick, style=parsed,
            )  # fmt: skip
        if quiet and not as_json:
            return
        emit(asdict(summary), as_json, lambda _: _render(summary))


def _render(s: object) -> None:
    from fundtrail.chains.simulate import SimulationSummary

    assert isinstance(s, SimulationSummary)
    rows = [
        ("scenario", f"{s.scenario} (seed {s.seed}, {s.chain})"),
        ("blocks / txs", f"{s.blocks:,} / {s.txs:,}"),
        ("addresses / entities", f"{s.addresses:,} / {s.entities:,}"),
        ("complaints", s.complaints),
        ("cash-outs", s.cashouts),
        ("coinjoins", s.coinjoins),
        ("time", f"{s.seconds} s"),
    ]
    for c in s.campaigns:
        chain = {"evm": "ETH", "tron": "TRX"}.get(s.chain, "BTC")  # EVM: Ethereum's id
        loss = display.amounts(dict(c["total_loss"]), chain=chain)  # type: ignore[call-overload]
        rows.append((str(c["id"]), f"{c['kind']}: {c['victims']} victims, loss {loss}"))
    rows.append(("written", f"{s.out}: " + ", ".join(s.files)))
    console.print(kv_table("simulation", rows))
