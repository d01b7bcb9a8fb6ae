"""The bulk background generator writes valid blocks that ingest completely."""

from __future__ import annotations

from pathlib import Path

from fundtrail.chains.bitcoin.ingest import ingest_paths
from fundtrail.chains.simulate import run
from fundtrail.chainstore import ChainStore
from fundtrail.chainstore.utxo_reads import stats


def test_background_chain_ingests_with_every_input_resolved(tmp_path: Path) -> None:
    summary = run("background", tmp_path / "sim", seed=2, txs=30_000)
    assert summary.txs >= 30_000 and summary.files == ["blocks/blk00000.dat"]
    again = run("background", tmp_path / "sim2", seed=2, txs=30_000)
    blk = (tmp_path / "sim/blocks/blk00000.dat").read_bytes()
    assert blk == (tmp_path / "sim2/blocks/blk00000.dat").read_bytes()  # same seed, same bytes
    assert again.blocks == summary.blocks
    report = ingest_paths([tmp_path / "sim/blocks"], home=tmp_path / "ws")
    assert report.txs_added == summary.txs + 1  # and the built-in genesis
    assert report.unresolved_inputs == 0
    store = ChainStore("BTC", tmp_path / "ws")
    s = stats(store)
    # nothing is created or lost: the unspent value is exactly every coinbase's subsidy
    # plus fees, which fees the spending txs paid; so unspent = 50 BTC per block
    assert s["unspent_value"] == (summary.blocks + 1) * 50 * 10**8
    con = store.connect()
    try:
        kinds = dict(con.sql("SELECT script_type, count(*) FROM outputs GROUP BY 1").fetchall())
        multi = con.sql("SELECT count(*) FROM txs WHERE n_inputs > 1").fetchall()[0][0]
        reused = con.sql(
            "SELECT count(*) FROM (SELECT address_id FROM outputs GROUP BY 1 HAVING count(*) > 5)"
        ).fetchall()[0][0]
    finally:
        con.close()
    assert {"p2wpkh", "p2pkh", "p2sh", "p2tr"} <= set(kinds)
    assert multi > 1000 and reused > 50  # consolidations and services' reused addresses
