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
from fundtrail.model.assets import Asset, resolve

AssetRef = Asset | str  # an Asset, or what is stored: a key ("TRX/USDT"), a code, a symbol


def _asset(ref: AssetRef, chain: str | None) -> Asset:
    return ref if isinstance(ref, Asset) else resolve(ref, chain)


def units(
    value: int | None, asset: AssetRef, *, chain: str | None = None, group: bool = True
) -> str:
    """``value`` base units as a decimal number in the asset's units, without the symbol
    (for a table column whose header names the unit). Unknown decimals: the base-unit
    integer. ``None`` is shown as ``-``. ``asset`` may be stored text (a key, or a symbol
    with its ``chain``)."""
    if value is None:
        return "-"
    asset = _asset(asset, chain)
    v = int(value)
    if asset.decimals is None:
        text = str(v)
        return _group(text) if group else text
    text = format_units(v, asset.decimals)
    return _group(text) if group else text


def amount(
    value: int | None, asset: AssetRef, *, chain: str | None = None, group: bool = True
) -> str:
    """``value`` base units with the asset's symbol: ``1.74653173 BTC``; a token whose
    decimals are unknown reads ``123456 base units of 0xabcd…1234``."""
    if value is None:
        return "-"
    asset = _asset(asset, chain)
    if asset.decimals is None:
        return f"{units(value, asset, group=group)} base units of {asset.symbol}"
    return f"{units(value, asset, group=group)} {asset.symbol}"


def unit_label(asset: AssetRef, *, chain: str | None = None) -> str:
    """The unit to put in a column header: ``BTC``, ``USDT``, or ``base units``."""
    asset = _asset(asset, chain)
    return asset.symbol if asset.decimals is not None else f"base units of {asset.symbol}"


def time_utc(when: int | float | datetime | str | None) -> str:
    """A time as ``YYYY-MM-DDTHH:MM:SSZ`` (UTC); ``None`` or empty as ``-``.

    Accepts what the system stores: Unix seconds (chain data), an aware ``datetime``
    (intel store; a naive one is taken as UTC, as SQLite returns them) or ISO 8601 text
    (the API's and JSON's form), so every caller shows time one way."""
    if when is None or when == "":
        return "-"
    if isinstance(when, str):
        when = datetime.fromisoformat(when.replace("Z", "+00:00"))
    if isinstance(when, datetime):
        aware = when if when.tzinfo is not None else when.replace(tzinfo=UTC)
        return aware.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return datetime.fromtimestamp(int(when), tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def day_utc(when: int | float | datetime | str | None) -> str:
    """The UTC date of a time (``YYYY-MM-DD``), for tables that list days."""
    text = time_utc(when)
    return text if text == "-" else text[:10]


def _group(text: str) -> str:
    sign = "-" if text.startswith("-") else ""
    body = text.lstrip("-")
    whole, dot, frac = body.partition(".")
    grouped = f"{int(whole):,}" if whole else "0"
    return f"{sign}{grouped}{dot}{frac}"


def amounts(totals: dict[str, int], *, chain: str | None = None) -> str:
    """Per-asset totals (keyed as stored) on one line: ``1.5 BTC, 20 USDT``; none as ``-``."""
    return ", ".join(amount(v, k, chain=chain) for k, v in totals.items()) or "-"
