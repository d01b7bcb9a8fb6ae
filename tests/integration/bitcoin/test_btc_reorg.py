"""Blocks mined on top of the real block 255: spends, fees, Taproot, order, reorgs, crashes."""

from __future__ import annotations

from pathlib import Path

import pytest
from btc_blocks import (
    COIN,
    HAL,
    HAL_TX,
    TIP_255,
    block,
    block_hash,
    p2tr,
    p2wpkh,
    records,
    simple_chain,
    tx,
    txid,
)

from fundtrail.chains.bitcoin.ingest import ingest_paths
from fundtrail.chains.bitcoin.script import classify
from fundtrail.chainstore import ChainStore
from fundtrail.chainstore.utxo_reads import address_summary, stats, tx_summary
from fundtrail.errors import NotFoundError

T0 = 1231800000


def _write(tmp_path: Path, name: str, *blocks: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(records(*blocks))
    return path


@pytest.fixture
def base(home: Path, early_file: Path) -> Path:
    ingest_paths([early_file])
    return home


def _spend_hal_block(prev: str) -> tuple[bytes, str, str]:
    """Hal's 10 BTC -> 9.9 BTC to P2TR (fee 0.1); then that output -> P2WPKH in the same block."""
    spend = tx([(HAL_TX, 0)], [(99 * COIN // 10, p2tr(1))], witness=True)
    chained = tx([(txid(spend), 0)], [(98 * COIN // 10, p2wpkh(2))], witness=True)
    cb = tx([], [(50 * COIN + 2 * COIN // 10, p2wpkh(3))], coinbase_tag=256)
    return block(prev, [cb, spend, chained], time=T0), txid(spend), txid(chained)


def test_spends_resolve_across_and_within_batches(base: Path, tmp_path: Path) -> None:
    raw, spend_id, chained_id = _spend_hal_block(TIP_255)
    report = ingest_paths([_write(tmp_path, "blk00001.dat", raw)])
    assert (report.blocks_added, report.tip_height, report.unresolved_inputs) == (1, 256, 0)
    store = ChainStore("BTC")
    spend = tx_summary(store, spend_id)  # its input lives in an earlier commit (DuckDB join)
    assert spend["fee"] == COIN // 10 and spend["inputs"][0]["address"] == HAL
    taproot = classify(p2tr(1))[1]
    assert taproot is not None and taproot.startswith("bc1p")
    assert spend["outputs"][0]["address"] == taproot
    assert spend["outputs"][0]["script_type"] == "p2tr"
    assert spend["outputs"][0]["spent_by_txid"] == chained_id
    chained = tx_summary(store, chained_id)  # its input is in the same batch (outpoint map)
    assert chained["fee"] == COIN // 10 and chained["inputs"][0]["address"] == taproot
    hal = address_summary(store, HAL)
    assert (hal["balance"], hal["total_sent"], hal["tx_count"]) == (0, 10 * COIN, 2)
    assert address_summary(store, taproot)["balance"] == 0


def test_reorg_to_more_work_and_back_leaves_no_trace(base: Path, tmp_path: Path) -> None:
    store = ChainStore("BTC")
    before = stats(store)
    a1, spend_id, _ = _spend_hal_block(TIP_255)
    a = [a1, *simple_chain(block_hash(a1), 1, tag=1, time=T0 + 600)]
    b = simple_chain(TIP_255, 3, tag=2, time=T0 + 60)
    ingest_paths([_write(tmp_path, "a.dat", *a)])
    store.refresh()
    assert address_summary(store, HAL)["balance"] == 0

    report = ingest_paths([_write(tmp_path, "b.dat", *b)])
    assert (report.reorgs, report.blocks_rolled_back, report.blocks_added) == (1, 2, 3)
    assert report.tip_hash == block_hash(b[-1])
    store.refresh()
    after_b = stats(store)
    assert after_b["blocks"] == before["blocks"] + 3
    assert after_b["addresses"] == before["addresses"] + 3  # none of branch A's are left
    assert after_b["txs"] == before["txs"] + 3
    with pytest.raises(NotFoundError):
        tx_summary(store, spend_id)
    with pytest.raises(NotFoundError):
        address_summary(store, classify(p2tr(1))[1] or "")
    assert address_summary(store, HAL)["balance"] == 10 * COIN  # Hal's coins are back

    # branch A grows to 4 blocks: more work again, and its first blocks come back from the pool
    a_more = simple_chain(block_hash(a[-1]), 2, tag=3, time=T0 + 1200)
    report = ingest_paths([_write(tmp_path, "a2.dat", *a_more)])
    assert (report.reorgs, report.blocks_rolled_back, report.blocks_added) == (1, 3, 4)
    store.refresh()
    assert stats(store)["max_height"] == 259
    assert tx_summary(store, spend_id)["block_height"] == 256
    assert stats(store)["txs"] == before["txs"] + 6
    tx_ids = store.read_table("txs").column("tx_id").to_pylist()
    assert sorted(tx_ids) == list(range(len(tx_ids)))  # still dense after two rollbacks


def test_equal_work_keeps_the_first_branch(base: Path, tmp_path: Path) -> None:
    a = simple_chain(TIP_255, 2, tag=1, time=T0)
    b = simple_chain(TIP_255, 2, tag=2, time=T0 + 60)
    report = ingest_paths([_write(tmp_path, "ab.dat", *a, *b)])
    assert (report.tip_hash, report.reorgs, report.blocks_pending) == (block_hash(a[-1]), 0, 2)


def test_out_of_order_blocks_wait_for_their_parent(base: Path, tmp_path: Path) -> None:
    chain = simple_chain(TIP_255, 4, tag=1, time=T0)
    report = ingest_paths([_write(tmp_path, "rev.dat", *reversed(chain))])
    assert (report.blocks_added, report.tip_hash) == (4, block_hash(chain[-1]))

    later = simple_chain(block_hash(chain[-1]), 2, tag=2, time=T0 + 9000)
    held = ingest_paths([_write(tmp_path, "orphan.dat", later[1])])  # parent not yet known
    assert (held.blocks_added, held.blocks_pending) == (0, 1)
    done = ingest_paths([_write(tmp_path, "parent.dat", later[0])])  # a later run connects it
    assert (done.blocks_added, done.tip_height, done.blocks_pending) == (2, 261, 0)


def test_crash_mid_batch_leaves_the_store_as_before(
    home: Path, early_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = ChainStore("BTC")

    def crash(self: ChainStore, manifest: dict) -> None:
        raise OSError("disk full (simulated crash before the manifest swap)")

    monkeypatch.setattr(ChainStore, "_write_manifest", crash)
    with pytest.raises(OSError, match="simulated crash"):
        ingest_paths([early_file])
    monkeypatch.undo()
    store.refresh()
    assert store.is_empty()
    report = ingest_paths([early_file])  # the rerun does all the work, once
    assert (report.blocks_added, report.txs_added) == (256, 263)
    assert len(list((store.root / "tables" / "txs").glob("*.parquet"))) == 1  # orphans swept


def test_crash_between_rollback_and_new_branch_recovers(
    base: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from fundtrail.chainstore import ChainStoreWriter

    a = simple_chain(TIP_255, 2, tag=1, time=T0)
    b = simple_chain(TIP_255, 3, tag=2, time=T0 + 60)
    ingest_paths([_write(tmp_path, "a.dat", *a)])
    real_commit, calls = ChainStoreWriter.commit, []

    def flaky(self: ChainStoreWriter, *args: object, **kwargs: object) -> int:
        calls.append(1)
        if len(calls) == 2:  # the rollback went through; the branch's commit dies
            raise OSError("power cut (simulated)")
        return real_commit(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(ChainStoreWriter, "commit", flaky)
    with pytest.raises(OSError, match="power cut"):
        ingest_paths([_write(tmp_path, "b.dat", *b)])
    monkeypatch.undo()
    store = ChainStore("BTC")
    assert stats(store)["max_height"] == 255  # shorter, consistent
    report = ingest_paths([_write(tmp_path, "none.dat", b[0])])  # any run finishes the job
    assert (report.tip_hash, report.tip_height) == (block_hash(b[-1]), 258)
