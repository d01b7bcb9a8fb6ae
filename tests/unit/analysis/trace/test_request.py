"""A trace request is validated once, when it is made: every bad option names its field."""

from __future__ import annotations

import pytest

from fundtrail.analysis.trace.request import TraceRequest
from fundtrail.errors import InvalidInputError

START = "ab" * 32 + ":0"


@pytest.mark.parametrize(
    ("options", "field", "message"),
    [
        ({"direction": "up"}, "direction", "forward or backward"),
        ({"method": "magic"}, "method", "poison, haircut or fifo"),
        ({"hops": -1}, "hops", "between 0 and 50"),
        ({"hops": 51}, "hops", "between 0 and 50"),
        ({"hops": True}, "hops", "whole number"),
        ({"min_share": 1.5}, "min_share", "between 0 and 1"),
        ({"min_amount": -5}, "min_amount", "0 or more"),
        ({"since": "soon"}, "since", "is not a date"),
        ({"since": "2024-02-01", "until": "2024-01-01"}, "since", "after until"),
        ({"amounts": {START: -3}}, "amount", "whole number of base units"),
    ],
)
def test_bad_options_are_refused_with_their_field(
    options: dict[str, object], field: str, message: str
) -> None:
    with pytest.raises(InvalidInputError) as exc:
        TraceRequest.parse("btc", [START], **options)  # type: ignore[arg-type]
    assert exc.value.field == field and message in str(exc.value)


def test_no_start_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="at least one starting point"):
        TraceRequest.parse("btc", ["  "])


def test_dates_floors_and_caps() -> None:
    r = TraceRequest.parse(
        "btc", [f" {START} "], since="2024-01-01", until="1704153600", amounts={START: 450},
        min_share=0.01, min_amount=20,
    )  # fmt: skip
    assert r.starts == (START,) and r.since == 1704067200 and r.until == 1704153600
    assert r.cap(START) == 450 and r.cap("other") is None
    assert r.floor(1000) == 20 and r.floor(100_000) == 1000  # the larger of the two floors
    with pytest.raises(TypeError):
        r.amounts[START] = 1  # type: ignore[index]  # a request cannot be changed later


def test_a_protocol_ledger_as_a_start_says_what_it_is() -> None:
    from fundtrail.analysis.trace.starts import parse_start

    with pytest.raises(InvalidInputError, match=r"TRON built-in exchange #3 \(Bancor pool\)"):
        parse_start("tron-dex:3", "TRX")
    with pytest.raises(InvalidInputError, match="nor a valid address"):
        parse_start("tron-dex3", "TRX")  # a typo is still a typo
