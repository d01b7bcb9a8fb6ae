"""OFAC lists: asset -> chain, category sanctions, TLP CLEAR, confidence 100, bad lines named."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from fundtrail.errors import InvalidInputError
from fundtrail.intel.ofac import read_ofac
from fundtrail.model.indicators import Category
from fundtrail.model.tlp import TLP


def test_folder_reads_every_list_with_the_right_chains(test_data: Path) -> None:
    result = read_ofac(test_data / "intel" / "ofac")
    chains = Counter(r.chain for r in result.records)
    # USDT: 11 TRON, 8 Ethereum, 7 Omni (Bitcoin) addresses; XBT 3 good; ETH 2; XMR 3
    assert chains == {"TRX": 11, "ETH": 10, "BTC": 10, "XMR": 3}
    assert {(r.category, r.tlp, r.confidence) for r in result.records} == {
        (Category.SANCTIONS, TLP.CLEAR, 100)
    }
    assert all(r.value == r.value.lower() for r in result.records if r.chain == "ETH")
    assert [str(p) for p in result.problems] == [
        "sanctioned_addresses_XBT.txt:4: 'TUCsTq7TofTCJRRoHk6RvhMoS2mJLm5Yzq' is not a BTC "
        "address (unexpected version byte or length)",
        "sanctioned_addresses_XVG.txt:1: asset XVG is not on a chain fundtrail supports",
    ]


def test_tlp_can_be_overridden_and_a_single_file_read(test_data: Path) -> None:
    one = read_ofac(test_data / "intel" / "ofac" / "sanctioned_addresses_ETH.txt", tlp=TLP.GREEN)
    assert [r.tlp for r in one.records] == [TLP.GREEN, TLP.GREEN]


def test_a_file_with_another_name_is_refused(tmp_path: Path) -> None:
    odd = tmp_path / "addresses.txt"
    odd.write_text("0x19aa5fe80d33a56d56c78e82ea5e50e5d80b4dff\n")
    with pytest.raises(InvalidInputError, match="sanctioned_addresses_<ASSET>"):
        read_ofac(odd)


@pytest.mark.realdata
def test_the_real_lists_import_with_only_unsupported_assets_left_out(shared_data: Path) -> None:
    result = read_ofac(shared_data / "ofac-sanctioned-addresses")
    assert len({(r.chain, r.value) for r in result.records}) > 600
    assert len(result.problems) <= 5
