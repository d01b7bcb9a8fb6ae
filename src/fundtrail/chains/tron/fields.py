"""How the java-tron HTTP API writes addresses, token ids and amounts, read exactly."""

from __future__ import annotations

from typing import Any

from fundtrail.errors import SourceError
from fundtrail.model.encoding import b58check_encode


def address(hex_or_b58: str | None) -> str | None:
    """Base58check ``T…`` of an address as the API writes it (``41…`` hex, 20-byte hex from
    a log or an EVM-style word, ``0x…``, or base58 already)."""
    if hex_or_b58 is None or hex_or_b58 == "":
        return None
    s = str(hex_or_b58)
    if s.startswith("T") and len(s) == 34:
        return s
    h = s.lower().removeprefix("0x")
    if len(h) == 64:  # a 32-byte log word
        h = h[-40:]
    if len(h) == 40:
        h = "41" + h
    if len(h) != 42 or not h.startswith("41"):
        raise SourceError(f"{s!r} is not a TRON address (21 bytes starting 0x41)")
    try:
        raw = bytes.fromhex(h)
    except ValueError as exc:
        raise SourceError(f"{s!r} is not a TRON address (not hex)") from exc
    return b58check_encode(raw)


def trc10_id(asset_name: str | None) -> str:
    """The TRC-10 token id of ``asset_name`` (hex of the id's digits, or an old token's
    hex name before ids existed: then its name)."""
    if not asset_name:
        return "_"  # TRX itself in a TRC-10 field
    text = str(asset_name)
    if text.isdigit() and len(text) <= 8:
        return text
    try:
        decoded = bytes.fromhex(text).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        return text
    return decoded


def integer(value: Any, what: str) -> int:
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise SourceError(f"{what}: {value!r} is not an integer")
    try:
        out = int(value)
    except ValueError as exc:
        raise SourceError(f"{what}: {value!r} is not an integer") from exc
    if out < 0:
        raise SourceError(f"{what}: negative amount {out}")
    return out
