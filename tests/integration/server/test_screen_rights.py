"""Screening answers with the caller's rights at answer time, and follows intel by itself.

Issue 15 row 5: after the owner makes an indicator RED, deletes it, or takes an org off
its share list, that org's screening stopped showing it only after a manual rebuild.
Issue 14 item 7: a newly shared indicator must flag its address at once.

The chain: boss --500--> mule; customer is unrelated.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fundtrail.analysis.trace.testing import UtxoChain, btc_address
from fundtrail.screen.build import build_index

BOSS, MULE = btc_address("boss"), btc_address("mule")


def _screen(hub, who: str, address: str) -> dict:
    r = hub.client.post(
        "/api/v1/screen", json={"chain": "BTC", "address": address}, headers=hub.auth(who)
    )
    assert r.status_code == 200, r.text
    return dict(r.json())


def _build(hub) -> None:
    build_index(Path(hub.app.state.settings.home), hops=3, intel=hub.store)


@pytest.fixture
def shared(hub):
    chain = UtxoChain()
    chain.tx("c0", [], [("boss", 500)])
    chain.tx("t1", [("c0", 0)], [("mule", 500)])
    chain.tx("c1", [], [("customer", 70)])
    chain.commit(Path(hub.app.state.settings.home))
    ind = hub.add(
        "police/analyst",
        type="crypto-address",
        chain="BTC",
        value=BOSS,
        category="ransomware",
        tlp="amber",
        share_with=["exchange", "bank"],
        labels=["LockBit affiliate wallet"],
    )
    _build(hub)
    for org in ("exchange", "bank"):
        assert _screen(hub, f"{org}/reader", BOSS)["risk"] == "severe"
        assert _screen(hub, f"{org}/reader", MULE)["reasons"][0]["kind"] == "indirect"
    return hub, ind["id"]


def _withdrawn(answer: dict) -> bool:
    """Nothing of the indicator shows: no risk, no reason, not its label or org."""
    text = json.dumps(answer["reasons"])
    return answer["risk"] == "none" and "LockBit" not in text and "police" not in text


def test_unsharing_an_org_withdraws_direct_and_indirect_reasons_at_once(shared) -> None:
    hub, ind = shared
    r = hub.client.patch(
        f"/api/v1/indicators/{ind}",
        json={"share_with": ["exchange"]},
        headers=hub.auth("police/analyst"),
    )
    assert r.status_code == 200, r.text
    assert _withdrawn(_screen(hub, "bank/reader", BOSS))
    assert _withdrawn(_screen(hub, "bank/reader", MULE))
    kept = _screen(hub, "exchange/reader", BOSS)
    assert kept["risk"] == "severe" and kept["rebuild_pending"] is True
    assert kept["pending"] == ["intel"]


def test_making_it_red_hides_it_from_everyone_not_listed(shared) -> None:
    hub, ind = shared
    r = hub.client.patch(
        f"/api/v1/indicators/{ind}",
        json={"tlp": "red", "share_with": ["exchange"]},
        headers=hub.auth("police/analyst"),
    )
    assert r.status_code == 200, r.text
    assert _withdrawn(_screen(hub, "bank/reader", BOSS))
    (reason,) = _screen(hub, "exchange/reader", BOSS)["reasons"]
    assert reason["source"]["tlp"] == "red"  # the current marking, not the build's


def test_deleting_it_withdraws_it_everywhere_and_the_rebuild_agrees(shared) -> None:
    hub, ind = shared
    r = hub.client.delete(f"/api/v1/indicators/{ind}", headers=hub.auth("police/analyst"))
    assert r.status_code in (200, 204), r.text
    for org in ("exchange", "bank", "police"):
        assert _withdrawn(_screen(hub, f"{org}/reader", BOSS))
        assert _withdrawn(_screen(hub, f"{org}/reader", MULE))
    _build(hub)
    after = _screen(hub, "exchange/reader", MULE)
    assert _withdrawn(after) and after["rebuild_pending"] is False


def test_a_newly_shared_indicator_flags_at_once_and_its_exposure_after_the_rebuild(hub) -> None:
    chain = UtxoChain()
    chain.tx("c0", [], [("boss", 500)])
    chain.tx("t1", [("c0", 0)], [("mule", 500)])
    chain.commit(Path(hub.app.state.settings.home))
    _build(hub)
    assert _screen(hub, "exchange/reader", BOSS)["risk"] == "none"
    hub.add(
        "police/analyst",
        type="crypto-address",
        chain="BTC",
        value=BOSS,
        category="scam",
        tlp="amber",
        share_with=["exchange"],
    )
    now = _screen(hub, "exchange/reader", BOSS)
    assert now["risk"] == "high" and now["reasons"][0]["source"]["org"] == "police"
    assert now["rebuild_pending"] is True  # the mule's exposure needs the rebuild
    assert _screen(hub, "bank/reader", BOSS)["risk"] == "none"  # not shared with the bank
    _build(hub)
    (reason,) = _screen(hub, "exchange/reader", MULE)["reasons"]
    assert reason["kind"] == "indirect" and reason["origin"] == BOSS
    assert reason["share"] == pytest.approx(1.0) and reason["hops"] == 1
