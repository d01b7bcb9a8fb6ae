from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fundtrail.errors import InvalidInputError
from fundtrail.model.amounts import format_units, parse_amount, parse_decimal_amount


def test_amounts_are_whole_base_units() -> None:
    assert parse_amount("1000000000000000000000") == 10**21
    with pytest.raises(InvalidInputError, match="whole number"):
        parse_amount("1.5")
    with pytest.raises(InvalidInputError, match="negative"):
        parse_amount(-1)


def test_decimal_amounts_convert_exactly_and_refuse_dust_below_one_unit() -> None:
    assert parse_decimal_amount("0.1", 18) == 10**17
    assert parse_decimal_amount("21000000", 8) == 21_000_000 * 10**8
    with pytest.raises(InvalidInputError, match="more than 8 decimals"):
        parse_decimal_amount("0.000000001", 8)


@given(st.integers(min_value=0, max_value=2**256), st.integers(min_value=0, max_value=30))
def test_format_then_parse_round_trips(value: int, decimals: int) -> None:
    assert parse_decimal_amount(format_units(value, decimals), decimals) == value
