"""Fixtures for Bitcoin ingest tests: the bundled real blocks 1..255 and their parsed form."""

from __future__ import annotations

import bz2
from pathlib import Path

import pytest

from fundtrail.chains.bitcoin.blkfile import iter_records


@pytest.fixture
def early_file(test_data: Path) -> Path:
    return test_data / "bitcoin/blocks1-255.dat.bz2"


@pytest.fixture(scope="session")
def early_records() -> bytes:
    path = Path(__file__).resolve().parents[2] / "data/bitcoin/blocks1-255.dat.bz2"
    return bz2.decompress(path.read_bytes())


@pytest.fixture(scope="session")
def early_blocks(early_records: bytes) -> list[bytes]:
    return [rb.data for rb in iter_records(early_records, "blocks1-255.dat")]
