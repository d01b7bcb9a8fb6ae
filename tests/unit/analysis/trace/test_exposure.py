"""Bulk indirect exposure with the tracer's rules (what the screening index is built from)."""

from __future__ import annotations

from pathlib import Path

import pytest

from fundtrail.analysis.trace.exposure import exposure, indirect_exposure
from fundtrail.analysis.trace.testing import UtxoChain, txid_of
from fundtrail.chainstore.store import ChainStore


def peel_world(home: Path) -> UtxoChain:
    """A gang's known address G pays its consolidation wallet M, which peels six deposits.

    c0: G 60000 (the seed);  c1: clean C 10000
    m:  G 60000 -> M 59900
    p1: M 59900 -> X1 5000, R1 54800    (the larger output goes on: a peel chain)
    p2..p6: R(k-1) -> Xk 5000, Rk ...    each peel: one hop, however far down the chain
    mix: X6 5000 + C 10000 -> Y 14900   (Y: a third of its money is the gang's)
    """
    c = UtxoChain()
    c.tx("c0", [], [("G", 60000)])
    c.tx("c1", [], [("C", 10000)])
    c.tx("m", [("c0", 0)], [("M", 59900)])
    prev, rest = ("m", 0), 59900
    for k in range(1, 7):
        rest -= 5000 + 100
        c.tx(f"p{k}", [prev], [(f"X{k}", 5000), (f"R{k}", rest)])
        prev = (f"p{k}", 1)
    c.tx("mix", [("p6", 0), ("c1", 0)], [("Y", 14900)])
    c.commit(home)
    return c


def test_deposits_several_peels_down_are_exposed_with_hops_and_origin(home: Path) -> None:
    c = peel_world(home)
    ids = c.labels.ids
    found = indirect_exposure(ChainStore("btc", home), [ids["G"]], hops=3, home=home)
    got = {
        int(a): (s, int(h)) for a, s, h in zip(found.address, found.share, found.hops, strict=True)
    }
    for k in range(1, 7):  # the sixth peel is as exposed as the first: one hop each
        assert got[ids[f"X{k}"]] == (pytest.approx(1.0), 2)  # G -> M is the first hop
    # Y got X6's 5000 (all tainted) and C's 10000 (clean) in one tx, minus a fee of 100
    assert got[ids["Y"]][0] == pytest.approx(5000 / 15000, rel=1e-3)
    assert ids["G"] not in got and ids["C"] not in got  # the seed is direct; C is clean
    i = list(found.address).index(ids["X6"])
    assert found.origin[i] == ids["G"] and found.origin_txid[i] == txid_of("m")


def test_exposure_does_not_pass_through_services(home: Path) -> None:
    c = UtxoChain()
    c.tx("c0", [], [("S", 5000)])
    c.tx("pay", [("c0", 0)], [("E1", 5000)])
    c.tx("withdraw", [("pay", 0)], [("U", 4000), ("E2", 990)])
    c.cluster("ex", ["E1", "E2"])
    c.entity("ex", "Binance", "exchange")
    c.commit(home)
    ids = c.labels.ids
    got = exposure("btc", {ids["S"]: "scam"}, hops=5, home=home)
    assert got[ids["E1"]]["scam"] == pytest.approx(1.0)  # the exchange received it ...
    assert ids["U"] not in got  # ... but its customers' withdrawals are not tainted


def test_a_seed_stands_for_its_cluster_and_chain_order_holds(story: UtxoChain, home: Path) -> None:
    """Seeding S1 seeds the scam cluster S1..S4. H got its coins from S3 after the scam's
    money arrived; A2 was paid by the victim before: it is not exposed."""
    ids = story.labels.ids
    got = exposure("btc", {ids["S1"]: "scam"}, hops=3, home=home)
    assert got[ids["H"]]["scam"] == pytest.approx(1.0)
    assert got[ids["E1"]]["scam"] == pytest.approx(1.0)
    assert ids["A2"] not in got and ids["S2"] not in got


def test_outputs_read_in_two_row_windows_give_the_same_exposure(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the passes over every output (the seeds' outputs, what each reached address
    # received) run in budget-sized ranges; forced down to two rows they cross many edges
    from fundtrail.analysis.trace import exposure as module

    c = peel_world(home)
    store, seeds = ChainStore("btc", home), [c.labels.ids["G"]]
    whole = indirect_exposure(store, seeds, hops=3, home=home)
    monkeypatch.setattr(
        module, "ranges", lambda n, b, s: [(lo, min(lo + 2, n)) for lo in range(0, n, 2)]
    )
    windowed = indirect_exposure(store, seeds, hops=3, home=home)
    assert len(whole.address) == 14  # M, X1..X6, R1..R6 and Y
    assert windowed.address.tolist() == whole.address.tolist()
    assert windowed.share.tolist() == whole.share.tolist()
    assert windowed.hops.tolist() == whole.hops.tolist()
    assert windowed.origin.tolist() == whole.origin.tolist()
    assert windowed.origin_txid == whole.origin_txid
