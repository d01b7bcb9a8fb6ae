"""The README is the user's door: its configuration table and commands stay true."""

from __future__ import annotations

import re
from pathlib import Path

from fundtrail.settings import Settings

README = Path(__file__).resolve().parents[3] / "README.md"


def test_configuration_table_lists_exactly_the_settings() -> None:
    documented = set(re.findall(r"^\| `FUNDTRAIL_([A-Z_]+)` \|", README.read_text(), re.M))
    assert documented == {name.upper() for name in Settings.model_fields}


def test_every_documented_default_is_the_real_default() -> None:
    rows = re.findall(r"^\| `FUNDTRAIL_([A-Z_]+)` \| `([^`]*)` \|", README.read_text(), re.M)
    for name, default in rows:
        assert str(Settings.model_fields[name.lower()].default) == default, name


def test_the_two_commands_are_at_the_top() -> None:
    head = README.read_text()[:1500]
    assert "make demo" in head and "make test" in head
