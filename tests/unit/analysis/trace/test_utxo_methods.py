"""Poison, haircut and FIFO on the hand-written `story` chain (see conftest for the txs)."""

from __future__ import annotations

from pathlib import Path

from fundtrail.analysis.trace.request import TraceRequest
from fundtrail.analysis.trace.service import trace
from fundtrail.analysis.trace.testing import UtxoChain, txid_of


def ends(result: object) -> dict[tuple[str, str], int]:
    """(kind, address label) -> amount, with addresses shown by their test label."""
    return {(e.kind, e.address): e.amount for e in result.endpoints}  # type: ignore[attr-defined]


def named(chain: UtxoChain, pairs: dict[tuple[str, str], int]) -> dict[tuple[str, str], int]:
    return {(k, chain.address(a)): v for (k, a), v in pairs.items()}


def test_haircut_forward(story: UtxoChain) -> None:
    r = trace(TraceRequest.parse("btc", [txid_of("tx1") + ":0"], method="haircut"))
    # tx2: 900 taint over inputs 3900 -> E1 900*2000/3900 = 461.5 -> 462 (largest remainder),
    #      S3 900*1800/3900 = 415.4 -> 415, fee 900*100/3900 = 23.1 -> 23.
    # tx3: 415 over 1800 -> H 415*1000/1800 = 230.6 -> 231, S4 172.9 -> 173, fee 11.5 -> 11.
    # tx4: 173 over 750 -> E2 173*740/750 = 170.7 -> 171, fee 2.3 -> 2.
    assert ends(r) == named(story, {("cash-out", "E1"): 462, ("cash-out", "E2"): 171,
                                    ("held", "H"): 231})  # fmt: skip
    assert r.summary["totals"]["BTC"]["fee"] == 23 + 11 + 2
    assert r.total() + r.summary["totals"]["BTC"]["fee"] == 900  # conserved exactly
    e1 = next(e for e in r.endpoints if e.address == story.address("E1"))
    assert e1.entity == {
        "label": "Binance",
        "category": "exchange",
        "heuristic": "tag",
        "confidence": 100,
    }
    assert e1.deposit_address == story.address("E1")
    assert e1.txid == txid_of("tx2") and e1.time == 4000


def test_poison_forward(story: UtxoChain) -> None:
    r = trace(TraceRequest.parse("btc", [txid_of("tx1") + ":0"], method="poison"))
    # every output of a tx with a tainted input is tainted in full
    assert ends(r) == named(story, {("cash-out", "E1"): 2000, ("cash-out", "E2"): 740,
                                    ("held", "H"): 1000})  # fmt: skip


def test_fifo_forward(story: UtxoChain) -> None:
    r = trace(TraceRequest.parse("btc", [txid_of("tx1") + ":0"], method="fifo"))
    # tx2 line: S2 [0,3000) S1 [3000,3900) | E1 [0,2000) S3 [2000,3800) fee [3800,3900)
    #   -> taint lands in S3 at [1000,1800) (800) and in the fee (100).
    # tx3 line: S3 [0,1800) | H [0,1000) S4 [1000,1750) fee [1750,1800)
    #   -> S4 gets [0,750) (750), the fee 50.  tx4: E2 740, fee 10.
    assert ends(r) == named(story, {("cash-out", "E2"): 740})
    assert r.summary["totals"]["BTC"]["fee"] == 160


def test_haircut_backward(story: UtxoChain) -> None:
    r = trace(
        TraceRequest.parse("btc", [txid_of("tx4") + ":0"], method="haircut", direction="backward")
    )
    # 740 goes back through S4 and S3 whole, then tx2 splits it by input value:
    # S2 740*3000/3900 = 569.2 -> 569, S1 740*900/3900 = 170.8 -> 171; both end at coinbases.
    # backward ends are origins (coins mined), not cash-outs or holdings
    assert ends(r) == named(story, {("origin", "S2"): 569, ("origin", "A1"): 171})


def test_fifo_backward(story: UtxoChain) -> None:
    r = trace(
        TraceRequest.parse("btc", [txid_of("tx4") + ":0"], method="fifo", direction="backward")
    )
    # E2 [0,740) <- S4 [0,740) <- S3 [1000,1740) <- tx2 line [3000,3740): input S1 [0,740)
    assert ends(r) == named(story, {("origin", "A1"): 740})


def test_hop_limit(story: UtxoChain) -> None:
    r = trace(TraceRequest.parse("btc", [txid_of("tx1") + ":0"], method="haircut", hops=0))
    # E1 is a cash-out even at the limit (a service stops first); H is one hop away
    kinds = {(e.kind, e.address) for e in r.endpoints}
    assert ("limit", story.address("H")) in kinds


def test_places_below_the_floor_are_summed_as_dispersed(story: UtxoChain) -> None:
    start = txid_of("tx1") + ":0"
    r = trace(TraceRequest.parse("btc", [start], method="haircut", min_amount=300))
    # the walk is the same (E1 462, E2 171, H 231); only E1 reaches 300 and is listed
    assert ends(r) == named(story, {("cash-out", "E1"): 462})
    assert [d.to_dict() for d in r.dispersed] == [
        {"kind": "held", "entity": None, "asset": "BTC", "amount": 231, "places": 1,
         "endpoints": 1},
        {"kind": "cash-out", "entity": "Binance", "asset": "BTC", "amount": 171, "places": 1,
         "endpoints": 1},
    ]  # fmt: skip
    assert r.total("cash-out") == 462 + 171  # listed + dispersed
    # a share floor: 30% of the 900 traced is 270, so H (231) and E2 (171) are dispersed too
    r = trace(TraceRequest.parse("btc", [start], method="haircut", min_share=0.3))
    assert ends(r) == named(story, {("cash-out", "E1"): 462})
    assert r.summary["listing_floor"] == {"BTC": 270}
    # no floor at all: everything is listed, largest place first
    r = trace(TraceRequest.parse("btc", [start], method="haircut", min_share=0))
    assert [e.amount for e in r.endpoints] == [462, 231, 171]
    assert r.dispersed == []


def test_start_by_address_and_time_window(story: UtxoChain) -> None:
    r = trace(TraceRequest.parse("btc", [story.address("S1")], method="haircut"))
    assert r.summary["start_amount"] == {"BTC": 900}
    r = trace(TraceRequest.parse("btc", [story.address("S1")], method="haircut", until=4500))
    # tx3 (time 5000) is after the window: the money is still held in S3
    assert ends(r) == named(story, {("cash-out", "E1"): 462, ("held", "S3"): 415})


def test_a_deposit_of_pure_proceeds_is_listed_below_the_floor(home: Path) -> None:
    """A gang's own single-use deposit address holds little but is all proceeds: it is
    listed whatever the floor; a customer's deposit reached by a sliver stays dispersed.

    c0   coinbase              -> V 10000 (the victim's payment: the start)
    c1   coinbase              -> C 9000 (a customer's own coins)
    c2   coinbase              -> K 1800 (another customer's)
    tx1  c0:0                  -> D1 100 (the gang's deposit), G 9690, G2 200; fee 10
    tx2  tx1:1, c1:0           -> D2 18680 (a deposit, about half proceeds); fee 10
    tx3  tx1:2, c2:0           -> D3 1990 (a customer's deposit, a 10% sliver); fee 10

    D1..D3 are Binance's. Floor: 5% of the 10000 traced = 500. D1 (100) is below it but
    is all it ever received: listed. D2 is above it. D3 (about 200 of 1990) is neither.
    """
    c = UtxoChain()
    c.tx("c0", [], [("V", 10000)])
    c.tx("c1", [], [("C", 9000)])
    c.tx("c2", [], [("K", 1800)])
    c.tx("tx1", [("c0", 0)], [("D1", 100), ("G", 9690), ("G2", 200)])
    c.tx("tx2", [("tx1", 1), ("c1", 0)], [("D2", 18680)])
    c.tx("tx3", [("tx1", 2), ("c2", 0)], [("D3", 1990)])
    c.cluster("binance", ["D1", "D2", "D3"])
    c.entity("binance", "Binance", "exchange")
    c.commit(home)
    r = trace(TraceRequest.parse("btc", [txid_of("c0") + ":0"], method="haircut", min_share=0.05))
    listed = {e.address for e in r.cash_outs()}
    assert c.address("D1") in listed  # 100 < the 500 floor, but pure proceeds
    assert c.address("D2") in listed  # above the floor
    assert c.address("D3") not in listed  # 200 of 1990 received: a sliver
    (dispersed,) = [d for d in r.dispersed if d.kind == "cash-out"]
    assert dispersed.places == 1 and dispersed.amount == r.total("cash-out") - sum(
        e.amount for e in r.cash_outs()
    )
    # poison taint is whole outputs: amounts alone decide
    r = trace(TraceRequest.parse("btc", [txid_of("c0") + ":0"], method="poison", min_share=0.05))
    assert c.address("D1") not in {e.address for e in r.cash_outs()}
