"""Read commands over the chain store: stats, tx, address; decode needs no store."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from fundtrail.cli.common import HomeOpt, JsonOpt, console, emit, kv_table

ChainOpt = typer.Option("btc", "--chain", "-c", help="Chain: btc (default), eth, bsc, ...")


def _reads(chain: str, home: Path | None) -> tuple[Any, Any]:
    """The chain's store and its ledger adapter, which answers the reads."""
    from fundtrail.chains.ledger import ledger_for
    from fundtrail.chainstore import ChainStore

    store = ChainStore(chain, home)
    return store, ledger_for(store)


def _show(key: str, value: Any) -> str:
    """Unix times as UTC text for people; JSON keeps the integers."""
    if (key == "time" or key.endswith("_time")) and isinstance(value, int):
        stamp = datetime.datetime.fromtimestamp(value, datetime.UTC)
        return stamp.strftime("%Y-%m-%d %H:%M:%S UTC")
    return "" if value is None else str(value)


def _render_kv(title: str) -> Any:
    def render(data: dict[str, Any]) -> None:
        rows = [(k, _show(k, v)) for k, v in data.items() if not isinstance(v, list)]
        console.print(kv_table(title, rows))
        for key in ("inputs", "outputs"):
            items = data.get(key)
            if isinstance(items, list) and items:
                table = Table(title=key, title_justify="left")
                for col in items[0]:
                    table.add_column(col, overflow="fold")
                for item in items:
                    table.add_row(*(_show(k, v) for k, v in item.items()))
                console.print(table)

    return render


def register(app: typer.Typer) -> None:
    @app.command()
    def stats(chain: str = ChainOpt, as_json: bool = JsonOpt, home: Path | None = HomeOpt) -> None:
        """What the chain store holds: blocks, txs, addresses, height range."""
        store, reads = _reads(chain, home)
        emit(reads.stats(store), as_json, _render_kv(f"{store.chain.name} chain store"))

    @app.command()
    def tx(
        txid: str = typer.Argument(..., help="Transaction id (hex)."),
        chain: str = ChainOpt,
        as_json: bool = JsonOpt,
        home: Path | None = HomeOpt,
    ) -> None:
        """One transaction: block, time, fee, inputs and outputs with addresses and values."""
        store, reads = _reads(chain, home)
        emit(reads.tx_summary(store, txid), as_json, _render_kv(f"tx {txid}"))

    @app.command()
    def address(
        addr: str = typer.Argument(..., metavar="ADDRESS", help="Address (checksum verified)."),
        chain: str = ChainOpt,
        as_json: bool = JsonOpt,
        home: Path | None = HomeOpt,
    ) -> None:
        """Balance, totals received and sent, tx count, first and last seen."""
        store, reads = _reads(chain, home)
        reads.parse_address(addr)  # a mistyped address is an error before any lookup
        emit(reads.address_summary(store, addr), as_json, _render_kv(f"address {addr}"))

    @app.command()
    def decode(
        source: str = typer.Argument(..., help="File (raw, hex, blk*.dat) or hex of a block/tx."),
        as_json: bool = JsonOpt,
    ) -> None:
        """Decode a raw Bitcoin block or transaction without touching the store."""
        from fundtrail.chains.bitcoin.decode import decode as run

        data = run(source)
        emit(data, as_json, _render_decoded)


def _render_decoded(data: dict[str, Any]) -> None:
    blocks = data["blocks"] if data["type"] == "blocks" else [data]
    for item in blocks:
        txs = item["txs"] if item["type"] == "block" else [item]
        if item["type"] == "block":
            console.print(
                f"[bold]block[/bold] {item['hash']} time {item['time']} txs {item['tx_count']} "
                f"merkle_ok={item['merkle_ok']} pow_ok={item['pow_ok']}"
            )
        for t in txs:
            console.print(f"[bold]tx[/bold] {t['txid']} size {t['size']} vsize {t['vsize']}")
            for i in t["inputs"]:
                src = "coinbase" if i["coinbase"] else f"{i['spent_txid']}:{i['spent_n']}"
                console.print(f"  in  {i['n']}: {src}")
            for o in t["outputs"]:
                console.print(
                    f"  out {o['n']}: {o['value']} sat -> {o['address'] or '-'} "
                    f"({o['script_type']})"
                )
