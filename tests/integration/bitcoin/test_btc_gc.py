"""Ingest pauses the cyclic GC for speed and always gives it back, error or not."""

from __future__ import annotations

import gc
from pathlib import Path

import pytest

from fundtrail.chains.bitcoin.ingest import ingest_paths
from fundtrail.errors import SourceError


def test_gc_is_enabled_again_after_ingest(home: Path, early_file: Path, tmp_path: Path) -> None:
    assert gc.isenabled()
    report = ingest_paths([early_file])
    assert report.blocks_added > 0 and gc.isenabled()
    bad = tmp_path / "bad.dat"
    bad.write_bytes(early_file.read_bytes()[:-50])
    with pytest.raises(SourceError):
        ingest_paths([bad])
    assert gc.isenabled()


def test_gc_left_off_when_the_caller_had_it_off(home: Path, early_file: Path) -> None:
    gc.disable()
    try:
        ingest_paths([early_file])
        assert not gc.isenabled()
    finally:
        gc.enable()
