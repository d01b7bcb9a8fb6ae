"""blk*.dat records: padding and trailing junk are normal; bad magic and short records are not."""

from __future__ import annotations

import bz2
import struct
from pathlib import Path

import pytest

from fundtrail.chains.bitcoin.blkfile import ReadStats, iter_blocks, load_bytes, read_paths
from fundtrail.errors import SourceError

MAGIC = bytes.fromhex("f9beb4d9")


@pytest.fixture
def records(test_data: Path) -> bytes:
    return bz2.decompress((test_data / "bitcoin/blocks1-255.dat.bz2").read_bytes())


def test_reads_all_records_and_skips_zero_padding(records: bytes, tmp_path: Path) -> None:
    path = tmp_path / "blk00000.dat"
    path.write_bytes(records + b"\0" * 4096)
    stats = ReadStats()
    blocks = list(read_paths([tmp_path], stats))  # a directory gives its blk*.dat files
    assert len(blocks) == 255
    assert stats.skipped_tail == 4096 and stats.files == 1
    assert blocks[0].where == "blk00000.dat offset 8"


def test_unknown_bytes_after_the_last_record_are_tolerated(records: bytes) -> None:
    stats = ReadStats()
    assert len(list(iter_blocks(records + b"\x13\x37junk", "blk.dat", stats))) == 255
    assert stats.skipped_tail == 6


def test_bad_magic_between_records_names_the_offset(records: bytes) -> None:
    second = 8 + struct.unpack_from("<I", records, 4)[0]
    broken = records[:second] + b"\xde\xad\xbe\xef" + records[second + 4 :]
    with pytest.raises(SourceError, match=f"blk.dat offset {second}: bad magic deadbeef"):
        list(iter_blocks(broken, "blk.dat"))


def test_length_past_the_end_is_a_truncated_file(records: bytes) -> None:
    cut = records[: len(records) - 100]
    with pytest.raises(SourceError, match="runs past the end of the file"):
        list(iter_blocks(cut, "blk.dat"))
    huge = records[:4] + struct.pack("<I", 0xFFFFFF00) + records[8:]
    with pytest.raises(SourceError, match="offset 0: implausible block length"):
        list(iter_blocks(huge, "blk.dat"))


def test_hex_and_compressed_files_are_decoded(records: bytes, tmp_path: Path) -> None:
    first = records[8 : 8 + struct.unpack_from("<I", records, 4)[0]]
    hex_file = tmp_path / "block1.hex"
    hex_file.write_text(first.hex() + "\n")
    assert load_bytes(hex_file) == first
    assert [b.data for b in iter_blocks(load_bytes(hex_file), "block1.hex")] == [first]
    bz = tmp_path / "blk.bz2"
    bz.write_bytes(bz2.compress(records))
    assert load_bytes(bz) == records


def test_garbage_and_empty_files_are_refused(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="no blocks"):
        list(iter_blocks(b"\0" * 100, "zeros.dat"))
    with pytest.raises(SourceError, match="offset 0: bad magic"):
        list(iter_blocks(b"\x01\x02\x03\x04" + b"\0" * 100, "junk.dat"))
    with pytest.raises(SourceError, match="no such file"):
        list(read_paths([tmp_path / "missing.dat"]))
