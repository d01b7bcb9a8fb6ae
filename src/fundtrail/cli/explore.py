"""Read commands over the chain store: stats, tx, address; decode needs no store."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from fundtrail.chains.pseudo import describe
from fundtrail.cli.common import HomeOpt, JsonOpt, console, emit, kv_table, table
from fundtrail.model import display
from fundtrail.model.assets import Asset, native, resolve, token

BTC = native("BTC")  # `decode` reads Bitcoin blocks and transactions

ChainOpt = typer.Option("btc", "--chain", "-c", help="Chain: btc (default), eth, bsc, ...")


def _reads(chain: str, home: Path | None) -> tuple[Any, Any]:
    """The chain's store and its ledger adapter, which answers the reads."""
    from fundtrail.chains.ledger import ledger_for
    from fundtrail.chainstore import ChainStore

    store = ChainStore(chain, home)
    return store, ledger_for(store)


# keys of the read functions' answers that hold base units of the chain's native coin
AMOUNT_KEYS = frozenset(
    {"balance", "total_received", "total_sent", "received", "sent", "fee", "value",
     "total_in", "total_out", "amount", "reward", "burnt_fee"}
)  # fmt: skip


def _show(key: str, value: Any, coin: Asset) -> str:
    """For people: amounts in the coin's units, Unix times as UTC ISO 8601 (JSON keeps both
    as integers)."""
    if value is None:
        return ""
    if (key == "time" or key.endswith("_time")) and isinstance(value, int):
        return display.time_utc(value)
    if key in AMOUNT_KEYS and isinstance(value, int) and not isinstance(value, bool):
        return display.amount(value, coin)
    if isinstance(value, dict) and "time" in value:  # {"block", "time"} of account chains
        return f"block {value.get('block')} at {display.time_utc(value['time'])}"
    return str(value)


def _protocol_text(value: dict[str, Any]) -> str:
    """``protocol`` of an answer: one ledger (an address read) or each ledger of a tx."""
    if "label" in value:
        return f"{value['label']}: {value['about']}"
    return "; ".join(f"{a} = {p['label']}" for a, p in value.items())


def _token_cell(item: dict[str, Any], key: str, value: Any, coin: Asset) -> str:
    """A transfer's or token's value in its own asset (the row says which); a protocol
    ledger by its name beside the pseudo-address."""
    if key in ("from", "to") and (ledger := describe(value)) is not None:
        return f"{value} ({ledger.label})"
    if key in ("value", "balance", "received", "sent") and item.get("contract"):
        tok = token(coin.chain, item["contract"], symbol=item.get("symbol"),
                    decimals=item.get("decimals"))  # fmt: skip
        return display.amount(int(value), tok)
    return _show(key, value, coin)


def _render_kv(title: str, chain: str) -> Any:
    def render(data: dict[str, Any]) -> None:
        coin = resolve(data.get("chain") or chain)
        rows = [
            (k, _protocol_text(v) if k == "protocol" else _show(k, v, coin))
            for k, v in data.items()
            if not isinstance(v, list)
        ]
        console.print(kv_table(title, rows))
        for key in ("inputs", "outputs", "transfers", "tokens"):
            items = data.get(key)
            if isinstance(items, list) and items:
                out = table(*items[0], title=key)
                for item in items:
                    out.add_row(*(_token_cell(item, k, v, coin) for k, v in item.items()))
                console.print(out)

    return render


def register(app: typer.Typer) -> None:
    @app.command()
    def stats(chain: str = ChainOpt, as_json: bool = JsonOpt, home: Path | None = HomeOpt) -> None:
        """What the chain store holds: blocks, txs, addresses, height range."""
        store, reads = _reads(chain, home)
        emit(reads.stats(store), as_json, _render_kv(f"{store.chain.name} chain store", chain))

    @app.command()
    def tx(
        txid: str = typer.Argument(..., help="Transaction id (hex)."),
        chain: str = ChainOpt,
        as_json: bool = JsonOpt,
        home: Path | None = HomeOpt,
    ) -> None:
        """One transaction: block, time, fee, inputs and outputs with addresses and values."""
        store, reads = _reads(chain, home)
        emit(reads.tx_summary(store, txid), as_json, _render_kv(f"tx {txid}", chain))

    @app.command()
    def address(
        addr: str = typer.Argument(..., metavar="ADDRESS", help="Address (checksum verified)."),
        chain: str = ChainOpt,
        as_json: bool = JsonOpt,
        home: Path | None = HomeOpt,
    ) -> None:
        """Balance, totals received and sent, tx count, first and last seen (of a protocol
        ledger too: ``burn``, ``tron-dex:3``, ``shielded-pool``)."""
        store, reads = _reads(chain, home)
        reads.address_key(addr)  # a mistyped address is an error before any lookup
        emit(reads.address_summary(store, addr), as_json, _render_kv(f"address {addr}", chain))

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
                f"[bold]block[/bold] {item['hash']} time {display.time_utc(item['time'])} "
                f"txs {item['tx_count']} "
                f"merkle_ok={item['merkle_ok']} pow_ok={item['pow_ok']}"
            )
        for t in txs:
            console.print(f"[bold]tx[/bold] {t['txid']} size {t['size']} vsize {t['vsize']}")
            for i in t["inputs"]:
                src = "coinbase" if i["coinbase"] else f"{i['spent_txid']}:{i['spent_n']}"
                console.print(f"  in  {i['n']}: {src}")
            for o in t["outputs"]:
                console.print(
                    f"  out {o['n']}: {display.amount(o['value'], BTC)} -> {o['address'] or '-'} "
                    f"({o['script_type']})"
                )
