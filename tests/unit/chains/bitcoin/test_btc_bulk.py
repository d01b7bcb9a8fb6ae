"""Bulk classification (numpy base58) gives exactly what classifying one script at a time does."""

from __future__ import annotations

import bz2
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from fundtrail.chains.bitcoin.bulk import base58check_many, classify_many
from fundtrail.chains.bitcoin.parse import parse_block
from fundtrail.chains.bitcoin.script import base58check, classify
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
