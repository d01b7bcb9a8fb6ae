"""Price files in the exporters' own formats, and exact values at a transfer's time."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from fundtrail.errors import InvalidInputError
from fundtrail.intelstore.db import open_store
from fundtrail.model.assets import asset, native
from fundtrail.prices.book import PriceBook
from fundtrail.prices.formats import DAY, HOUR, read_prices
from fundtrail.prices.service import import_prices

COINGECKO = """snapped_at,price,market_cap,total_volume
2024-03-01 00:00:00 UTC,61234.5,1.2e12,3.4e10
2024-03-02 00:00:00 UTC,62000.125,1.21e12,3.1e10
"""
CMC = """timeOpen;timeClose;timeHigh;timeLow;name;open;high;low;close;volume;marketCap;timestamp
"2024-03-01T00:00:00.000Z";"2024-03-01T23:59:59.999Z";"x";"x";"2781";3400.1;3500;3300;3450.25;1;2;"2024-03-01T23:59:59.999Z"
"""
CDD_HOURLY = """https://www.CryptoDataDownload.com
unix,date,symbol,open,high,low,close,Volume BTC,Volume USD
1709254800000,2024-03-01 01:00:00,BTC/USD,61000,61500,60900,61400.5,10,600000
1709251200000,2024-03-01 00:00:00,BTC/USD,61200,61300,60800,61000,12,700000
"""
YAHOO = """Date,Open,High,Low,Close,Adj Close,Volume
2024-03-01,1.0,1.0,0.99,0.9998,0.9998,100
"""
T_0130 = 1_709_256_600  # 2024-03-01T01:30:00Z


def _write(tmp: Path, name: str, text: str) -> Path:
    p = tmp / name
    p.write_text(text)
    return p


def test_exporters_formats_are_read_exactly(tmp_path: Path) -> None:
    cg = read_prices(_write(tmp_path, "cg.csv", COINGECKO), symbol="btc", currency="usd")
    assert [(r.symbol, r.currency, r.interval, r.price) for r in cg] == [
        ("BTC", "USD", DAY, "61234.5"), ("BTC", "USD", DAY, "62000.125")]  # fmt: skip
    assert cg[0].source == "CoinGecko export"
    (cmc,) = read_prices(_write(tmp_path, "cmc.csv", CMC), symbol="ETH", currency="USD")
    assert (cmc.price, cmc.ts, cmc.source) == ("3450.25", 1_709_251_200, "CoinMarketCap export")
    cdd = read_prices(_write(tmp_path, "cdd.csv", CDD_HOURLY))
    assert {(r.symbol, r.currency, r.interval) for r in cdd} == {("BTC", "USD", HOUR)}
    (yahoo,) = read_prices(_write(tmp_path, "y.csv", YAHOO), symbol="USDT", currency="USD")
    assert yahoo.price == "0.9998"


def test_bad_files_say_what_is_wrong(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="which asset"):
        read_prices(_write(tmp_path, "a.csv", COINGECKO), currency="USD")
    bad = COINGECKO.replace("62000.125", "-3")
    with pytest.raises(InvalidInputError, match="line 3: price '-3' is not a positive price"):
        read_prices(_write(tmp_path, "b.csv", bad), symbol="BTC", currency="USD")
    with pytest.raises(InvalidInputError, match="no header"):
        read_prices(_write(tmp_path, "c.csv", "a,b\n1,2\n"), symbol="BTC", currency="USD")


def test_value_at_the_transfers_time_hour_before_day(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'intel.db'}")
    import_prices(store, _write(tmp_path, "cg.csv", COINGECKO), asset="BTC", currency="USD")
    import_prices(store, _write(tmp_path, "cdd.csv", CDD_HOURLY))
    book = PriceBook(store, "USD")
    btc = native("BTC")
    value, source = book.value(174_653_173, btc, T_0130) or (None, None)
    assert value == Decimal("1.74653173") * Decimal("61400.5")  # the 01:00 hour's close
    assert source == "CryptoDataDownload export"
    assert book.text(100_000_000, btc, T_0130 + DAY) == "≈ 62,000.12 USD (CoinGecko export)"
    assert book.value(1, btc, T_0130 + 3 * DAY) is None  # no price covers it: no value
    assert book.value(10**6, asset("TRX", "USDT"), T_0130) is None  # no USDT prices
