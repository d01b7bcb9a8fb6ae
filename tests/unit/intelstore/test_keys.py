"""Key helpers: expiry parsing, roles, and the Authorization header forms."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import pytest

from fundtrail.errors import AuthenticationError, InvalidInputError
from fundtrail.intelstore.keys import parse_expiry
from fundtrail.model.identity import Identity, parse_role
from fundtrail.server.auth import credentials

NOW = datetime(2025, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "delta"),
    [("90d", timedelta(days=90)), ("12h", timedelta(hours=12)), ("30m", timedelta(minutes=30))],
)
def test_durations(text: str, delta: timedelta) -> None:
    assert parse_expiry(text, NOW) == NOW + delta


def test_iso_dates_and_never() -> None:
    assert parse_expiry("2025-06-01", NOW) == datetime(2025, 6, 1, tzinfo=UTC)
    assert parse_expiry(None) is None
    with pytest.raises(InvalidInputError, match="neither a duration"):
        parse_expiry("soon", NOW)


def test_roles_are_ordered() -> None:
    admin = Identity("o", "org", "bank", "admin", "key", key_id="k")
    reader = Identity("o", "org", "bank", "reader", "key", key_id="k")
    assert admin.has_role("analyst") and not reader.has_role("analyst")
    assert parse_role(" Analyst ") == "analyst"
    with pytest.raises(InvalidInputError, match="unknown role"):
        parse_role("root")


def test_authorization_header_forms() -> None:
    assert credentials({"authorization": "Bearer ft_k"}) == ("ft_k", None)
    assert credentials({"authorization": "token ft_k"}) == ("ft_k", None)
    basic = base64.b64encode(b"police:ft_k:with:colons").decode()
    assert credentials({"authorization": f"Basic {basic}"}) == ("ft_k:with:colons", "police")
    for bad in (
        {},
        {"authorization": "Bearer"},
        {"authorization": "Basic %%%"},
        {"authorization": "Basic " + base64.b64encode(b"nopassword").decode()},
    ):
        with pytest.raises(AuthenticationError):
            credentials(bad)
