"""Ingest through the disk-backed id maps: a crash mid-batch, a lost index, many batches.

The reference is always a clean one-shot ingest of the same blocks into another
workspace: whatever happened in between, the stored tables must be identical.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from fundtrail.chains.bitcoin import ingest as btc
from fundtrail.chains.simulate import run
from fundtrail.chainstore import ChainStore
from fundtrail.chainstore.utxo_reads import stats

TABLES = ("blocks", "txs", "outputs", "inputs", "addresses")


@pytest.fixture(scope="module")
def sim_blocks(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sim")
    run("mixed", out, seed=4, txs=3000)
    return out / "blocks"


@pytest.fixture(scope="module")
def reference(sim_blocks: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("reference")
    btc.ingest_paths([sim_blocks], home=home)
    return home


def assert_same_store(home: Path, reference: Path) -> None:
    for table in TABLES:
        a = ChainStore("BTC", home).read_table(table)
        b = ChainStore("BTC", reference).read_table(table)
        key = [(c, "ascending") for c in a.column_names[:2]]
        assert a.sort_by(key).equals(b.sort_by(key)), table


@pytest.mark.parametrize("workers", [0, 2])
def test_many_small_batches_equal_one(
    sim_blocks: Path,
    reference: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    workers: int,
) -> None:
    """Inputs spending outputs of earlier batches are resolved from the disk maps, also
    while the previous batch is still being written (parser threads, background commit)."""
    monkeypatch.setattr(btc, "BATCH_BYTES", 20_000)
    report = btc.ingest_paths([sim_blocks], home=tmp_path, workers=workers)
    assert report.unresolved_inputs == 0
    assert ChainStore("BTC", tmp_path).version > 10  # really many commits
    assert_same_store(tmp_path, reference)


@pytest.mark.parametrize("workers", [0, 2])
def test_crash_mid_batch_then_rerun(
    sim_blocks: Path,
    reference: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    workers: int,
) -> None:
    """The process dies after a batch wrote its parts and maps but before its manifest
    swap: the store stays at the last commit, and a rerun gives exactly the clean store.
    With workers the swap fails in the committer thread, perhaps while the next batch's
    ids are being assigned: the error still ends the run and nothing later is committed."""
    monkeypatch.setattr(btc, "BATCH_BYTES", 50_000)
    real_write = ChainStore._write_manifest
    calls = {"n": 0}

    def dying_write(self: ChainStore, manifest: dict) -> None:
        calls["n"] += 1
        if calls["n"] == 4:
            raise KeyboardInterrupt("power cut")
        real_write(self, manifest)

    monkeypatch.setattr(ChainStore, "_write_manifest", dying_write)
    with pytest.raises(KeyboardInterrupt):
        btc.ingest_paths([sim_blocks], home=tmp_path, workers=workers)
    store = ChainStore("BTC", tmp_path)
    assert store.version == 3 and calls["n"] == 4
    # the maps hold more than the store committed: the next writer cuts them back
    assert (tmp_path / "chains").exists()
    monkeypatch.setattr(ChainStore, "_write_manifest", real_write)
    btc.ingest_paths([sim_blocks], home=tmp_path)
    assert_same_store(tmp_path, reference)


def test_address_ids_failing_mid_run_then_rerun(
    sim_blocks: Path, reference: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The address ids fail mid-run (a full disk, say) while the parser threads are ahead
    and the last batch is being written: the run raises that error, keeps the batches
    committed before it, and a rerun gives exactly the clean store."""
    from fundtrail.chainstore import AddressBook

    monkeypatch.setattr(btc, "BATCH_BYTES", 50_000)
    real_assign = AddressBook.assign
    calls = {"n": 0}

    def failing_assign(self: AddressBook, *args: object, **kw: object):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 3:
            raise OSError("No space left on device")
        return real_assign(self, *args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(AddressBook, "assign", failing_assign)
    with pytest.raises(OSError, match="No space"):
        btc.ingest_paths([sim_blocks], home=tmp_path, workers=2)
    kept = ChainStore("BTC", tmp_path).row_count("blocks")
    assert 0 < kept < ChainStore("BTC", reference).row_count("blocks")
    monkeypatch.setattr(AddressBook, "assign", real_assign)
    btc.ingest_paths([sim_blocks], home=tmp_path, workers=2)
    assert_same_store(tmp_path, reference)


def test_tiny_windows_give_the_same_store(
    sim_blocks: Path, reference: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The windowed paths a big chain takes (id lookups and inserts, table growth, the
    gathers of spent outputs, all a few rows at a time, from an 8-slot table up, across
    small batches) store exactly what one pass over each batch does."""
    from collections.abc import Iterator

    from fundtrail.chainstore import hashindex, outpoints

    def windows(n: int, bytes_per_row: int, mapped_bytes: int) -> Iterator[tuple[int, int]]:
        for lo in range(0, n, 5):
            yield lo, min(n, lo + 5)

    monkeypatch.setattr(hashindex, "touch_windows", windows)
    monkeypatch.setattr(outpoints, "touch_windows", windows)
    monkeypatch.setattr(hashindex, "MIN_CAPACITY", 8)
    monkeypatch.setattr(btc, "BATCH_BYTES", 100_000)
    report = btc.ingest_paths([sim_blocks], home=tmp_path)
    assert report.unresolved_inputs == 0
    assert_same_store(tmp_path, reference)


def test_lost_index_is_rebuilt_from_the_store(
    sim_blocks: Path, reference: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A store written before the maps existed (or whose maps were deleted) is caught up
    from its tables when the next ingest opens it, with the same ids."""
    blk = sorted(sim_blocks.glob("blk*.dat"))
    assert len(blk) >= 1
    monkeypatch.setattr(btc, "BATCH_BYTES", 200_000)
    first = tmp_path / "first"
    first.mkdir()
    records = blk[0].read_bytes()
    # the first half of the records
    from fundtrail.chains.bitcoin.blkfile import iter_records

    raws = list(iter_records(records, "blk"))
    half = raws[: len(raws) // 2]
    (first / "blk00000.dat").write_bytes(
        b"".join(b"\xf9\xbe\xb4\xd9" + len(r.data).to_bytes(4, "little") + r.data for r in half)
    )
    btc.ingest_paths([first], home=tmp_path)
    shutil.rmtree(ChainStore("BTC", tmp_path).index_dir)
    btc.ingest_paths([sim_blocks], home=tmp_path)
    assert_same_store(tmp_path, reference)
    assert stats(ChainStore("BTC", tmp_path)) == stats(ChainStore("BTC", reference))


@pytest.mark.parametrize("workers", [0, 2])
def test_killed_mid_batch_twice_then_rerun(
    sim_blocks: Path, reference: Path, tmp_path: Path, workers: int
) -> None:
    """A real crash, not an exception: the ingest process is SIGKILLed twice while it
    commits small batches (wherever it happens to be: parsing, writing parts, flushing the
    disk maps, swapping the manifest). Each time the store reads as a whole number of
    commits, and the run after the second kill gives exactly the clean store."""
    import os
    import signal
    import subprocess
    import sys
    import time

    import fundtrail

    src = str(Path(fundtrail.__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": src}
    script = (
        "from fundtrail.chains.bitcoin import ingest as btc\n"
        "btc.BATCH_BYTES = 20_000\n"
        f"btc.ingest_paths([{str(sim_blocks)!r}], home={str(tmp_path)!r}, workers={workers})\n"
    )
    versions = []
    for at_least in (3, 9):
        proc = subprocess.Popen([sys.executable, "-c", script], env=env)
        deadline = time.monotonic() + 300
        while proc.poll() is None and time.monotonic() < deadline:
            if ChainStore("BTC", tmp_path).version >= at_least:
                break
            time.sleep(0.01)
        proc.send_signal(signal.SIGKILL)
        assert proc.wait() == -signal.SIGKILL, "the ingest finished before it could be killed"
        store = ChainStore("BTC", tmp_path)
        heights = store.read_table("blocks", ["height"]).column("height").to_pylist()
        assert sorted(heights) == list(range(len(heights)))  # whole commits, no gaps
        s = stats(store)
        assert s["blocks"] == len(heights) and s["max_height"] == len(heights) - 1
        versions.append(store.version)
    assert versions[0] >= 3 and versions[1] >= 9
    btc.ingest_paths([sim_blocks], home=tmp_path)
    assert_same_store(tmp_path, reference)
