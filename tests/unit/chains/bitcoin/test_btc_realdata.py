"""The biggest real blocks and transaction in ../shared/data (skipped where it is absent)."""

from __future__ import annotations

import bz2
from pathlib import Path

import pytest

from fundtrail.chains.bitcoin.decode import decode
from fundtrail.chains.bitcoin.parse import check_pow, parse_block, parse_tx

pytestmark = pytest.mark.realdata

WIRE = "bitcoin-blocks/btcd-testdata/wire/testdata"
BLOCK_540107 = "block-00000000000000000021868c2cefc52a480d173c849412fe81c4e5ab806f94ab.blk"


def test_block_540107_with_7033_inputs(shared_data: Path) -> None:
    from bitcoin.core import CBlock

    raw = (shared_data / WIRE / BLOCK_540107).read_bytes()
    block = parse_block(raw)
    assert block.hash == BLOCK_540107[6:-4]
    assert (len(block.txs), sum(len(t.inputs) for t in block.txs)) == (230, 7033)
    assert block.merkle_root() == block.header.merkle_root and check_pow(block.header)
    ref = CBlock.deserialize(raw)
    assert [t.hash for t in block.txs] == [bytes(t.GetTxid()) for t in ref.vtx]


def test_the_f2pool_megatx(shared_data: Path) -> None:
    raw = bz2.decompress((shared_data / WIRE / "megatx.bin.bz2").read_bytes())
    tx = parse_tx(raw)
    assert tx.txid.startswith("bb41a757") and tx.txid.endswith("4e3e08")
    assert (len(tx.inputs), len(tx.outputs)) == (5569, 1)


def test_decode_of_a_raw_blk_file(shared_data: Path) -> None:
    out = decode(str(shared_data / WIRE / BLOCK_540107))
    assert out["type"] == "block" and out["merkle_ok"] and out["height_in_coinbase"] == 540107
