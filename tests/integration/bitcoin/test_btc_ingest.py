"""Ingest of real blocks into the chain store, then read back: values, addresses, resume."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pyarrow as pa
import pytest
from btc_blocks import HAL, HAL_TX, SATOSHI_170, TIP_255, records

from fundtrail.chains.bitcoin.genesis import genesis_block
from fundtrail.chains.bitcoin.ingest import ingest_paths
from fundtrail.chains.bitcoin.parse import parse_block
from fundtrail.chains.bitcoin.script import classify
from fundtrail.chainstore import ChainStore
from fundtrail.chainstore.utxo_reads import address_summary, stats, tx_summary
from fundtrail.errors import InvalidInputError, NotFoundError


def test_real_blocks_1_to_255(home: Path, early_file: Path) -> None:
    report = ingest_paths([early_file])
    assert (report.blocks_added, report.txs_added) == (256, 263)  # genesis is built in
    assert (report.tip_height, report.tip_hash) == (255, TIP_255)
    store = ChainStore("BTC")
    s = stats(store)
    assert (s["blocks"], s["txs"], s["min_height"], s["max_height"]) == (256, 263, 0, 255)
    assert s["unspent_value"] == 256 * 50 * 10**8

    tx = tx_summary(store, HAL_TX)
    assert (tx["block_height"], tx["fee"], tx["is_coinbase"]) == (170, 0, False)
    assert [(o["address"], o["value"]) for o in tx["outputs"]] == [
        (HAL, 10 * 10**8),
        (SATOSHI_170, 40 * 10**8),
    ]
    assert tx["inputs"][0]["address"] == SATOSHI_170
    assert tx["inputs"][0]["spent_txid"].startswith("0437cd7f")
    assert tx["outputs"][0]["script_type"] == "p2pk"

    hal = address_summary(store, HAL)
    assert (hal["balance"], hal["total_received"], hal["total_sent"]) == (10 * 10**8, 10**9, 0)
    assert (hal["tx_count"], hal["first_seen_height"], hal["last_seen_height"]) == (1, 170, 170)


def test_balances_match_an_independent_utxo_walk(
    home: Path, early_file: Path, early_blocks: list[bytes]
) -> None:
    """A straightforward dict-based UTXO walk over the parsed blocks is the reference."""
    ingest_paths([early_file])
    utxo: dict[tuple[bytes, int], tuple[str | None, int]] = {}
    received: dict[str, int] = defaultdict(int)
    sent: dict[str, int] = defaultdict(int)
    for block in [genesis_block(), *(parse_block(b) for b in early_blocks)]:
        for t in block.txs:
            if not t.is_coinbase:
                for prev, n, _, _ in t.inputs:
                    addr, value = utxo.pop((prev, n))
                    sent[addr or ""] += value
            for n, (value, script) in enumerate(t.outputs):
                addr = classify(script)[1]
                utxo[(t.hash, n)] = (addr, value)
                received[addr or ""] += value
    store = ChainStore("BTC")
    assert stats(store)["addresses"] == len([a for a in received if a])
    for addr in sorted(a for a in received if a)[::10]:
        got = address_summary(store, addr)
        assert (got["total_received"], got["total_sent"]) == (received[addr], sent[addr])


def test_reingest_changes_nothing(home: Path, early_file: Path) -> None:
    ingest_paths([early_file])
    store = ChainStore("BTC")
    version, before = store.version, stats(store)
    again = ingest_paths([early_file])
    assert (again.blocks_added, again.duplicates) == (0, 255)
    store.refresh()
    assert store.version == version and stats(store) == before


def test_two_steps_equal_one(
    home: Path, tmp_path: Path, early_file: Path, early_blocks: list[bytes]
) -> None:
    """Resume: the first 100 blocks, then the whole file, gives exactly a one-shot ingest."""
    part = tmp_path / "blk00000.dat"
    part.write_bytes(records(*early_blocks[:100]))
    assert ingest_paths([part]).tip_height == 100
    assert ingest_paths([early_file]).blocks_added == 155
    one_shot = tmp_path / "other"
    ingest_paths([early_file], home=one_shot)
    for table in ("blocks", "txs", "outputs", "inputs", "addresses"):
        a = ChainStore("BTC").read_table(table)
        b = ChainStore("BTC", one_shot).read_table(table)
        key = [(c, "ascending") for c in a.column_names[:2]]
        assert a.sort_by(key).equals(b.sort_by(key)), table


def test_mistyped_and_unknown_lookups(home: Path, early_file: Path) -> None:
    store = ChainStore("BTC")
    with pytest.raises(NotFoundError, match="empty"):
        address_summary(store, HAL)
    ingest_paths([early_file])
    store.refresh()
    with pytest.raises(InvalidInputError, match="checksum"):
        address_summary(store, HAL[:-1] + "4")
    with pytest.raises(NotFoundError, match="no transactions"):
        address_summary(store, "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4")
    with pytest.raises(InvalidInputError, match="64 hex"):
        tx_summary(store, "f4184fc5")
    with pytest.raises(NotFoundError, match="not in the BTC chain store"):
        tx_summary(store, "00" * 32)


def test_tables_match_the_shared_schema(home: Path, early_file: Path) -> None:
    from fundtrail.chainstore.schema import NO_ADDRESS, UTXO_SCHEMAS

    ingest_paths([early_file])
    store = ChainStore("BTC")
    for name, schema in UTXO_SCHEMAS.items():
        assert store.read_table(name).schema.equals(schema, check_metadata=False), name
    txs = store.read_table("txs")
    assert txs.column("tx_id").to_pylist() == list(range(263))  # dense, chain order
    outputs = store.read_table("outputs")
    assert NO_ADDRESS not in outputs.column("address_id").to_pylist()  # all p2pk here
    coinbase_ids = set(
        pa.compute.filter(txs.column("tx_id"), txs.column("is_coinbase")).to_pylist()
    )
    inputs = store.read_table("inputs")
    assert not coinbase_ids & set(inputs.column("tx_id").to_pylist())


def test_parser_threads_give_the_same_store(
    home: Path, tmp_path: Path, early_file: Path, early_blocks: list[bytes]
) -> None:
    """workers=2 parses in threads and commits in the background; the result must equal
    the inline ingest."""
    data = tmp_path / "blk00000.dat"
    data.write_bytes(records(*early_blocks[:200]) + records(*early_blocks[100:]))  # dups too
    report = ingest_paths([data], workers=2)
    assert (report.blocks_added, report.duplicates, report.tip_hash) == (256, 100, TIP_255)
    inline = tmp_path / "inline"
    ingest_paths([early_file], home=inline, workers=0)
    for table in ("txs", "outputs", "inputs", "addresses"):
        a = ChainStore("BTC").read_table(table)
        b = ChainStore("BTC", inline).read_table(table)
        key = [(c, "ascending") for c in a.column_names[:2]]
        assert a.sort_by(key).equals(b.sort_by(key)), table
