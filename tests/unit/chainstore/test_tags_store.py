"""The tag store: replace-by-source, lookup by any spelling, CSV/OFAC/Etherscan imports."""

from __future__ import annotations

import json
from pathlib import Path

from fundtrail.chainstore.tags import Tag, TagStore, tags_table
from fundtrail.intel.tag_import import import_tags

ETH1 = "0x8589427373D6D84E98730D7795D8f6f8731FDA16"
BTC1 = "1Archive1n2C579dMsAu3iC6tWzuQJz8dN"


def test_replace_and_lookup_any_spelling(home: Path) -> None:
    store = TagStore(home)
    tag = Tag("ETH", ETH1.lower(), "Tornado Cash", "mixer", "ofac", 60, abuse="sanctions")
    assert store.replace("pack-1", tags_table([tag, tag])) == 1  # duplicates folded
    assert store.lookup("eth", [ETH1.upper().replace("0X", "0x")]) == [tag]
    assert store.lookup("ETH", [ETH1, "not an address"]) == [tag]
    assert store.lookup("BTC", [BTC1]) == []
    store.replace("pack-1", tags_table([]))  # a re-import of an emptied source removes its tags
    assert store.count() == 0


def test_csv_import_with_guessed_chains(home: Path, tmp_path: Path) -> None:
    f = tmp_path / "list.csv"
    f.write_text(
        "address,label,category,source,confidence\n"
        f"{BTC1},Internet Archive,organization,https://archive.org,ownership\n"
        f"{ETH1},Tornado,mixing_service,,\n"
        "0x123,Short,scam,x,10\n"
        f"{BTC1},Bad confidence,scam,x,250\n"
    )
    report = import_tags(f, home=home)
    assert (report.imported, report.invalid) == (2, 2)
    assert [p.line for p in report.problems] == [4, 5]
    (eth,) = TagStore(home).lookup("ETH", [ETH1])
    assert (eth.category, eth.source, eth.confidence) == ("mixer", "list.csv", 50)
    again = import_tags(f, home=home)  # same file again: replaced, not doubled
    assert again.imported == 2 and TagStore(home).count() == 2


def test_ofac_lists_become_sanctions(home: Path, tmp_path: Path) -> None:
    (tmp_path / "sanctioned_addresses_XBT.txt").write_text(
        f"{BTC1}\nTUCsTq7TofTCJRRoHk6RvhMoS2mJLm5Yzq\n"
    )
    (tmp_path / "sanctioned_addresses_USDT.txt").write_text(
        f"{ETH1}\nTUCsTq7TofTCJRRoHk6RvhMoS2mJLm5Yzq\n"
    )
    (tmp_path / "sanctioned_addresses_XVG.txt").write_text("DThisIsVerge\n")
    report = import_tags(tmp_path, home=home)
    assert report.format == "ofac" and report.imported == 3 and report.invalid == 2
    (btc,) = TagStore(home).lookup("BTC", [BTC1])
    assert btc.category == "sanctions" and btc.abuse == "sanctions"
    assert TagStore(home).lookup("TRX", ["TUCsTq7TofTCJRRoHk6RvhMoS2mJLm5Yzq"])[0].chain == "TRX"


def test_etherscan_label_cloud(home: Path, tmp_path: Path) -> None:
    folder = tmp_path / "etherscan" / "combined"
    folder.mkdir(parents=True)
    (folder / "combinedAllLabels.json").write_text(
        json.dumps(
            {
                ETH1: {"name": "Tornado.Cash: Router", "labels": ["tornado-cash"]},
                "0x689c56aef474df92d44a1b70850f808488f9769c": {
                    "name": "KuCoin 2",
                    "labels": ["kucoin"],
                },
                "No matching records found": {"name": "", "labels": []},
            }
        )
    )
    report = import_tags(tmp_path, home=home)
    assert report.format == "etherscan" and (report.imported, report.invalid) == (2, 1)
    kucoin = TagStore(home).lookup("ETH", ["0x689c56aef474df92d44a1b70850f808488f9769c"])[0]
    assert kucoin.category == "exchange" and kucoin.label == "KuCoin 2"
