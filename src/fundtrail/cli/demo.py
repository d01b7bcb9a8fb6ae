"""`fundtrail demo`: the whole story on a simulated investment scam, then the server."""

from __future__ import annotations

import os
from pathlib import Path

import typer
from rich.table import Table

from fundtrail.cli.common import console
from fundtrail.model.amounts import format_units


def _cashout_table(cashouts: list[dict], top: int = 12) -> Table:
    """Cash-outs per exchange and deposit address, largest first (what a freeze cites)."""
    per: dict[tuple[str, str], list[int]] = {}
    for o in cashouts:
        agg = per.setdefault((o["exchange"], o["deposit_address"]), [0, 0])
        agg[0] += int(o["amount"])
        agg[1] += 1
    totals: dict[str, int] = {}
    for (exchange, _), (amount, _) in per.items():
        totals[exchange] = totals.get(exchange, 0) + amount
    table = Table(title="Where the money went: cash-outs to request freezes at")
    for col in ("exchange", "exchange total (BTC)", "deposit address", "amount (BTC)", "txs"):
        table.add_column(col)
    rows = sorted(per.items(), key=lambda kv: (-totals[kv[0][0]], -kv[1][0]))
    for (exchange, deposit), (amount, n) in rows[:top]:
        table.add_row(
            exchange, format_units(totals[exchange], 8), deposit, format_units(amount, 8), str(n)
        )
    if len(rows) > top:
        table.caption = f"... and {len(rows) - top} more deposit addresses in the freeze requests"
    return table


def register(app: typer.Typer) -> None:
    @app.command()
    def demo(
        out: Path = typer.Option(
            Path("demo-data"), "--out", help="Folder for the demo (recreated)."
        ),
        txs: int = typer.Option(6000, "--txs", help="Size of the simulated chain."),
        seed: int = typer.Option(7, "--seed"),
        serve: bool = typer.Option(
            os.environ.get("DEMO_SERVE", "1") != "0",
            "--serve/--no-serve",
            help="Start the server at the end (DEMO_SERVE=0 skips it).",
        ),
        port: int = typer.Option(8000, "--port"),
    ) -> None:
        """Simulate an investment scam, then ingest, cluster, link, trace, report, screen, serve."""
        from fundtrail.demo import run_demo

        console.rule("[bold]fundtrail demo: an investment scam, from complaints to freeze requests")
        result = run_demo(
            out,
            txs=txs,
            seed=seed,
            say=lambda name, secs, detail: console.print(
                f"[green]✓[/green] [bold]{name:<10}[/bold] {detail} [dim]({secs:.1f} s)[/dim]"
            ),
        )
        c = result.campaign
        loss = ", ".join(f"{format_units(v, 8)} {a}" for a, v in c["total_loss"].items())
        console.print(
            f"\n[bold]Campaign {c['id']}[/bold]: {c['complaints']} complaints, "
            f"{c['victims']} victims, total loss {loss}"
        )
        console.print(_cashout_table(result.cashouts))
        console.print(
            f"Case file, freeze requests and SHA256SUMS: [bold]{result.report_dir}[/bold]"
        )
        console.print(f"Workspace: {result.home}  (export FUNDTRAIL_HOME={result.home} to explore)")
        if not serve:
            return
        import uvicorn

        console.print(
            f"\n[bold]Web UI[/bold]: http://127.0.0.1:{port}/  — sign in with the police key\n"
            f"  {result.police_key}\n  (exchange analyst key: {result.exchange_key})\n"
            "Ctrl-C stops the server."
        )
        uvicorn.run(
            "fundtrail.server.app:create_app",
            factory=True,
            host="127.0.0.1",
            port=port,
            log_level="warning",
        )
