"""`fundtrail prices import FILE`: daily or hourly prices, so amounts show their fiat value."""

from __future__ import annotations

from pathlib import Path

import typer

from fundtrail.cli.common import JsonOpt, console, emit
from fundtrail.model.display import time_utc

prices_app = typer.Typer(help="Market prices for fiat values beside coin amounts.",
                         no_args_is_help=True)  # fmt: skip


@prices_app.command("import")
def import_(
    file: Path = typer.Argument(
        ...,
        help="CoinGecko, CoinMarketCap, Yahoo, CryptoDataDownload "
        "or time,symbol,currency,price CSV.",
    ),
    asset: str | None = typer.Option(None, "--asset", help="Symbol, if the file does not say."),
    currency: str | None = typer.Option(None, "--currency", help="USD, EUR, ... if not in it."),
    interval: str | None = typer.Option(
        None, "--interval", help="day or hour (default: as spaced)."
    ),
    source: str | None = typer.Option(None, "--source", help="Name of the source to cite."),
    as_json: bool = JsonOpt,
) -> None:
    """Import a price file; amounts then show their value at each transfer's time."""
    from fundtrail.intelstore.db import open_store
    from fundtrail.prices.service import import_prices

    data = import_prices(open_store(), file, asset=asset, currency=currency, interval=interval,
                         source=source)  # fmt: skip
    emit(data, as_json, lambda d: console.print(
        f"{d['rows']:,} {d['interval']}ly prices for {', '.join(d['pairs'])} from "
        f"{time_utc(d['first'])} to {time_utc(d['last'])} ({d['source']})"))  # fmt: skip


def register(app: typer.Typer) -> None:
    app.add_typer(prices_app, name="prices")
