"""Bitcoin networks beyond mainnet: a regtest chain ingests with regtest addresses, and a
workspace never mixes networks (files or a node), with a clear error and nothing stored."""

from __future__ import annotations

import json
import struct
import subprocess
import sys
from pathlib import Path

import pytest
from btc_blocks import COIN, block, block_hash, p2tr, p2wpkh, tx, txid
from typer.testing import CliRunner

from fundtrail.chains.bitcoin.genesis import genesis_block, genesis_raw
from fundtrail.chains.bitcoin.ingest import ingest_paths
from fundtrail.chains.bitcoin.network import NETWORKS, REGTEST, TESTNET
from fundtrail.chainstore import ChainStore
from fundtrail.chainstore.utxo_reads import address_summary, stats, tx_summary
from fundtrail.cli.main import app
from fundtrail.errors import SourceError
from fundtrail.model.encoding import b58check_encode, segwit_encode

KEY_HASH = bytes.fromhex("751e76e8199196d454941c45d1b3a323f1433bd6")  # BIP-173's example
P2PKH = b"\x76\xa9\x14" + KEY_HASH + b"\x88\xac"
P2SH = b"\xa9\x14" + KEY_HASH + b"\x87"
P2WPKH = b"\x00\x14" + KEY_HASH


@pytest.mark.parametrize("name", list(NETWORKS))
def test_every_built_in_genesis_hashes_to_its_network(name: str) -> None:
    net = NETWORKS[name]
    assert genesis_block(net).hash == net.genesis_hash


def _regtest_records(n_extra: int = 3) -> tuple[bytes, str]:
    """Regtest blocks 1..: a coinbase to P2PKH/P2SH/P2WPKH, then a spend of it to P2TR."""
    prev = REGTEST.genesis_hash
    cb = tx([], [(25 * COIN, P2PKH), (15 * COIN, P2SH), (10 * COIN, P2WPKH)], coinbase_tag=1)
    first = block(prev, [cb], time=1_700_000_000)
    blocks = [first]
    spend = tx([(txid(cb), 0)], [(24 * COIN, p2tr(7)), (COIN // 2, p2wpkh(8))])
    cb2 = tx([], [(50 * COIN, p2wpkh(9))], coinbase_tag=2)
    blocks.append(block(block_hash(first), [cb2, spend], time=1_700_000_600))
    for i in range(n_extra):
        cbn = tx([], [(50 * COIN, p2wpkh(100 + i))], coinbase_tag=10 + i)
        blocks.append(block(block_hash(blocks[-1]), [cbn], time=1_700_001_200 + 600 * i))
    data = b"".join(REGTEST.magic + struct.pack("<I", len(b)) + b for b in blocks)
    return data, txid(spend)


def test_a_regtest_chain_ingests_with_regtest_addresses(home: Path, tmp_path: Path) -> None:
    data, spend = _regtest_records()
    blk = tmp_path / "regtest" / "blk00000.dat"
    blk.parent.mkdir()
    blk.write_bytes(data + b"\0" * 64)  # Core pre-allocates: zero padding after the last record
    report = ingest_paths([blk.parent], network="regtest")
    assert (report.blocks_added, report.tip_height) == (6, 5)  # the regtest genesis is built in
    store = ChainStore("BTC")
    assert store.meta["network"] == "regtest"
    pkh = b58check_encode(b"\x6f" + KEY_HASH)
    sh = b58check_encode(b"\xc4" + KEY_HASH)
    wpkh = segwit_encode("bcrt", 0, KEY_HASH)
    assert pkh[0] in "mn" and sh[0] == "2" and wpkh.startswith("bcrt1q")
    assert wpkh == "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080"
    t = tx_summary(store, spend)
    assert t["inputs"][0]["address"] == pkh and t["fee"] == COIN // 2
    assert t["outputs"][0]["address"] == segwit_encode("bcrt", 1, p2tr(7)[2:])
    assert address_summary(store, pkh)["total_sent"] == 25 * COIN
    assert address_summary(store, sh)["balance"] == 15 * COIN
    assert address_summary(store, wpkh)["balance"] == 10 * COIN
    assert stats(store)["unspent_value"] == 6 * 50 * COIN - COIN // 2  # the fee is unclaimed
    # the next run resumes on the workspace's network without being told again
    more, _ = _regtest_records(5)
    blk.write_bytes(more)
    again = ingest_paths([blk])
    assert (again.blocks_added, again.duplicates, again.tip_height) == (2, 5, 7)


def test_a_workspace_never_mixes_networks(home: Path, tmp_path: Path, early_file: Path) -> None:
    data, _ = _regtest_records()
    regtest = tmp_path / "regtest.dat"
    regtest.write_bytes(data)
    ingest_paths([regtest], network="regtest")
    store = ChainStore("BTC")
    before = stats(store)
    with pytest.raises(SourceError, match="holds regtest blocks; mainnet blocks need a workspace"):
        ingest_paths([early_file], network="mainnet")
    with pytest.raises(SourceError, match=r"a mainnet block file .* give --network mainnet"):
        ingest_paths([early_file])  # the workspace's network: mainnet records do not fit it
    assert stats(ChainStore("BTC")) == before

    other = tmp_path / "other"  # a mainnet workspace refuses regtest files, naming the flag
    ingest_paths([early_file], home=other)
    with pytest.raises(SourceError, match=r"a regtest block file .* give --network regtest"):
        ingest_paths([regtest], home=other)
    with pytest.raises(SourceError, match="holds mainnet blocks; testnet blocks"):
        ingest_paths([regtest], home=other, network=TESTNET.name)
    assert ChainStore("BTC", other).meta["network"] == "mainnet"
    assert stats(ChainStore("BTC", other))["max_height"] == 255


def test_the_cli_takes_network_and_refuses_mixing(home: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    data, _ = _regtest_records()
    blk = tmp_path / "blk00000.dat"
    blk.write_bytes(data)
    ok = runner.invoke(app, ["ingest", "bitcoin", str(blk), "--network", "regtest", "--quiet"])
    assert ok.exit_code == 0, ok.output
    assert json.loads(runner.invoke(app, ["stats", "--json"]).stdout)["max_height"] == 5
    fundtrail = str(Path(sys.executable).with_name("fundtrail"))
    for flag, said in (("signet", "holds regtest blocks"), ("regnet", "unknown Bitcoin network")):
        bad = subprocess.run(
            [fundtrail, "ingest", "bitcoin", str(blk), "--network", flag],
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert bad.returncode != 0 and said in bad.stderr and "Traceback" not in bad.stderr


def test_a_node_is_known_by_its_genesis(home: Path) -> None:
    """The RPC path reads the node's genesis first: a regtest node fills a regtest
    workspace, and a node of another network is refused before any block is fetched."""
    from test_btc_rpc import serve

    from fundtrail.chains.bitcoin.ingest import ingest_rpc

    data, spend = _regtest_records()
    blocks = [genesis_raw(REGTEST), *_split(data)]
    with serve(blocks) as (url, node):
        with pytest.raises(SourceError, match=r"the node runs regtest .* not mainnet"):
            ingest_rpc(url, user="alice", password="s3cret", network="mainnet")
        assert node.calls == ["getblockhash"]
        report = ingest_rpc(url, user="alice", password="s3cret")
        assert report.tip_height == 5
    store = ChainStore("BTC")
    assert store.meta["network"] == "regtest"
    assert tx_summary(store, spend)["fee"] == COIN // 2
    with serve([genesis_raw()]) as (url, node):
        with pytest.raises(SourceError, match="holds regtest blocks; mainnet blocks"):
            ingest_rpc(url, user="alice", password="s3cret")
        assert "getblock" not in node.calls


def _split(data: bytes) -> list[bytes]:
    from fundtrail.chains.bitcoin.blkfile import iter_records

    return [rb.data for rb in iter_records(data, "regtest", expected=REGTEST.magic)]
