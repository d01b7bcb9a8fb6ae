"""What a person sees: amounts in the asset's units, times in UTC ISO 8601.

Every amount shown to a person (CLI tables, web pages, pictures, reports) goes through
``amount`` or ``units``; base units stay in ``--json``, CSV and the API. Formatting is exact
decimal arithmetic on integers: no float ever touches an amount.

>>> from fundtrail.model.assets import asset
>>> amount(174653173, asset("BTC"))
'1.74653173 BTC'
>>> amount(1234500000, asset("TRX", "USDT"))
'1,234.5 USDT'
>>> time_utc(1700000000)
'2023-11-14T22:13:20Z'
"""

from __future__ import annotations

from datetime import UTC, datetime

from fundtrail.model.amounts import format_units
from fundtrail.model.assets import Asset


def units(value: int | None, asset: Asset, *, group: bool = True) -> str:
    """``value`` base units as a decimal number in the asset's units, without the symbol
    (for a table column whose header names the unit). Unknown decimals: the base-unit
    integer. ``None`` is shown as ``-``."""
    if value is None:
        return "-"
    v = int(value)
    if asset.decimals is None:
        text = str(v)
        return _group(text) if group else text
    text = format_units(v, asset.decimals)
    return _group(text) if group else text


def amount(value: int | None, asset: Asset, *, group: bool = True) -> str:
    """``value`` base units with the asset's symbol: ``1.74653173 BTC``; a token whose
    decimals are unknown reads ``123456 base units of 0xabcd…1234``."""
    if value is None:
        return "-"
    if asset.decimals is None:
        return f"{units(value, asset, group=group)} base units of {asset.symbol}"
    return f"{units(value, asset, group=group)} {asset.symbol}"


def unit_label(asset: Asset) -> str:
    """The unit to put in a column header: ``BTC``, ``USDT``, or ``base units``."""
    return asset.symbol if asset.decimals is not None else f"base units of {asset.symbol}"


def time_utc(unix: int | float | None) -> str:
    """Unix seconds as ``YYYY-MM-DDTHH:MM:SSZ`` (UTC); ``None`` as ``-``."""
    if unix is None:
        return "-"
    return datetime.fromtimestamp(int(unix), tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _group(text: str) -> str:
    sign = "-" if text.startswith("-") else ""
    body = text.lstrip("-")
    whole, dot, frac = body.partition(".")
    grouped = f"{int(whole):,}" if whole else "0"
    return f"{sign}{grouped}{dot}{frac}"
