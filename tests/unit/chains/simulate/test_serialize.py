"""The simulator's serializer against real mainnet bytes and python-bitcoinlib."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from bitcoin.core import (
    CBlock,
    CMutableTransaction,
    CMutableTxIn,
    CMutableTxOut,
    COutPoint,
    CScript,
    CScriptWitness,
    CTxInWitness,
    CTxWitness,
    b2lx,
)

from fundtrail.chains.simulate.btc.serialize import (
    BlockFileWriter,
    bip34_height,
    bits_target,
    coinbase_tx,
    merkle_root,
    mine_header,
    serialize_tx,
    txout,
)


def _real_block(shared_data: Path) -> bytes:
    folder = shared_data / "bitcoin-blocks" / "btcd-testdata" / "wire" / "testdata"
    (path,) = folder.glob("block-*5de59d2.blk")  # mainnet block 574,200 (SegWit era)
    return path.read_bytes()


@pytest.mark.realdata
def test_reserializes_every_tx_of_a_real_segwit_block(shared_data: Path) -> None:
    raw = _real_block(shared_data)
    block = CBlock.deserialize(raw)
    segwit = 0
    txids, wtxids = [], []
    for tx in block.vtx:
        ins = []
        for k, i in enumerate(tx.vin):
            stack = list(tx.wit.vtxinwit[k].scriptWitness.stack) if tx.has_witness() else None
            ins.append((i.prevout.hash, i.prevout.n, bytes(i.scriptSig), stack, i.nSequence))
        outs = [txout(o.nValue, bytes(o.scriptPubKey)) for o in tx.vout]
        ours, txid, wtxid = serialize_tx(ins, outs, tx.nLockTime, tx.nVersion)
        assert ours == tx.serialize()
        assert txid == tx.GetTxid()
        segwit += tx.has_witness()
        txids.append(txid)
        wtxids.append(wtxid)
    assert segwit > 100
    assert merkle_root(txids) == block.hashMerkleRoot
    # the coinbase commits to the witness merkle root (coinbase wtxid = 0)
    reserved = bytes(block.vtx[0].wit.vtxinwit[0].scriptWitness.stack[0])
    root = merkle_root([b"\0" * 32, *wtxids[1:]])
    commit = hashlib.sha256(hashlib.sha256(root + reserved).digest()).digest()
    assert any(bytes(o.scriptPubKey)[6:] == commit for o in block.vtx[0].vout)


def test_segwit_tx_matches_python_bitcoinlib() -> None:
    prev = bytes(range(32))
    pub = b"\x02" + bytes(32)
    sig = b"\x30" + bytes(70)
    ours, txid, wtxid = serialize_tx(
        [(prev, 1, b"", [sig, pub], 0xFFFFFFFD), (prev, 2, b"\x01\x02", None, 0xFFFFFFFF)],
        [txout(12_345, b"\x00\x14" + bytes(20)), txout(600, b"\x51\x20" + bytes(32))],
        locktime=800_000,
    )
    tx = CMutableTransaction(
        [CMutableTxIn(COutPoint(prev, 1), CScript(b""), 0xFFFFFFFD),
         CMutableTxIn(COutPoint(prev, 2), CScript(b"\x01\x02"), 0xFFFFFFFF)],
        [CMutableTxOut(12_345, CScript(b"\x00\x14" + bytes(20))),
         CMutableTxOut(600, CScript(b"\x51\x20" + bytes(32)))],
        nLockTime=800_000, nVersion=2,
        witness=CTxWitness([CTxInWitness(CScriptWitness([sig, pub])), CTxInWitness()]),
    )  # fmt: skip
    assert ours == tx.serialize()
    assert b2lx(txid) == b2lx(tx.GetTxid())
    assert wtxid == tx.GetHash() and wtxid != txid


def test_legacy_tx_has_txid_equal_to_wtxid() -> None:
    raw, txid, wtxid = serialize_tx([(bytes(32), 0, b"\x00", None, 0xFFFFFFFF)], [txout(1, b"")])
    assert txid == wtxid and raw[4:6] != b"\x00\x01"


@pytest.mark.parametrize(
    ("height", "push"),
    [(1, "51"), (16, "60"), (17, "0111"), (128, "028000"), (500_000, "0320a107")],
)
def test_bip34_height_push_is_cscript_of_the_height(height: int, push: str) -> None:
    assert bip34_height(height).hex() == push


def test_coinbase_commits_only_when_asked() -> None:
    plain, _ = coinbase_tx(200, [txout(50, b"\x51")], None, b"pool")
    seg, _ = coinbase_tx(200, [txout(50, b"\x51")], [bytes(32)], b"pool")
    assert b"\xaa\x21\xa9\xed" not in plain and b"\xaa\x21\xa9\xed" in seg
    assert seg[4:6] == b"\x00\x01"  # the witness reserved value makes it a segwit tx


def test_mined_header_meets_its_own_target() -> None:
    for t in range(20):
        header, h = mine_header(bytes(32), bytes(32), 1_704_067_200 + t)
        assert int.from_bytes(h, "little") <= bits_target(0x207FFFFF)
        assert len(header) == 80


def test_block_files_roll_at_the_size_limit(tmp_path: Path) -> None:
    with BlockFileWriter(tmp_path, max_size=100) as w:
        for _ in range(3):
            w.write(bytes(60))
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["blk00000.dat", "blk00001.dat", "blk00002.dat"]
    assert (tmp_path / "blk00000.dat").read_bytes()[:4] == bytes.fromhex("f9beb4d9")
