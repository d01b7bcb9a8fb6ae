"""Fixtures of the TAXII tests: a live hub per module, a fresh one per writing test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from taxii_hub import LiveHub, make_live_hub


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveHub]:
    """Shared by the read-only tests of a module."""
    yield from make_live_hub(tmp_path_factory.mktemp("taxii"))


@pytest.fixture
def fresh(tmp_path: Path) -> Iterator[LiveHub]:
    """A hub of its own, for tests that write."""
    yield from make_live_hub(tmp_path)


@pytest.fixture
def live_pg(tmp_path: Path, postgres_url: str) -> Iterator[LiveHub]:
    """The same hub on a real PostgreSQL server."""
    yield from make_live_hub(tmp_path, postgres_url)
