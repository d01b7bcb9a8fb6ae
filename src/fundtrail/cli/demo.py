"""`fundtrail demo`: the whole story on a simulated investment scam, then the server."""

from __future__ import annotations

import os
from pathlib import Path

import typer
from rich.table import Table

from fundtrail.cli.common import console, table
from fundtrail.model import display
from fundtrail.model.assets import resolve


def _cashout_tables(cashouts: list[dict], per_exchange: int = 3) -> list[Table]:
    """Totals per exchange, then each exchange's largest deposit addresses (what a freeze cites)."""
    per: dict[str, dict[str, list[int]]] = {}
    for o in cashouts:
        agg = per.setdefault(o["exchange"], {}).setdefault(o["deposit_address"] or "?", [0, 0])
        agg[0] += int(o["amount"])
        agg[1] += 1
    totals = {ex: sum(a for a, _ in deps.values()) for ex, deps in per.items()}
    coin = resolve(cashouts[0]["asset"], cashouts[0]["chain"]) if cashouts else None
    unit = display.unit_label(coin) if coin else "BTC"
    summary = table(
        "exchange", f"traced to it ({unit})", "deposit addresses", "payments",
        title="Where the money went: cash-outs per exchange",
    )  # fmt: skip
    detail = table(
        "exchange", "deposit address", f"amount ({unit})", "payments",
        title=f"Largest deposit addresses per exchange (top {per_exchange})",
    )  # fmt: skip
    for exchange in sorted(per, key=lambda e: -totals[e]):
        deps = per[exchange]
        summary.add_row(
            exchange,
            display.units(totals[exchange], coin or "BTC"),
            str(len(deps)),
            str(sum(n for _, n in deps.values())),
        )
        for deposit, (amount, n) in sorted(deps.items(), key=lambda kv: -kv[1][0])[:per_exchange]:
            detail.add_row(exchange, deposit, display.units(amount, coin or "BTC"), str(n))
    return [summary, detail]


def register(app: typer.Typer) -> None:
    @app.command()
    def demo(
        out: Path = typer.Option(
            Path("demo-data"), "--out", help="Folder for the demo (recreated)."
        ),
        txs: int = typer.Option(6000, "--txs", help="Size of the simulated chain."),
        seed: int = typer.Option(7, "--seed"),
        chain: str = typer.Option(
            "btc", "--chain", help="btc, or tron (USDT over the java-tron API of a local stub)."
        ),
        serve: bool = typer.Option(
            os.environ.get("DEMO_SERVE", "1") != "0",
            "--serve/--no-serve",
            help="Start the server at the end (DEMO_SERVE=0 skips it).",
        ),
        port: int = typer.Option(8000, "--port"),
    ) -> None:
        """Simulate an investment scam, then ingest, cluster, link, trace, report, screen, serve."""
        from fundtrail.demo import run_demo, shown

        on = " on TRON (USDT)" if chain.lower() == "tron" else ""
        console.rule(
            f"[bold]fundtrail demo: an investment scam{on}, from complaints to freeze requests"
        )
        result = run_demo(
            out,
            txs=txs,
            seed=seed,
            chain=chain.lower(),
            say=lambda name, secs, detail: console.print(
                f"[green]✓[/green] [bold]{name:<10}[/bold] {detail} [dim]({secs:.1f} s)[/dim]"
            ),
        )
        c = result.campaign
        loss = display.amounts(c["total_loss"], chain=(c["chains"] or [None])[0])
        console.print(
            f"\n[bold]Campaign {c['id']}[/bold]: {c['complaints']} complaints, "
            f"{c['victims']} victims, total loss {loss}"
        )
        for t in _cashout_tables(result.cashouts):
            console.print(t)
        console.print(
            f"Case file, freeze requests and SHA256SUMS: [bold]{shown(result.report_dir)}[/bold]"
        )
        home = shown(result.home)
        console.print(f"Workspace: {home}  (export FUNDTRAIL_HOME={home} to explore)")
        if not serve:
            return
        from fundtrail.server.serving import run

        console.print(
            f"\n[bold]Web UI[/bold]: http://127.0.0.1:{port}/  — sign in with the police key\n"
            f"  {result.police_key}\n  (exchange analyst key: {result.exchange_key})\n"
            "Ctrl-C stops the server."
        )
        run("127.0.0.1", port)
