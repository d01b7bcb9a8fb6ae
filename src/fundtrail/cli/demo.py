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
    """Totals per exchange, then each exchange's largest deposit addresses (what a freeze cites).

    One asset (Bitcoin): the header names the unit. Several (USDT and the TRX a swap turned
    part of it into, on TRON): one row per exchange and asset, each amount with its unit:
    amounts of different assets are never added up."""
    per: dict[tuple[str, str], dict[str, list[int]]] = {}
    chain = {o["asset"]: o["chain"] for o in cashouts}
    for o in cashouts:
        deps = per.setdefault((o["exchange"], o["asset"]), {})
        agg = deps.setdefault(o["deposit_address"] or "?", [0, 0])
        agg[0] += int(o["amount"])
        agg[1] += 1
    totals = {key: sum(a for a, _ in deps.values()) for key, deps in per.items()}
    one = len(chain) <= 1
    first = next(iter(chain), None)
    unit = display.unit_label(resolve(first, chain[first])) if first else "BTC"
    head = f" ({unit})" if one else ""

    def shown(value: int, asset: str) -> str:
        coin = resolve(asset, chain[asset])
        return display.units(value, coin) if one else display.amount(value, coin)

    summary = table(
        "exchange", f"traced to it{head}", "deposit addresses", "payments",
        title="Where the money went: cash-outs per exchange",
    )  # fmt: skip
    detail = table(
        "exchange", "deposit address", f"amount{head}", "payments",
        title=f"Largest deposit addresses per exchange (top {per_exchange})",
    )  # fmt: skip
    by_exchange: dict[str, int] = {}
    for (exchange, _), total in totals.items():  # exchanges in order of their largest total
        by_exchange[exchange] = max(by_exchange.get(exchange, 0), total)
    order = sorted(per, key=lambda k: (-by_exchange[k[0]], k[0], -totals[k], k[1]))
    for exchange, asset in order:
        deps = per[(exchange, asset)]
        summary.add_row(
            exchange,
            shown(totals[(exchange, asset)], asset),
            str(len(deps)),
            str(sum(n for _, n in deps.values())),
        )
    for exchange, asset in order:
        deps = per[(exchange, asset)]
        for deposit, (amount, n) in sorted(deps.items(), key=lambda kv: -kv[1][0])[:per_exchange]:
            detail.add_row(exchange, deposit, shown(amount, asset), str(n))
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
