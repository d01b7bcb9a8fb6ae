"""Bad files: a clear error naming the file/offset or block, and nothing stored is lost."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest
from btc_blocks import COIN, TIP_255, block, p2wpkh, records, tx

from fundtrail.chains.bitcoin.ingest import ingest_paths
from fundtrail.chainstore import ChainStore
from fundtrail.chainstore.utxo_reads import stats, tx_summary
from fundtrail.errors import SourceError


@pytest.fixture
def stored(home: Path, early_file: Path) -> tuple[ChainStore, dict, int]:
    ingest_paths([early_file])
    store = ChainStore("BTC")
    return store, stats(store), store.version


def _unchanged(stored: tuple[ChainStore, dict, int]) -> None:
    store, before, version = stored
    store.refresh()
    assert store.version == version and stats(store) == before


def _write(tmp_path: Path, data: bytes) -> Path:
    path = tmp_path / "bad.dat"
    path.write_bytes(data)
    return path


def test_truncated_file(stored: tuple, tmp_path: Path, early_records: bytes) -> None:
    path = _write(tmp_path, early_records[:-50])
    with pytest.raises(SourceError, match=r"bad\.dat offset \d+: record length \d+ runs past"):
        ingest_paths([path])
    _unchanged(stored)


def test_bad_magic(stored: tuple, tmp_path: Path, early_records: bytes) -> None:
    first = 8 + struct.unpack_from("<I", early_records, 4)[0]
    data = early_records[:first] + b"\x0b\x11\x09\x07" + early_records[first + 4 :]
    with pytest.raises(SourceError, match=f"bad.dat offset {first}: bad magic 0b110907"):
        ingest_paths([_write(tmp_path, data)])
    _unchanged(stored)


def test_length_past_the_end(stored: tuple, tmp_path: Path, early_blocks: list[bytes]) -> None:
    data = records(early_blocks[0])
    data = data[:4] + struct.pack("<I", len(early_blocks[0]) + 1000) + data[8:]
    with pytest.raises(SourceError, match=r"offset 0: record length .* runs past the end"):
        ingest_paths([_write(tmp_path, data)])
    _unchanged(stored)


def test_header_that_fails_its_own_target(
    stored: tuple, tmp_path: Path, early_blocks: list[bytes]
) -> None:
    raw = bytearray(early_blocks[169])
    raw[76] ^= 0x01  # one bit of the nonce
    with pytest.raises(SourceError, match=r"offset 8: block \w+ does not meet the target"):
        ingest_paths([_write(tmp_path, records(bytes(raw)))])
    _unchanged(stored)


def test_transactions_that_do_not_match_the_merkle_root(stored: tuple, tmp_path: Path) -> None:
    cb = tx([], [(50 * COIN, p2wpkh(1))], coinbase_tag=7)
    raw = bytearray(block(TIP_255, [cb], time=1231800000))
    raw[-30] ^= 0xFF  # inside the output script; header (and its PoW) untouched
    with pytest.raises(SourceError, match="merkle root does not match"):
        ingest_paths([_write(tmp_path, records(bytes(raw)))])
    _unchanged(stored)


def test_script_length_running_past_the_block(stored: tuple, tmp_path: Path) -> None:
    cb = tx([], [(50 * COIN, p2wpkh(1))], coinbase_tag=7)
    raw = block(TIP_255, [cb], time=1231800000)
    broken = raw[: -4 - 23] + b"\xfd\xff\xff" + raw[-4 - 20 :]  # script length 65535
    with pytest.raises(SourceError, match=r"bad\.dat offset 8: .*past the end"):
        ingest_paths([_write(tmp_path, records(broken))])
    _unchanged(stored)


def test_garbage_output_script_is_kept_as_nonstandard(stored: tuple, tmp_path: Path) -> None:
    """Garbage in a script is legal Bitcoin: stored without an address, not an error."""
    garbage = bytes.fromhex("4cff01deadbeef")  # PUSHDATA1 claiming 255 bytes
    cb = tx([], [(50 * COIN, garbage), (0, b"")], coinbase_tag=8)
    ingest_paths([_write(tmp_path, records(block(TIP_255, [cb], time=1231800000)))])
    store = stored[0]
    store.refresh()
    got = tx_summary(store, store.read_table("txs").column("txid")[-1].as_py())
    assert [(o["script_type"], o["address"]) for o in got["outputs"]] == [
        ("nonstandard", None),
        ("nonstandard", None),
    ]
    assert stats(store)["addresses"] == stored[1]["addresses"]


@pytest.mark.parametrize("workers", [0, 2])
def test_valid_blocks_before_a_bad_one_are_kept(
    stored: tuple, tmp_path: Path, workers: int
) -> None:
    """Inline, and with parser threads and the background commit alike."""
    from btc_blocks import block_hash, simple_chain

    good = simple_chain(TIP_255, 3, tag=5, time=1231800000)
    bad = bytearray(good[2])
    bad[-10] ^= 0xFF  # breaks the merkle root of the third block
    with pytest.raises(SourceError, match=r"bad\.dat offset .*merkle root"):
        ingest_paths([_write(tmp_path, records(good[0], good[1], bytes(bad)))], workers=workers)
    store = stored[0]
    store.refresh()
    assert stats(store)["max_height"] == 257  # the two good blocks stay; a rerun continues
    report = ingest_paths([_write(tmp_path, records(*good))])
    assert (report.blocks_added, report.tip_hash) == (1, block_hash(good[2]))
