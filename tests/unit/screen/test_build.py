"""The index build: direct tags, indicators with their TLP, clusters and indirect exposure.

The chain (values in satoshi, hand-computed shares in comments):

    c0: coinbase -> ransom 300          (ransom is tagged ransomware)
    c1: coinbase -> clean  100
    t1: ransom 300 -> x 300
    t2: clean 100  -> x 100             x received 400, 300 tainted: share 0.75, hop 1
    c2: coinbase -> y 400
    t3: x 400 -> y 400                  y received 800, 300 tainted: share 0.375, hop 2
    t4: y 800 -> ex1 800                ex1 (exchange) received 800: share 0.375, hop 3
    c3: coinbase -> ex1 800
    t5: ex1 800 -> z 800                z: nothing (an exchange does not pass exposure on)
    c4: coinbase -> red 50              (red is a TLP:RED indicator of police-a)
    t6: red 50 -> w 50                  w: share 1.0 of pig-butchering, visible to police-a only
"""

from __future__ import annotations

from pathlib import Path

import pytest

from fundtrail.analysis.trace.testing import UtxoChain, btc_address, txid_of
from fundtrail.chainstore.tags import Tag, TagStore, tags_table
from fundtrail.intel.indicators import IndicatorService
from fundtrail.intel.records import IndicatorRecord
from fundtrail.intelstore.db import open_store
from fundtrail.intelstore.orgs import add_org, org_identity
from fundtrail.screen.build import build_index
from fundtrail.screen.index import IndexCache
from fundtrail.screen.scoring import Rules
from fundtrail.screen.verdicts import ScreenItem, answer


@pytest.fixture
def world(home: Path):
    chain = UtxoChain()
    chain.tx("c0", [], [("ransom", 300)])
    chain.tx("c1", [], [("clean", 100)])
    chain.tx("t1", [("c0", 0)], [("x", 300)])
    chain.tx("t2", [("c1", 0)], [("x", 100)])
    chain.tx("c2", [], [("y", 400)])
    chain.tx("t3", [("t1", 0), ("t2", 0)], [("y", 400)])
    chain.tx("t4", [("c2", 0), ("t3", 0)], [("ex1", 800)])
    chain.tx("c3", [], [("ex1", 800)])
    chain.tx("t5", [("t4", 0)], [("z", 800)])
    chain.tx("c4", [], [("red", 50)])
    chain.tx("t6", [("c4", 0)], [("w", 50)])
    chain.cluster("exch", ["ex1"])
    chain.entity("exch", "Kraylo Exchange", "exchange")
    chain.commit(home)
    TagStore(home).replace(
        "test-pack",
        tags_table([Tag("BTC", btc_address("ransom"), "LockBit-sim", "ransomware", "test", 90)]),
    )
    intel = open_store()
    with intel.session() as s:
        add_org(s, "police-a", "law-enforcement")
        add_org(s, "bank-b", "bank")
    with intel.session() as s:
        police = org_identity(s, "police-a", "analyst")
    IndicatorService(intel).add(
        police,
        IndicatorRecord.build(
            "crypto-address", btc_address("red"), "pig-butchering", chain="BTC", tlp="red"
        ),
    )
    report = build_index(home, hops=3, intel=intel)
    return home, intel, report


def _screen(home: Path, org: str, *labels: str) -> dict[str, dict]:
    items = [ScreenItem("BTC", btc_address(lab)) for lab in labels]
    answers = answer(IndexCache(home).get(), items, viewer_org=org, rules=Rules())
    return dict(zip(labels, answers, strict=True))


def _indirect(hit: dict, category: str) -> dict:
    (reason,) = [
        r for r in hit["reasons"] if r["exposure"] == "indirect" and r["category"] == category
    ]
    return reason


def test_direct_tag_screens_with_its_category(world) -> None:
    home, _, report = world
    assert report["rebuilt"] is True
    hit = _screen(home, "bank-b", "ransom")["ransom"]
    assert hit["risk"] == "severe"
    assert hit["reasons"][0]["category"] == "ransomware"
    assert hit["reasons"][0]["source"]["label"] == "LockBit-sim"


def test_indirect_shares_match_hand_computed_haircut(world) -> None:
    home, _, _ = world
    hits = _screen(home, "bank-b", "x", "y", "ex1", "z", "clean")
    assert _indirect(hits["x"], "ransomware")["share"] == pytest.approx(0.75)
    assert _indirect(hits["x"], "ransomware")["hops"] == 1
    assert _indirect(hits["y"], "ransomware")["share"] == pytest.approx(0.375)
    assert _indirect(hits["y"], "ransomware")["hops"] == 2
    assert _indirect(hits["ex1"], "ransomware")["hops"] == 3
    assert hits["z"]["risk"] == "none"  # the exchange does not pass exposure to its customers
    assert hits["clean"]["risk"] == "none"
    assert hits["x"]["score"] > hits["y"]["score"] > 0
    # where it came from: the tagged address and the tx its coins left by, never null
    assert _indirect(hits["y"], "ransomware")["origin"] == btc_address("ransom")
    assert _indirect(hits["y"], "ransomware")["origin_tx"] == txid_of("t1")


def test_exposure_from_a_red_indicator_stays_with_those_who_may_see_it(world) -> None:
    home, _, _ = world
    owner = _screen(home, "police-a", "red", "w")
    other = _screen(home, "bank-b", "red", "w")
    assert owner["red"]["risk"] == "high"
    assert _indirect(owner["w"], "pig-butchering")["share"] == pytest.approx(1.0)
    assert other["red"]["risk"] == other["w"]["risk"] == "none"
    assert "pig-butchering" not in str(other)


def test_unchanged_inputs_do_not_rebuild_and_new_intel_does(world) -> None:
    home, intel, report = world
    again = build_index(home, hops=3, intel=intel)
    assert again["rebuilt"] is False and again["version"] == report["version"]
    with intel.session() as s:
        bank = org_identity(s, "bank-b", "analyst")
    IndicatorService(intel).add(
        bank,
        IndicatorRecord.build(
            "crypto-address", btc_address("z"), "mixer", chain="BTC", tlp="green"
        ),
    )
    third = build_index(home, hops=3, intel=intel)
    assert third["rebuilt"] is True
    assert _screen(home, "police-a", "z")["z"]["reasons"][0]["category"] == "mixer"


def test_address_keys_hashed_in_two_row_batches_screen_the_same(
    world, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the keys of the addresses that get reasons are hashed a budget-sized batch of texts
    # at a time; forced down to two ids, a forced rebuild must answer every address
    # exactly as before
    from fundtrail.screen import build as module

    home, intel, _ = world
    labels = ("ransom", "clean", "x", "y", "ex1", "z", "red", "w")

    def answers() -> dict[str, dict]:  # what each org is told, but the index's version
        return {org: {k: {f: v for f, v in hit.items() if f != "index_version"}
                      for k, hit in _screen(home, org, *labels).items()}
                for org in ("police-a", "bank-b")}  # fmt: skip

    before = answers()
    monkeypatch.setattr(module, "chunk_rows", lambda *a, **k: 2)
    assert build_index(home, hops=3, intel=intel, force=True)["rebuilt"] is True
    assert answers() == before
    assert before["bank-b"]["y"]["risk"] != "none"
