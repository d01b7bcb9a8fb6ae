"""Account chains: a peel chain through fresh addresses is one hop, for the tracer and for
the screening index's bulk exposure alike (one taint semantics).

    genesis -> V1 10, V2 10, U 5, Y0 1 ETH
    r1  V1 -> R1 8      r2  V2 -> R2 8        ransoms (R1, R2: the gang's known addresses)
    m1  R1 -> M 8       m2  R2 -> M 8         consolidation
    h   M  -> P1 16                           onto a fresh hop address
    peel k = 1..6: Pk -> Xk 1 (a deposit at Exchange X), Pk -> P(k+1) the rest (fresh)
    y0  U  -> Y 2       (Y: an ordinary user, paid by U first)
    z   Y  -> Z 1       (before any gang money reached Y: Z is clean)
    y1  P7 -> Y 2       (Y now holds 3, 2 of it tainted)
    w   Y  -> W 1       (haircut: 2/3 of it tainted; W received 1 in all)
    wd  HOT -> U2 1     (the exchange pays a customer: exposure stops at services)
"""

from __future__ import annotations

from pathlib import Path

import pytest

from fundtrail.analysis.trace.exposure import indirect_exposure
from fundtrail.analysis.trace.request import TraceRequest
from fundtrail.analysis.trace.service import trace
from fundtrail.analysis.trace.testing import AccountChain, txid_of
from fundtrail.chainstore.store import ChainStore

ETH = 10**18


@pytest.fixture
def peels(home: Path) -> AccountChain:
    c = AccountChain()
    for label, who, value in [("g1", "V1", 10), ("g2", "V2", 10), ("g3", "U", 5),
                              ("g4", "HOT", 50)]:  # fmt: skip
        c.transfer(label, None, who, value * ETH, kind="genesis")
    c.transfer("r1", "V1", "R1", 8 * ETH)
    c.transfer("r2", "V2", "R2", 8 * ETH)
    c.transfer("m1", "R1", "M", 8 * ETH)
    c.transfer("m2", "R2", "M", 8 * ETH)
    c.transfer("h", "M", "P1", 16 * ETH)
    c.transfer("y0", "U", "Y", 2 * ETH)
    c.transfer("z", "Y", "Z", ETH)
    rest = 16 * ETH
    for k in range(1, 7):
        c.transfer(f"peel{k}", f"P{k}", f"X{k}", ETH)
        rest -= ETH
        c.transfer(f"next{k}", f"P{k}", f"P{k + 1}", rest)
    c.transfer("y1", "P7", "Y", 2 * ETH)
    c.transfer("w", "Y", "W", ETH)
    c.transfer("wd", "HOT", "U2", ETH)
    c.cluster("ex", ["HOT"] + [f"X{k}" for k in range(1, 7)])
    c.entity("ex", "Exchange X", "exchange")
    c.commit(home)
    return c


def test_every_deposit_down_a_peel_chain_is_one_hop_away(peels: AccountChain, home: Path) -> None:
    """Traced with a one-hop limit from the first ransom, all six peels are cash-outs."""
    request = TraceRequest.parse("ETH", ["0x" + txid_of("r1")], hops=1)
    result = trace(request, home=home)
    cash = {e.deposit_address: (e.hops, e.amount) for e in result.cash_outs()}
    assert cash == {peels.address(f"X{k}"): (1, ETH // 2) for k in range(1, 7)}


def test_exposure_follows_the_tracer(peels: AccountChain, home: Path) -> None:
    ids = peels.labels.ids
    found = indirect_exposure(ChainStore("ETH", home), [ids["R1"], ids["R2"]], hops=3, home=home)
    got = {int(a): (float(s), int(h)) for a, s, h in zip(found.address, found.share, found.hops,
                                                           strict=True)}  # fmt: skip
    for k in range(1, 7):  # the sixth deposit as exposed as the first, one hop away
        assert got[ids[f"X{k}"]] == (pytest.approx(1.0), 1)
    assert got[ids["Y"]] == (pytest.approx(2 / 4), 1)  # 2 of the 4 ETH it ever received
    assert got[ids["W"]] == (pytest.approx(2 / 3), 2)  # Y's balance 3 (2 tainted) paid 1
    for clean in ("Z", "U", "U2", "V1", "R1", "R2"):  # before the money, services, seeds
        assert ids[clean] not in got
    # the origin: the largest tainted payment followed back, payment by payment, to a seed
    at = {int(a): k for k, a in enumerate(found.address)}
    x6 = at[ids["X6"]]
    assert found.origin[x6] == ids["R1"] and found.origin_txid[x6] == "0x" + txid_of("m1")


def test_a_small_peel_is_listed_a_sliver_and_dust_are_summed(home: Path) -> None:
    """G receives a 1,000 ETH ransom (the start; the listing floor is 0.1%: 1 ETH).

    pay  G -> X1 0.1      a small peel into a deposit: one payment, all traced -> listed
    buy  G -> U 1         U, a customer holding 99 ETH of its own, now holds 100
    dep  U -> X2 10       1/100 of it traced: 0.1 ETH of a 10 ETH payment -> summed
    on   G -> P  998.8    G moves on, keeping 0.1 ETH of dust of the 1,000 it got -> summed
    """
    c = AccountChain()
    c.transfer("g1", None, "V", 1000 * ETH, kind="genesis")
    c.transfer("g2", None, "U", 99 * ETH, kind="genesis")
    c.transfer("ransom", "V", "G", 1000 * ETH)
    c.transfer("pay", "G", "X1", ETH // 10)
    c.transfer("buy", "G", "U", ETH)
    c.transfer("dep", "U", "X2", 10 * ETH)
    c.transfer("on", "G", "P", 998 * ETH + 8 * ETH // 10)
    c.cluster("ex", ["HOT", "X1", "X2"])
    c.entity("ex", "Exchange X", "exchange")
    c.transfer("seed", None, "HOT", ETH, kind="genesis")
    c.commit(home)
    result = trace(TraceRequest.parse("ETH", ["0x" + txid_of("ransom")]), home=home)
    listed = {(e.kind, e.address): (e.amount, e.payment) for e in result.endpoints}
    assert listed == {
        ("cash-out", c.address("X1")): (ETH // 10, ETH // 10),
        ("held", c.address("P")): (998 * ETH + 8 * ETH // 10, 998 * ETH + 8 * ETH // 10),
        ("held", c.address("U")): (90 * ETH // 100, ETH),  # 0.9 ETH: above the floor
    }
    summed = {(d.kind, d.amount) for d in result.dispersed}
    assert summed == {("cash-out", ETH // 10), ("held", ETH // 10)}  # X2's sliver, G's dust
