"""Shared fixtures: an isolated workspace per test, the real-data folder, a real PostgreSQL."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from fundtrail.settings import reset_settings
from fundtrail.testing import postgres_bin, temporary_postgres

ROOT = Path(__file__).resolve().parents[1]
TEST_DATA = Path(__file__).resolve().parent / "data"
SHARED_DATA = Path(os.environ.get("FUNDTRAIL_SHARED_DATA", ROOT.parent / "shared" / "data"))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if SHARED_DATA.is_dir():
        return
    skip = pytest.mark.skip(
        reason=f"real data folder {SHARED_DATA} is absent (fresh clone): realdata tests skipped"
    )
    for item in items:
        if "realdata" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def shared_data() -> Path:
    return SHARED_DATA


@pytest.fixture
def test_data() -> Path:
    return TEST_DATA


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A fresh workspace; FUNDTRAIL_HOME points at it for the test's duration."""
    ws = tmp_path / "ws"
    monkeypatch.setenv("FUNDTRAIL_HOME", str(ws))
    monkeypatch.delenv("FUNDTRAIL_DATABASE_URL", raising=False)
    reset_settings()
    yield ws
    reset_settings()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """A real PostgreSQL server on a free loopback port, in a temp dir; stopped after."""
    if postgres_bin() is None:
        pytest.fail(
            "PostgreSQL is not installed (Debian package 'postgresql'; .ci/run installs it)"
        )
    with temporary_postgres(durable=False) as url:
        yield url


@pytest.fixture
def postgres_url(postgres_server: str) -> Iterator[str]:
    """A fresh, empty database on the session's PostgreSQL server for one test."""
    import sqlalchemy as sa

    name = f"t{int(time.time() * 1e6)}"
    admin = sa.create_engine(postgres_server, isolation_level="AUTOCOMMIT")
    with admin.connect() as con:
        con.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = postgres_server.rsplit("/", 1)[0] + f"/{name}"
    try:
        yield url
    finally:
        with admin.connect() as con:
            con.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
