"""A commit flushes its new part files (and their folders) to disk before the manifest names them."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from test_shared_reads import _blocks

from fundtrail.chainstore import store as store_module
from fundtrail.chainstore.store import MANIFEST, ChainStore


def test_new_parts_and_their_folders_are_fsynced_before_the_manifest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = ChainStore("BTC", tmp_path)
    with store.writer() as w:
        w.commit({"blocks": _blocks([0])})
    synced: list[str] = []
    real = os.fsync

    def recording(fd: int) -> None:
        synced.append(os.readlink(f"/proc/self/fd/{fd}"))
        real(fd)

    monkeypatch.setattr(store_module.os, "fsync", recording)
    with store.writer() as w:
        w.commit({"blocks": _blocks([1])}, meta={"note": "second"})
    store.refresh()
    first, second = (p.resolve() for p in store.parts("blocks"))
    at = {path: i for i, path in enumerate(synced)}
    assert str(second) in at, f"the new part was not flushed: {synced}"
    assert str(first) not in at  # committed before: not flushed again
    assert str(second.parent) in at  # the folder holding its name
    manifest_sync = next(i for i, p in enumerate(synced) if Path(p).name.startswith(f".{MANIFEST}"))
    assert at[str(second)] < manifest_sync and at[str(second.parent)] < manifest_sync
