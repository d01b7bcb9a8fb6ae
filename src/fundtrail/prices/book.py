"""Imported prices in the intel store, and the value of an amount at a transfer's time.

``PriceBook.value`` is exact decimal arithmetic: base units scaled by the asset's
decimals, times the price of the bucket (hour, else day) holding the transfer's time,
rounded half-even to cents only for display. Where no price covers the time, there is
no value (never the nearest day's). A book is read once per symbol and currency and then
answers from memory (bisect): a page of 50 rows or a picture of 40 boxes costs one query
per asset.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal, localcontext
from typing import Any

import sqlalchemy as sa

from fundtrail.intelstore.db import IntelStore
from fundtrail.intelstore.prices import Price
from fundtrail.model.assets import Asset, resolve
from fundtrail.prices.formats import PriceRow


def store_prices(store: IntelStore, rows: list[PriceRow], actor: Any = None) -> int:
    """Insert or replace ``rows`` (same symbol, currency, bucket); returns how many.

    The import is one audited write (fiat values appear in case files and freeze
    requests, so who loaded which prices from which source is evidence too)."""
    from fundtrail.intelstore import audit

    with store.session() as s:
        for chunk in range(0, len(rows), 5000):
            for r in rows[chunk : chunk + 5000]:
                s.merge(Price(symbol=r.symbol, currency=r.currency, interval=r.interval,
                              ts=r.ts, price=r.price, source=r.source))  # fmt: skip
            s.flush()
        pairs = sorted({f"{r.symbol}/{r.currency}" for r in rows})
        audit.record(s, actor or "cli", "prices.import", "prices", ",".join(pairs)[:200],
                     {"rows": len(rows), "source": rows[0].source if rows else None})  # fmt: skip
    return len(rows)


@dataclass(slots=True)
class _Series:
    ts: list[int]
    ends: list[int]
    price: list[Decimal]
    source: list[str]


@dataclass(slots=True)
class PriceBook:
    """Values in ``currency`` from the prices imported into ``store``."""

    store: IntelStore
    currency: str = "USD"
    _series: dict[str, _Series | None] = field(default_factory=dict)

    def _load(self, symbol: str) -> _Series | None:
        if symbol not in self._series:
            with self.store.read_session() as s:
                rows = s.execute(
                    sa.select(Price.ts, Price.interval, Price.price, Price.source)
                    .where(Price.symbol == symbol, Price.currency == self.currency)
                    .order_by(Price.ts, Price.interval.desc())
                ).all()
            series = _Series([], [], [], [])
            for ts, interval, price, source in rows:  # an hour inside a day overrides it
                series.ts.append(int(ts))
                series.ends.append(int(ts) + int(interval))
                series.price.append(Decimal(price))
                series.source.append(str(source))
            self._series[symbol] = series if rows else None
        return self._series[symbol]

    def value(self, amount: int, asset: Asset, when: int | None) -> tuple[Decimal, str] | None:
        """(value in ``currency``, price source) of ``amount`` base units at ``when``."""
        if when is None or asset.decimals is None:
            return None
        series = self._load(asset.symbol.upper())
        if series is None:
            return None
        i = bisect.bisect_right(series.ts, int(when)) - 1
        while i >= 0 and series.ends[i] <= when:  # the latest bucket that covers `when`
            if series.ts[i] <= when - 86_400:  # no bucket is longer than a day
                return None
            i -= 1
        if i < 0:
            return None
        with localcontext() as ctx:
            ctx.prec = 120
            exact = Decimal(int(amount)).scaleb(-asset.decimals) * series.price[i]
        return exact, series.source[i]

    def text(
        self, amount: int, asset: Asset | str, when: int | None, chain: str | None = None
    ) -> str | None:
        """``≈ 12,345.67 USD (CoinGecko export)`` or None where no price covers ``when``."""
        a = asset if isinstance(asset, Asset) else resolve(asset, chain)
        found = self.value(amount, a, when)
        if found is None:
            return None
        value, source = found
        cents = value.quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN)
        return f"≈ {cents:,} {self.currency} ({source})"

    def total_text(
        self, items: Sequence[tuple[int, Asset | str, int | None]], chain: str | None = None
    ) -> str | None:
        """The summed value of (amount, asset, time) items, each at its own time:
        ``≈ 8,551,234.10 USD (CoinGecko export; 3 without a price)``."""
        total, missing = Decimal(0), 0
        sources: set[str] = set()
        for amount, ref, when in items:
            a = ref if isinstance(ref, Asset) else resolve(ref, chain)
            found = self.value(amount, a, when)
            if found is None:
                missing += 1
                continue
            total += found[0]
            sources.add(found[1])
        if not sources:
            return None
        cents = total.quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN)
        note = "; ".join(sorted(sources)) + (f"; {missing} without a price" if missing else "")
        return f"≈ {cents:,} {self.currency} ({note})"

    def fiat(self, asset: str, chain: str, when: int | None, amount: int) -> str | None:
        """The flow model's callback (:data:`fundtrail.pictures.flowgraph.FiatLookup`)."""
        return self.text(amount, asset, when, chain)

    def has_any(self) -> bool:
        with self.store.read_session() as s:
            return s.execute(sa.select(Price.ts).limit(1)).first() is not None
