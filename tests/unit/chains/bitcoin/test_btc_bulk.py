"""Bulk classification (numpy base58) gives exactly what classifying one script at a time does."""

from __future__ import annotations

import bz2
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from fundtrail.chains.bitcoin.bulk import base58check_many, classify_many, segwit_many
from fundtrail.chains.bitcoin.parse import parse_block
from fundtrail.chains.bitcoin.script import base58check, classify, segwit_address
from fundtrail.chainstore import AddressBook, ChainStore
from fundtrail.chainstore.schema import NO_ADDRESS

DATA = Path(__file__).resolve().parents[3] / "data/bitcoin"


def test_real_block_scripts_classify_the_same_in_bulk() -> None:
    block = parse_block(bz2.decompress((DATA / "574200.blk.bz2").read_bytes()))
    scripts = [s for tx in block.txs for _, s in tx.outputs]
    bulk = classify_many(scripts)
    assert bulk == [classify(s) for s in scripts]
    assert {t for t, _ in bulk} >= {"p2pkh", "p2sh", "p2wpkh", "nulldata"}


@settings(max_examples=30, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from([0, 5, 0x6F]),
            st.integers(0, 20),  # leading zero bytes of the hash
            st.binary(min_size=20, max_size=20),
        ),
        min_size=0,
        max_size=60,
    )
)
def test_base58_in_bulk_matches_one_at_a_time(items: list[tuple[int, int, bytes]]) -> None:
    payloads = [bytes([v]) + b"\0" * z + h[z:] for v, z, h in items]
    assert base58check_many(payloads) == [base58check(p) for p in payloads]


@settings(max_examples=30, deadline=None)
@given(
    st.sampled_from([(0, 20), (0, 32), (1, 32)]),
    st.lists(st.binary(min_size=32, max_size=32), min_size=0, max_size=60),
)
def test_bech32_in_bulk_matches_one_at_a_time(kind: tuple[int, int], raw: list[bytes]) -> None:
    version, size = kind
    programs = [r[:size] for r in raw] + [b"\0" * size, b"\xff" * size] * 8
    assert segwit_many(version, programs) == [segwit_address(version, p) for p in programs]


@settings(max_examples=30, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.binary(max_size=40),
            st.tuples(
                st.sampled_from([b"\x00\x14", b"\x00\x20", b"\x51\x20", b"\x51\x14"]),
                st.binary(min_size=20, max_size=32),
            ).map(lambda t: t[0] + t[1]),
            st.binary(min_size=20, max_size=20).map(lambda h: b"\x76\xa9\x14" + h + b"\x88\xac"),
            st.binary(min_size=20, max_size=20).map(lambda h: b"\xa9\x14" + h + b"\x87"),
        ),
        max_size=80,
    )
)
def test_any_scripts_classify_the_same_in_bulk(scripts: list[bytes]) -> None:
    assert classify_many(scripts) == [classify(s) for s in scripts]


def test_edge_payloads() -> None:
    payloads = [b"\0" * 21, b"\xff" * 21, b"\x05" + b"\0" * 20, b"\0" * 20 + b"\1"] * 5
    assert base58check_many(payloads) == [base58check(p) for p in payloads]


def test_ids_for_matches_id_for(home: Path) -> None:
    addrs = ["a", None, "b", "a", "c", None, "b"]
    types = ["p2pkh", "nulldata", "p2sh", "p2pkh", "p2wpkh", "nonstandard", "p2sh"]
    one, bulk = AddressBook(ChainStore("BTC", home)), AddressBook(ChainStore("BTC", home))
    expected = [
        one.id_for(a, t, 7) if a is not None else NO_ADDRESS
        for a, t in zip(addrs, types, strict=True)
    ]
    assert bulk.ids_for(addrs, types, 7) == expected == [0, NO_ADDRESS, 1, 0, 2, NO_ADDRESS, 1]
    assert bulk.take_new().to_pylist() == one.take_new().to_pylist()
