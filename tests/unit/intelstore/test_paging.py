"""Page tokens: signed, bound to org and query, refused when forged or replayed elsewhere."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from fundtrail.errors import InvalidInputError
from fundtrail.intelstore.paging import make_token, read_token

SECRET = b"k" * 32
WHEN = datetime(2024, 5, 1, 12, 0, 0, 123456, tzinfo=UTC)


def test_round_trip() -> None:
    token = make_token(SECRET, "org-a", {"q": "scam"}, WHEN, "id-9")
    assert read_token(SECRET, token, "org-a", {"q": "scam"}) == (WHEN, "id-9")


@pytest.mark.parametrize(
    ("secret", "org", "query", "mangle"),
    [
        (SECRET, "org-b", {"q": "scam"}, False),  # another org
        (SECRET, "org-a", {"q": "other"}, False),  # another query
        (b"x" * 32, "org-a", {"q": "scam"}, False),  # another server's secret
        (SECRET, "org-a", {"q": "scam"}, True),  # edited token
    ],
)
def test_refused(secret: bytes, org: str, query: dict[str, str], mangle: bool) -> None:
    token = make_token(SECRET, "org-a", {"q": "scam"}, WHEN, "id-9")
    if mangle:
        body, sig = token.split(".")
        token = body[:-3] + "xyz" + "." + sig
    with pytest.raises(InvalidInputError, match="not valid") as err:
        read_token(secret, token, org, query)
    assert err.value.field == "next"


@pytest.mark.parametrize("junk", ["", "abc", "a.b.c", "!!!.???", "e30.e30"])
def test_junk_is_a_clear_error(junk: str) -> None:
    with pytest.raises(InvalidInputError):
        read_token(SECRET, junk, "org-a", {})
