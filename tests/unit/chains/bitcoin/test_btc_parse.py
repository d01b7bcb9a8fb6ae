"""The parser on real mainnet data: txids, values, SegWit, merkle roots, and broken bytes."""

from __future__ import annotations

import bz2
from pathlib import Path

import pytest

from fundtrail.chains.bitcoin.blkfile import iter_records
from fundtrail.chains.bitcoin.genesis import GENESIS_HASH, genesis_block
from fundtrail.chains.bitcoin.parse import (
    ParseError,
    bits_to_target,
    block_work,
    check_pow,
    parse_block,
    parse_tx,
)

HAL_TX = "f4184fc596403b9d638783cf57adfe4c75c605f6356fbc91338530e9831e9e16"


@pytest.fixture(scope="module")
def early_blocks(request: pytest.FixtureRequest) -> list[bytes]:
    data = bz2.decompress(
        (Path(request.config.rootpath) / "tests/data/bitcoin/blocks1-255.dat.bz2").read_bytes()
    )
    return [rb.data for rb in iter_records(data, "blocks1-255.dat")]


@pytest.fixture(scope="module")
def block_574200(request: pytest.FixtureRequest) -> bytes:
    path = Path(request.config.rootpath) / "tests/data/bitcoin/574200.blk.bz2"
    return bz2.decompress(path.read_bytes())


def test_genesis_is_built_in_with_its_famous_hash() -> None:
    block = genesis_block()
    assert block.hash == GENESIS_HASH
    assert block.txs[0].txid == "4a5e1e4baab89f3a32518a88c31bc87f618f76673e2cc77ab2127b7afdeda33b"
    assert block.merkle_root() == block.header.merkle_root
    assert check_pow(block.header)


def test_blocks_1_to_255_chain_from_genesis(early_blocks: list[bytes]) -> None:
    assert len(early_blocks) == 255
    prev = GENESIS_HASH
    for raw in early_blocks:
        block = parse_block(raw)
        assert block.header.prev_block_hash == prev
        assert block.merkle_root() == block.header.merkle_root
        assert check_pow(block.header)
        prev = block.hash
    assert prev == "00000000d0a75c861fabf9ff7b92022f60e4afeed9331fe5aa073d8e4706fe3c"


def test_block_170_pays_hal_finney_10_btc(early_blocks: list[bytes]) -> None:
    block = parse_block(early_blocks[169])
    assert block.hash == "00000000d1145790a8694403d4063f323d499e655c83426834d4ce2f8dd4a2ee"
    tx = block.txs[1]
    assert tx.txid == HAL_TX
    assert [v for v, _ in tx.outputs] == [10 * 10**8, 40 * 10**8]
    prev, index, _, seq = tx.inputs[0]
    assert prev[::-1].hex() == "0437cd7f8525ceed2324359c2d0ba26006d92d856a9c20fa0241106ee5a597c9"
    assert (index, seq) == (0, 0xFFFFFFFF)
    assert not tx.is_coinbase and block.txs[0].is_coinbase


def test_segwit_block_574200_txids_and_merkle_root(block_574200: bytes) -> None:
    block = parse_block(block_574200)
    assert block.hash == "0000000000000000001602407ac49862a7bca9d00f7f402db20b7be2f5de59d2"
    assert len(block.txs) == 3315
    assert sum(len(t.inputs) for t in block.txs) == 5055
    assert sum(len(t.outputs) for t in block.txs) == 8150
    assert block.merkle_root() == block.header.merkle_root  # txids of segwit txs exclude witness
    segwit = [t for t in block.txs if t.witnesses is not None]
    assert segwit and all(t.vsize < t.size for t in segwit)
    assert all(len(t.witnesses or []) == len(t.inputs) for t in segwit)


def test_txids_agree_with_python_bitcoinlib(block_574200: bytes) -> None:
    from bitcoin.core import CBlock  # reference implementation

    ours = parse_block(block_574200)
    ref = CBlock.deserialize(block_574200)
    assert [t.hash for t in ours.txs] == [bytes(t.GetTxid()) for t in ref.vtx]
    assert [[v for v, _ in t.outputs] for t in ours.txs] == [
        [o.nValue for o in t.vout] for t in ref.vtx
    ]


def test_single_tx_files_parse_to_their_names(test_data: Path) -> None:
    files = sorted((test_data / "bitcoin/txs").glob("*.hex"))
    assert len(files) == 5
    for f in files:
        tx = parse_tx(bytes.fromhex(f.read_text().strip()))
        assert tx.txid == f.stem


def test_truncated_block_names_the_problem(early_blocks: list[bytes]) -> None:
    raw = early_blocks[169]
    with pytest.raises(ParseError, match=r"truncated|past the end"):
        parse_block(raw[:-10], where="blk.dat offset 8")
    with pytest.raises(ParseError, match=r"blk\.dat offset 8"):
        parse_block(raw[:-10], where="blk.dat offset 8")
    with pytest.raises(ParseError, match="80 bytes"):
        parse_block(raw[:50])


def test_trailing_bytes_and_script_length_past_end_are_errors(early_blocks: list[bytes]) -> None:
    raw = early_blocks[169]
    with pytest.raises(ParseError, match="unexpected bytes"):
        parse_block(raw + b"\x00\x01")
    tx = bytes.fromhex(
        "0100000001" + "11" * 32 + "00000000" + "fd0010" + "00" * 8  # scriptSig claims 4096 bytes
    )
    with pytest.raises(ParseError, match="past the end"):
        parse_tx(tx)


def test_work_and_target_from_bits() -> None:
    assert bits_to_target(0x1D00FFFF) == 0xFFFF << 208
    assert block_work(0x1D00FFFF) == 0x100010001
    assert block_work(0x207FFFFF) == 2  # regtest-style bits: two hashes per block
    assert bits_to_target(0x1D80FFFF) == 0  # the sign bit makes a target invalid
