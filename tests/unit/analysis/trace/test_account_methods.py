"""Balance-based haircut, poison and FIFO on the hand-written `account_story` chain."""

from __future__ import annotations

from pathlib import Path

from fundtrail.analysis.trace.request import TraceRequest
from fundtrail.analysis.trace.service import trace
from fundtrail.analysis.trace.testing import AccountChain, txid_of


def ends(c: AccountChain, result: object) -> dict[tuple[str, str], int]:
    names = {c.address(k): k for k in c.labels.ids}
    return {(e.kind, names[e.address]): e.amount for e in result.endpoints}  # type: ignore[attr-defined]


def test_haircut_forward(account_story: AccountChain) -> None:
    r = trace(TraceRequest.parse("eth", ["0x" + txid_of("p1")], method="haircut"))
    # S2 holds 3900 of which 900 tainted when it sends:
    # p3 2000: 900*2000//3900 = 461 (floor; remainder stays)  -> S2 taint 439 of 1900
    # p4 1000: 439*1000//1900 = 231                           -> S2 taint 208 of 900
    # p5 fee 100: 208*100//900 = 23                           -> S2 keeps 185 of 800
    assert ends(account_story, r) == {("cash-out", "E1"): 461, ("held", "H"): 231,
                                      ("held", "S2"): 185}  # fmt: skip
    assert r.summary["totals"]["ETH"]["fee"] == 23
    assert r.total() + 23 == 900


def test_poison_forward(account_story: AccountChain) -> None:
    r = trace(TraceRequest.parse("eth", ["0x" + txid_of("p1")], method="poison"))
    # every outgoing transfer after the taint arrived is tainted in full; S2 keeps 800
    assert ends(account_story, r) == {("cash-out", "E1"): 2000, ("held", "H"): 1000,
                                      ("held", "S2"): 800}  # fmt: skip


def test_fifo_forward(account_story: AccountChain) -> None:
    r = trace(TraceRequest.parse("eth", ["0x" + txid_of("p1")], method="fifo"))
    # S2's inflow line: g2 [0,3000), p2 [3000,3900); outflow line: p3 [0,2000),
    # p4 [2000,3000), p5 (fee) [3000,3100) -> 100 to the fee, 800 still held by S2
    assert ends(account_story, r) == {("held", "S2"): 800}
    assert r.summary["totals"]["ETH"]["fee"] == 100


def test_haircut_backward(account_story: AccountChain) -> None:
    r = trace(
        TraceRequest.parse(
            "eth", [account_story.address("E1")], method="haircut", direction="backward"
        )
    )
    # p3's 2000 over S2's inflows g2 3000 and p2 900: 1538.5 -> 1538 and 461.5 -> 462;
    # p2's share goes back through S1 to the victim V (genesis: the origin)
    assert ends(account_story, r) == {("origin", "S2"): 1538, ("origin", "V"): 462}


def test_fifo_backward(account_story: AccountChain) -> None:
    r = trace(
        TraceRequest.parse(
            "eth", [account_story.address("E1")], method="fifo", direction="backward"
        )
    )
    # p3 is S2's outflow [0,2000): all of it from g2 [0,3000)
    assert ends(account_story, r) == {("origin", "S2"): 2000}


def test_token_and_native_traced_apart(home: Path) -> None:
    c = AccountChain()
    c.transfer("m", None, "S1", 5000, asset="USDT", kind="token")
    c.transfer("g", None, "S1", 7, kind="genesis")
    c.transfer("v", "V", "S1", 1000, asset="USDT", kind="token")
    c.transfer("n", "S1", "X", 7)  # native ETH leaves; no USDT taint goes with it
    c.transfer("t", "S1", "E", 3000, asset="USDT", kind="token")
    c.cluster("ex", ["E"])
    c.entity("ex", "OKX", "exchange")
    c.commit(home)
    r = trace(TraceRequest.parse("eth", ["0x" + txid_of("v") + ":0"], method="haircut"))
    # S1 holds 6000 USDT, 1000 tainted; t sends 3000 -> 1000*3000//6000 = 500
    assert ends(c, r) == {("cash-out", "E"): 500, ("held", "S1"): 500}
    # the fixture's token calls itself USDT but is not Tether's contract: named with it
    (name,) = {e.asset for e in r.endpoints}
    assert name.startswith("USDT (0x") and name.endswith(")") and len(name) == len("USDT ()") + 42


def test_haircut_balance_with_later_clean_inflow(home: Path) -> None:
    c = AccountChain()
    c.transfer("g", None, "V", 100, kind="genesis")
    c.transfer("a", "V", "S", 100)  # S: 100 of 100 tainted
    c.transfer("b", "S", "X", 50)  # 50 tainted leaves; S keeps 50 of 50
    c.transfer("g2", None, "S", 150, kind="genesis")  # clean money: S 50 of 200 tainted
    c.transfer("d", "S", "Y", 100)  # 50*100//200 = 25
    c.commit(home)
    r = trace(TraceRequest.parse("eth", ["0x" + txid_of("a")], method="haircut"))
    assert ends(c, r) == {("held", "X"): 50, ("held", "Y"): 25, ("held", "S"): 25}


def test_later_start_is_not_spent_before_it_arrives(home: Path) -> None:
    c = AccountChain()
    c.transfer("g1", None, "V1", 100, kind="genesis")
    c.transfer("g2", None, "V2", 100, kind="genesis")
    first = c.transfer("a", "V1", "S", 100)
    c.transfer("b", "S", "X", 100)  # carries only the first payment's 100
    second = c.transfer("c", "V2", "S", 100)
    c.transfer("d", "S", "Y", 50)  # 100 * 50 // 100
    c.commit(home)
    r = trace(TraceRequest.parse("eth", [first, second], method="haircut"))
    assert ends(c, r) == {("held", "X"): 100, ("held", "Y"): 50, ("held", "S"): 50}
