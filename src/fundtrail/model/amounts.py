"""Exact integer amounts in base units (satoshi, wei, token units). Never floats."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Context, InvalidOperation

from fundtrail.errors import InvalidInputError

_EXACT = Context(prec=200)  # wide enough for any 256-bit amount at any scale


@dataclass(frozen=True, slots=True)
class Amount:
    value: int  # base units
    asset: str  # "BTC", "ETH", or a token symbol / contract
    decimals: int

    def __post_init__(self) -> None:
        if not isinstance(self.value, int) or isinstance(self.value, bool):
            raise InvalidInputError(
                "amount must be an integer number of base units", field="amount"
            )

    def display(self) -> str:
        return f"{format_units(self.value, self.decimals)} {self.asset}"


def parse_amount(text: str | int, *, field: str = "amount") -> int:
    """Parse a base-unit amount: a non-negative integer, given as int or decimal digits."""
    if isinstance(text, bool):
        raise InvalidInputError(f"{field} must be an integer in base units", field=field)
    if isinstance(text, int):
        value = text
    else:
        s = str(text).strip()
        if not s.isdigit():
            raise InvalidInputError(
                f"{field} {text!r} is not a whole number of base units (satoshi, wei)", field=field
            )
        value = int(s)
    if value < 0:
        raise InvalidInputError(f"{field} must not be negative", field=field)
    return value


def parse_decimal_amount(text: str, decimals: int, *, field: str = "amount") -> int:
    """Parse a human amount like '0.5' into base units exactly; refuse sub-unit precision."""
    try:
        d = _EXACT.create_decimal(str(text).strip())
    except InvalidOperation:
        raise InvalidInputError(f"{field} {text!r} is not a number", field=field) from None
    if not d.is_finite():
        raise InvalidInputError(f"{field} {text!r} is not a finite number", field=field)
    scaled = d.scaleb(decimals, context=_EXACT)
    if scaled != scaled.to_integral_value(context=_EXACT) or scaled < 0:
        raise InvalidInputError(f"{field} {text!r} has more than {decimals} decimals", field=field)
    return int(scaled)


def format_units(value: int, decimals: int) -> str:
    """Format base units as an exact decimal string (no float rounding)."""
    sign = "-" if value < 0 else ""
    v = abs(value)
    if decimals == 0:
        return f"{sign}{v}"
    whole, frac = divmod(v, 10**decimals)
    frac_s = str(frac).rjust(decimals, "0").rstrip("0")
    return f"{sign}{whole}.{frac_s}" if frac_s else f"{sign}{whole}"
