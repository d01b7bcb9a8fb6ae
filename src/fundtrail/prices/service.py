"""`fundtrail prices import` and the book every display asks for fiat values."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fundtrail.intelstore.db import IntelStore
from fundtrail.prices.book import PriceBook, store_prices
from fundtrail.prices.formats import DAY, HOUR, read_prices


def import_prices(
    store: IntelStore,
    path: Path,
    *,
    asset: str | None = None,
    currency: str | None = None,
    interval: str | None = None,
    source: str | None = None,
) -> dict[str, Any]:
    step = {"day": DAY, "hour": HOUR, None: None}.get(interval, -1)
    if step == -1:
        from fundtrail.errors import InvalidInputError

        raise InvalidInputError(f"interval must be day or hour, not {interval!r}", field="interval")
    rows = read_prices(path, symbol=asset, currency=currency, interval=step, source=source)
    n = store_prices(store, rows)
    pairs = sorted({f"{r.symbol}/{r.currency}" for r in rows})
    return {
        "file": str(path),
        "rows": n,
        "pairs": pairs,
        "interval": "hour" if rows[0].interval == HOUR else "day",
        "first": rows[0].ts,
        "last": rows[-1].ts,
        "source": rows[0].source,
    }


def book_for(store: IntelStore, currency: str | None = None) -> PriceBook | None:
    """The price book in the configured currency, or None when no price was imported."""
    from fundtrail.settings import get_settings

    book = PriceBook(store, (currency or get_settings().fiat_currency).upper())
    return book if book.has_any() else None
