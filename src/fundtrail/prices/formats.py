"""Price CSVs as the common exporters write them, read into exact (symbol, time, price) rows.

Recognised by their header:

- CoinGecko's export: ``snapped_at,price,market_cap,total_volume`` ("2024-03-01 00:00:00 UTC")
- CoinMarketCap's historical data: ``timeOpen;timeClose;...;close;...`` (``;``, ISO times)
- Yahoo Finance: ``Date,Open,High,Low,Close,Adj Close,Volume``
- CryptoDataDownload (daily or hourly): a URL line, then ``unix,date,symbol,open,...,close``
  (``symbol`` like ``BTC/USD``; ``unix`` in seconds or milliseconds)
- a plain ``time,symbol,currency,price`` file (time as ISO 8601 or Unix seconds)

The bucket (day or hour) is the one the file's rows are spaced by; a row's time is the start
of its bucket. Prices are kept as the decimal text the file gave (no float ever), the close
where the file has open/high/low/close.
"""

from __future__ import annotations

import csv
import io
import itertools
import statistics
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path

from fundtrail.errors import InvalidInputError

DAY, HOUR = 86_400, 3_600
MAX_ROWS = 2_000_000
_TIME_COLUMNS = ("unix", "snapped_at", "timeopen", "date", "time", "timestamp", "datetime")


@dataclass(frozen=True, slots=True)
class PriceRow:
    symbol: str
    currency: str
    ts: int  # bucket start, Unix seconds UTC
    interval: int
    price: str  # exact decimal text
    source: str


def read_prices(
    path: Path,
    *,
    symbol: str | None = None,
    currency: str | None = None,
    interval: int | None = None,
    source: str | None = None,
) -> list[PriceRow]:
    """Every price row of ``path``; ``symbol``/``currency`` fill what the file does not say."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInputError(f"{path}: cannot read it as text ({exc})", field="file") from exc
    lines = text.splitlines()
    start = next((i for i, ln in enumerate(lines) if _looks_like_header(ln)), None)
    if start is None:
        raise InvalidInputError(
            f"{path}: no header with a time and a price column (expected CoinGecko, "
            "CoinMarketCap, Yahoo Finance, CryptoDataDownload or time,symbol,currency,price)",
            field="file",
        )
    delimiter = ";" if lines[start].count(";") > lines[start].count(",") else ","
    reader = csv.reader(io.StringIO("\n".join(lines[start:])), delimiter=delimiter)
    header = [h.strip().strip('"').lower() for h in next(reader)]
    kind = _format_name(header)
    t_col = next(c for c in _TIME_COLUMNS if c in header)
    p_col = "price" if "price" in header else "close"
    raw: list[tuple[int, str, str, str]] = []
    for n, row in enumerate(reader, start=start + 2):
        if not row or not any(cell.strip() for cell in row):
            continue
        if len(raw) >= MAX_ROWS:
            raise InvalidInputError(f"{path}: more than {MAX_ROWS:,} rows", field="file")
        cells = dict(zip(header, (c.strip().strip('"') for c in row), strict=False))
        when = _time(cells.get(t_col, ""), path, n, t_col)
        price = _price(cells.get(p_col, ""), path, n, p_col)
        sym, cur = _pair(cells, symbol, currency, path, n)
        raw.append((when, sym, cur, price))
    if not raw:
        raise InvalidInputError(f"{path}: no price rows after the header", field="file")
    step = interval or _spacing([t for t, *_ in raw])
    name = source or kind
    rows = {
        (sym, cur, when - when % step): PriceRow(sym, cur, when - when % step, step, price, name)
        for when, sym, cur, price in raw
    }
    return sorted(rows.values(), key=lambda r: (r.symbol, r.currency, r.ts))


def _looks_like_header(line: str) -> bool:
    cols = [c.strip().strip('"').lower() for c in line.replace(";", ",").split(",")]
    return any(c in cols for c in _TIME_COLUMNS) and ("price" in cols or "close" in cols)


def _format_name(header: list[str]) -> str:
    if "snapped_at" in header:
        return "CoinGecko export"
    if "timeopen" in header:
        return "CoinMarketCap export"
    if "adj close" in header:
        return "Yahoo Finance export"
    if "unix" in header:
        return "CryptoDataDownload export"
    return "price CSV"


def _time(text: str, path: Path, line: int, col: str) -> int:
    s = text.strip()
    if s.isdigit():
        v = int(s)
        return v // 1000 if v > 100_000_000_000 else v  # milliseconds
    s = s.removesuffix(" UTC").replace("Z", "+00:00")
    try:
        when = datetime.fromisoformat(s)
    except ValueError:
        raise InvalidInputError(
            f"{path}, line {line}: {col} {text!r} is not a date, ISO time or Unix time",
            field=col,
        ) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return int(when.timestamp())


def _price(text: str, path: Path, line: int, col: str) -> str:
    try:
        d = Decimal(text.replace(",", "") if text.count(".") == 1 else text)
    except InvalidOperation:
        d = Decimal("NaN")
    if not d.is_finite() or d <= 0:
        raise InvalidInputError(
            f"{path}, line {line}: {col} {text!r} is not a positive price", field=col
        )
    return str(d)


def _pair(
    cells: dict[str, str], symbol: str | None, currency: str | None, path: Path, line: int
) -> tuple[str, str]:
    sym, cur = symbol, currency
    pair = cells.get("symbol") or cells.get("asset") or ""
    if "/" in pair or "-" in pair:
        a, _, b = pair.replace("-", "/").partition("/")
        sym, cur = sym or a, cur or b
    elif pair:
        sym = sym or pair
    cur = cur or cells.get("currency") or None
    if not sym:
        raise InvalidInputError(
            f"{path}, line {line}: the file does not say which asset; give --asset", field="asset"
        )
    if not cur:
        raise InvalidInputError(
            f"{path}, line {line}: the file does not say which currency; give --currency",
            field="currency",
        )
    return sym.strip().upper(), cur.strip().upper()


def _spacing(times: list[int]) -> int:
    ordered = sorted(set(times))
    if len(ordered) < 2:
        return DAY
    gap = statistics.median(b - a for a, b in itertools.pairwise(ordered))
    return HOUR if gap <= 2 * HOUR else DAY
