"""The compiled block scan gives exactly the exact parser's columns, and declines bad bytes."""

from __future__ import annotations

import bz2
import hashlib
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fundtrail.chains.bitcoin import sha
from fundtrail.chains.bitcoin.blkfile import read_paths
from fundtrail.chains.bitcoin.columns import BlockColumns, block_columns
from fundtrail.chains.bitcoin.prepare import checked_block, prepare
from fundtrail.chains.bitcoin.scan import classify_columns, fast_columns
from fundtrail.chains.bitcoin.script import classify
from fundtrail.chains.simulate.background import write_background
from fundtrail.errors import SourceError

DATA = Path(__file__).resolve().parents[3] / "data/bitcoin"


def _same(a: BlockColumns, b: BlockColumns) -> None:
    for name in BlockColumns.__dataclass_fields__:
        x, y = getattr(a, name), getattr(b, name)
        if isinstance(x, np.ndarray):
            assert x.dtype == y.dtype and np.array_equal(x, y), name
        elif hasattr(x, "to_pylist"):
            assert x.type == y.type and x.to_pylist() == y.to_pylist(), name
        else:
            assert x == y, name


def test_real_and_background_blocks_scan_to_the_parsers_columns(tmp_path: Path) -> None:
    raws = [bz2.decompress((DATA / "574200.blk.bz2").read_bytes())]
    bg = write_background(tmp_path / "bg", 6_000, seed=4)
    raws += [rb.data for rb in read_paths(bg.files)]
    for raw in raws:
        cols, failed = fast_columns(raw, "x")
        assert failed is None and cols is not None
        _same(cols, block_columns(checked_block(raw, "x")))


def test_bad_blocks_fail_with_the_parsers_message() -> None:
    raw = bz2.decompress((DATA / "574200.blk.bz2").read_bytes())
    with pytest.raises(SourceError, match=r"truncated|runs past"):
        prepare(raw[:-10], "f@1")
    flipped = bytearray(raw)
    flipped[-5] ^= 1  # a byte of the last tx's locktime: parses, merkle root fails
    with pytest.raises(SourceError, match="merkle root does not match"):
        prepare(bytes(flipped), "f@1")
    assert fast_columns(raw + b"\0", "x") == (None, None)  # trailing byte: the parser decides


def test_compiled_sha256d_and_merkle_match_hashlib() -> None:
    rng = np.random.default_rng(1)
    data = rng.integers(0, 256, 5_000, dtype=np.uint8)
    starts = np.sort(rng.integers(0, 5_000, (50, 3)), axis=1)
    ends = np.minimum(starts + rng.integers(0, 300, (50, 3)), 5_000)
    got = sha.sha256d_parts(data, starts, ends)
    blob = data.tobytes()
    for i in range(50):
        joined = b"".join(blob[a:b] for a, b in zip(starts[i], ends[i], strict=True))
        want = hashlib.sha256(hashlib.sha256(joined).digest()).digest()
        assert got[i].tobytes() == want
    from fundtrail.chains.bitcoin.parse import merkle_root

    for n in (1, 2, 3, 7, 50):
        ids = got[:n]
        assert sha.merkle_root(ids) == merkle_root([r.tobytes() for r in ids])


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.binary(max_size=40),
            st.binary(max_size=80).map(lambda b: b"\x6a" + b),  # OP_RETURN, any payload
            st.binary(min_size=20, max_size=20).map(lambda h: b"\x76\xa9\x14" + h + b"\x88\xac"),
            st.binary(min_size=32, max_size=32).map(lambda h: b"\x51\x20" + h),
            st.tuples(st.sampled_from([2, 3, 4, 5]), st.binary(min_size=32, max_size=32)).map(
                lambda t: b"\x21" + bytes([t[0]]) + t[1] + b"\xac"  # P2PK, 33-byte key
            ),
            st.tuples(st.sampled_from([4, 2, 6]), st.binary(min_size=64, max_size=64)).map(
                lambda t: b"\x41" + bytes([t[0]]) + t[1] + b"\xac"  # P2PK, 65-byte key
            ),
            st.just(b""),
        ),
        min_size=1,
        max_size=60,
    )
)
def test_scripts_classify_in_columns_as_one_at_a_time(scripts: list[bytes]) -> None:
    lengths = np.array([len(s) for s in scripts], dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
    blob = np.frombuffer(b"".join(scripts) + b"\0", dtype=np.uint8)
    types, addresses = classify_columns(blob, offsets, lengths)
    got = list(zip(types.to_pylist(), addresses.to_pylist(), strict=True))
    assert got == [classify(s) for s in scripts]
