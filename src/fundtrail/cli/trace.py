"""`fundtrail trace`: follow the money forward or backward from outputs, transfers, addresses."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from fundtrail.analysis.trace.request import DEFAULT_MIN_SHARE
from fundtrail.cli.common import HomeOpt, JsonOpt, console, emit, err_console, table
from fundtrail.errors import InvalidInputError
from fundtrail.model import display


def _render(data: dict[str, Any]) -> None:
    from fundtrail.intelstore.db import open_store
    from fundtrail.prices.service import book_for

    s, chain, shown = data["summary"], data["summary"]["chain"], 20
    book = book_for(open_store())

    def fmt_amount(value: int, asset: str) -> str:
        return display.amount(value, asset, chain=chain)

    console.print(
        f"[bold]{s['method']}[/bold] trace {s['direction']} on {chain} from "
        f"{s['starts']} start(s), {s['txs_visited']} txs visited"
    )
    # txids and times are in --json and --format csv: five columns keep an address whole
    out = table("kind", "amount", "address (cash-out: deposit address)", "entity", "hops",
                *(["value then"] if book else []))  # fmt: skip
    for e in data["endpoints"][:shown]:
        ent = e["entity"]
        out.add_row(
            e["kind"], fmt_amount(e["amount"], e["asset"]),
            e["deposit_address"] or e["address"] or "-",
            f"{ent['label']} ({ent['category']})" if ent else "-", str(e["hops"]),
            *([book.text(e["amount"], e["asset"], e["time"], chain) or "-"] if book else []),
        )  # fmt: skip
    console.print(out)
    if len(data["endpoints"]) > shown:
        console.print(f"... {len(data['endpoints']) - shown} more endpoints (--json shows all)")
    for d in data.get("dispersed", []):
        who = f" at {d['entity']}" if d["entity"] else ""
        console.print(
            f"dispersed below the listing floor: {d['kind']}{who} "
            f"{fmt_amount(d['amount'], d['asset'])} over {d['places']} place(s)"
        )
    for asset, start in s["start_amount"].items():
        parts = ", ".join(f"{k} {fmt_amount(v, asset)}" for k, v in s["totals"][asset].items() if v)
        console.print(f"started with {fmt_amount(start, asset)}: {parts}")


def register(app: typer.Typer) -> None:
    @app.command()
    def trace(
        start: list[str] | None = typer.Option(
            None, "--from", help="TXID:VOUT, TXHASH:LOGINDEX, TXHASH or ADDR (repeatable)."
        ),
        from_complaints: Path | None = typer.Option(
            None, "--from-complaints", help="complaints CSV (chain,txid,vout,amount,...)."
        ),
        chain: str | None = typer.Option(None, "--chain", help="btc, eth, bsc, ..."),
        direction: str = typer.Option("forward", "--direction", help="forward | backward"),
        method: str = typer.Option("haircut", "--method", help="poison | haircut | fifo"),
        hops: int = typer.Option(10, "--hops", help="stop after this many cluster changes"),
        min_share: float = typer.Option(
            DEFAULT_MIN_SHARE,
            "--min-share",
            help="list a place only if it holds this share of the traced amount (rest: dispersed)",
        ),
        min_amount: int = typer.Option(
            0, "--min-amount", help="... or at least this many base units (rest: dispersed)"
        ),
        since: str | None = typer.Option(None, "--since", help="date or unix time"),
        until: str | None = typer.Option(None, "--until", help="date or unix time"),
        fmt: str | None = typer.Option(None, "--format", help="csv | graphml (with -o)"),
        output: Path | None = typer.Option(None, "-o", "--output", help="write --format here"),
        picture: Path | None = typer.Option(None, "--picture", help="money-flow FILE.svg|png"),
        as_json: bool = JsonOpt,
        home: Path | None = HomeOpt,
    ) -> None:
        """Follow the money from starting points to cash-outs (or back to its sources)."""
        from fundtrail.analysis.trace import export
        from fundtrail.analysis.trace.request import TraceRequest
        from fundtrail.analysis.trace.service import read_complaints
        from fundtrail.analysis.trace.service import trace as run_trace

        starts, amounts = list(start or []), None
        if from_complaints is not None:
            chain, more, amounts = read_complaints(from_complaints, chain)
            starts += more
        if not starts:
            raise InvalidInputError("give --from or --from-complaints", field="from")
        request = TraceRequest.parse(
            chain or "btc", starts, direction=direction, method=method, hops=hops,
            min_share=min_share, min_amount=min_amount, since=since, until=until, amounts=amounts,
        )  # fmt: skip
        result = run_trace(request, home=home)
        if fmt is not None:
            text = export.render(result, fmt)
            if output is None:
                typer.echo(text, nl=False)
                return
            output.write_text(text, encoding="utf-8")
            err_console.print(f"wrote {fmt} to {output}")
        if picture is not None:
            from fundtrail.pictures.dot import draw

            draw(result, picture)
            err_console.print(f"wrote money-flow picture to {picture}")
        if fmt is None or as_json:
            emit(result.to_dict(), as_json, _render)
