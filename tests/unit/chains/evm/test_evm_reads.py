"""Addresses and hashes are validated before any lookup, with clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from fundtrail.chains.evm import reads
from fundtrail.chains.evm.ingest import ingest_files
from fundtrail.chainstore.store import ChainStore
from fundtrail.errors import InvalidInputError, NotFoundError

DATA = Path(__file__).resolve().parents[3] / "data" / "evm"
HOLDER = "0xac4df82fe37ea2187bc8c011a23d743b4f39019a"


@pytest.fixture
def store(home: Path) -> ChainStore:
    ingest_files(DATA / "etl" / "csv_483920", chain="eth", home=home)
    return ChainStore("ETH", home)


def test_address_in_any_case_with_right_checksum(store: ChainStore) -> None:
    checksummed = reads.display(HOLDER)
    assert checksummed == "0xAC4dF82fe37EA2187bc8C011a23d743B4F39019A"
    for text in (HOLDER, HOLDER.upper().replace("0X", "0x"), checksummed):
        s = reads.address_summary(store, text)
        assert s["address"] == checksummed and s["tokens"][0]["balance"] == 100000


def test_wrong_checksum_is_rejected(store: ChainStore) -> None:
    wrong = "0xAC4dF82fe37EA2187bc8C011a23d743B4F39019a"  # last letter's case flipped
    with pytest.raises(InvalidInputError, match="EIP-55 checksum mismatch"):
        reads.address_summary(store, wrong)
    with pytest.raises(InvalidInputError, match="not an EVM address"):
        reads.address_summary(store, "0x1234")


def test_unknown_address_and_tx(store: ChainStore) -> None:
    with pytest.raises(NotFoundError, match="does not appear in the ETH chain store"):
        reads.address_summary(store, "0x" + "12" * 20)
    with pytest.raises(NotFoundError, match="not in the ETH chain store"):
        reads.tx_summary(store, "0x" + "ab" * 32)
    with pytest.raises(InvalidInputError, match="not an EVM transaction hash"):
        reads.tx_summary(store, "0xabc")


def test_stats(store: ChainStore) -> None:
    s = reads.stats(store)
    assert (s["blocks"], s["txs"], s["first_block"], s["last_block"]) == (1, 4, 483920, 483920)
    assert s["transfers_by_kind"] == {"fee": 4, "native": 2, "token": 2}
    assert s["transfers"] == 8 and s["tokens"] == 1


def test_empty_store_says_so(home: Path) -> None:
    with pytest.raises(NotFoundError, match="empty; ingest blocks first"):
        reads.address_summary(ChainStore("BSC", home), HOLDER)
