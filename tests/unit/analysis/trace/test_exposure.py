"""Bulk indirect exposure (sparse haircut) on the hand-written `story` chain."""

from __future__ import annotations

from pathlib import Path

import pytest

from fundtrail.analysis.trace.exposure import exposure
from fundtrail.analysis.trace.testing import UtxoChain


def test_exposure_shares_by_hop(story: UtxoChain) -> None:
    ids = story.labels.ids
    one = exposure("btc", {ids["S1"]: "scam"}, hops=1)
    # tx2 mixes S1's 900 with S2's 3000: everything it pays is 900/3900 scam money
    assert one[ids["E1"]]["scam"] == pytest.approx(900 / 3900)
    assert one[ids["S3"]]["scam"] == pytest.approx(900 / 3900)
    assert ids["H"] not in one  # two hops away
    assert ids["S1"] not in one  # the source itself: direct, not indirect
    three = exposure("btc", {ids["S1"]: "scam"}, hops=3)
    assert three[ids["H"]]["scam"] == pytest.approx(900 / 3900)
    assert three[ids["E2"]]["scam"] == pytest.approx(900 / 3900)


def test_exposure_does_not_pass_through_services(home: Path) -> None:
    c = UtxoChain()
    c.tx("c0", [], [("S", 5000)])
    c.tx("pay", [("c0", 0)], [("E1", 5000)])
    c.tx("withdraw", [("pay", 0)], [("U", 4000), ("E2", 990)])
    c.cluster("ex", ["E1", "E2"])
    c.entity("ex", "Binance", "exchange")
    c.commit(home)
    ids = c.labels.ids
    got = exposure("btc", {ids["S"]: "scam"}, hops=5)
    assert got[ids["E1"]]["scam"] == pytest.approx(1.0)  # the exchange received it ...
    assert ids["U"] not in got  # ... but its customers' withdrawals are not tainted
