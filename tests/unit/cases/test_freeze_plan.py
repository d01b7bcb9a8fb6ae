"""The freeze rule on hand-computed cases (not on the implementation's own numbers).

A campaign lost 1 BTC (100,000,000 sat). The rule: request a deposit when its traced
proceeds are >= 0.1% of the loss (100,000 sat) and >= 5% of all the address received.
Confidence = 100 x min(1, purity / 0.5) x (0.5 + 0.5 x FIFO/haircut agreement).
"""

from __future__ import annotations

from datetime import UTC, datetime

from fundtrail.cases.freeze import (
    COINJOIN_ONLY,
    DISPERSED,
    FIFO_ONLY,
    OWN_WALLET,
    FreezeDeposit,
    plan_freeze,
)
from fundtrail.cases.views import CashoutView

LOSS = {"BTC": 100_000_000}
T0 = datetime(2024, 3, 1, tzinfo=UTC)


def out(
    exchange: str, deposit: str, amount: int, txid: str = "t1", identified: bool = True
) -> CashoutView:
    return CashoutView(exchange=exchange, category="exchange", deposit_address=deposit,
                       address=deposit, amount=amount, asset="BTC", txid=txid, time=T0,
                       hops=3, chain="BTC", deposit_identified=identified)  # fmt: skip


HAIRCUT = [
    out("Coinharbor", "A", 12_000_000, "ta1"),  # A: 20,000,000 in two txs
    out("Coinharbor", "A", 8_000_000, "ta2"),
    out("Coinharbor", "B", 100_000),  # exactly 0.1% of the loss: requested
    out("Coinharbor", "C", 99_999),  # one satoshi below, a quarter of what C got: left out
    out("Bitvane", "D", 5_000_000),  # 5% of the loss, but 2.5% of what D received
    out("Bitvane", "E", 1_000_000),  # 1%, exactly 5% of what E received: requested
    out("Bitvane", "HOT", 3_000_000, identified=False),  # the exchange's own wallet
]
FIFO = [
    out("Coinharbor", "A", 18_000_000),
    out("Bitvane", "E", 1_000_000),
    out("Bitvane", "G", 400_000),  # FIFO only
]
RECEIVED = {
    ("BTC", "A", "BTC"): 25_000_000,
    ("BTC", "B", "BTC"): 100_000,
    ("BTC", "C", "BTC"): 399_996,
    ("BTC", "D", "BTC"): 200_000_000,
    ("BTC", "E", "BTC"): 20_000_000,
    ("BTC", "HOT", "BTC"): 900_000_000,
}


def _plan():
    return plan_freeze("CMP-1", LOSS, HAIRCUT, FIFO, RECEIVED,
                       dispersed=[("Bitvane", "BTC", "BTC", 70_000)])  # fmt: skip


def test_requested_deposits_ranked_with_their_evidence() -> None:
    plan = _plan()
    assert [r.exchange for r in plan.requests] == ["Coinharbor", "Bitvane"]
    coinharbor, bitvane = plan.requests
    assert [d.deposit_address for d in coinharbor.deposits] == ["A", "B"]
    assert [d.deposit_address for d in bitvane.deposits] == ["E"]
    a, b = coinharbor.deposits
    assert a == FreezeDeposit(
        exchange="Coinharbor", chain="BTC", deposit_address="A", asset="BTC",
        amount=20_000_000, share=0.2, received=25_000_000, fifo_amount=18_000_000,
        method="haircut", hops=3,
        confidence=95,  # purity 0.8 -> 1; agreement 18/20 = 0.9 -> 0.95
        txids=("ta1", "ta2"), first_seen=T0, last_seen=T0, note=None,
    )  # fmt: skip
    assert b.amount == 100_000 and b.share == 0.001 and b.fifo_amount == 0
    assert b.confidence == 50  # purity 1 -> 1; FIFO puts none here -> 0.5
    assert b.note == "FIFO and haircut disagree: FIFO puts none of the proceeds here"
    (e,) = bitvane.deposits
    assert e.confidence == 10  # purity 0.05 -> 0.1; FIFO agrees -> 1
    assert coinharbor.totals == {"BTC": 20_100_000} and bitvane.totals == {"BTC": 1_000_000}
    assert plan.disagreements == 1


def test_what_is_left_out_says_why() -> None:
    why = {(x.address, x.reason) for x in _plan().left_out}
    assert ("C", "below 0.1% of the campaign's loss (0.099999%)") in why
    assert (
        "D",
        "traced proceeds are 2.5% of all this address received: an ordinary customer the "
        "trace reached with a sliver, not the gang's deposit",
    ) in why
    assert ("HOT", OWN_WALLET) in why
    assert ("G", FIFO_ONLY) in why
    assert (None, DISPERSED) in why
    assert len(why) == 5


def test_the_plan_reads_as_json() -> None:
    d = _plan().to_dict()
    assert d["threshold"]["min_share"] == 0.001
    assert d["threshold"]["min_share_of_received"] == 0.05
    first = d["requests"][0]["deposits"][0]
    assert first["deposit_address"] == "A" and first["share_of_received"] == 0.8
    assert first["txids"] == ["ta1", "ta2"] and first["first_seen"] == "2024-03-01T00:00:00Z"


def test_a_deposit_the_gang_paid_itself_is_requested_though_diluted() -> None:
    """F received 200,000,000 in all, 3,000,000 of it traced (1.5%: the gang also paid it
    coins out of a mixer, which no trace follows); but one payment into F was wholly
    traced money (the gang paid it itself), so F is requested. S got the same sliver
    share, each payment 2% traced (an ordinary customer haircut reached): left out."""
    gang = [out("Coinharbor", "F", 2_000_000, "tf1"), out("Coinharbor", "F", 1_000_000, "tf2")]
    gang[0].payment, gang[1].payment = 2_000_000, 50_000_000  # 100% and 2% traced
    sliver = [out("Bitvane", "S", 3_000_000, "ts1")]
    sliver[0].payment = 150_000_000  # 2%
    received = {("BTC", "F", "BTC"): 200_000_000, ("BTC", "S", "BTC"): 200_000_000}
    plan = plan_freeze("CMP-1", LOSS, gang + sliver, [], received)
    ((f,),) = [r.deposits for r in plan.requests]
    assert f.deposit_address == "F" and f.amount == 3_000_000 and f.payment_share == 1.0
    assert f.confidence == 50  # evidence max(0.015, 1.0) -> 1; FIFO puts none -> 0.5
    assert f.to_dict()["payment_share"] == 1.0
    (s,) = [x for x in plan.left_out if x.address == "S"]
    assert s.reason == (
        "traced proceeds are 1.5% of all this address received and at most 2.0% of any one "
        "payment into it: an ordinary customer the trace reached with a sliver, not the "
        "gang's deposit"
    )
    assert "50% of one payment" in plan.rule


def test_a_token_the_victims_named_otherwise_is_measured_against_what_they_paid() -> None:
    """Victims reported "USDT" (the loss is keyed ETH/USDT, Tether's contract), but the
    token their payments moved is another contract (a lookalike, named by its contract):
    the deposits of that token are measured against the payments the trace started from,
    not against a loss in an asset the chain never moved (share 0: every deposit left out)."""
    fake = "ETH/0x00000000000000000000000000000000000000aa"
    loss = {"ETH/USDT": 4_000_000_000}  # 4,000 USDT reported
    dep = CashoutView(exchange="Coinharbor", category="exchange", deposit_address="0xd1",
                      address="0xd1", amount=1_000_000_000, asset=fake, txid="t1", time=T0,
                      hops=2, chain="ETH")  # fmt: skip
    received = {("ETH", "0xd1", fake): 4_000_000_000}  # a quarter of it the proceeds
    plan = plan_freeze("CMP-1", loss, [dep], [dep], received,
                       started={fake: 4_000_000_000})  # fmt: skip
    ((d,),) = [r.deposits for r in plan.requests]
    assert d.deposit_address == "0xd1" and d.share == 0.25 and not plan.left_out
    without = plan_freeze("CMP-1", loss, [dep], [dep], received)
    assert not without.requests and without.left_out[0].reason.startswith("below 0.1%")


def test_a_small_deposit_that_holds_mostly_proceeds_is_requested_with_a_note() -> None:
    """P got 30,000 sat of proceeds (0.03% of the loss, under the 0.1% floor), and that is
    60% of all it ever received: the gang's own account, requested and said so. Q got the
    same 30,000 among 100,000 (30%): left out, below the floor."""
    small = [out("Coinharbor", "P", 30_000, "tp"), out("Coinharbor", "Q", 30_000, "tq")]
    received = {("BTC", "P", "BTC"): 50_000, ("BTC", "Q", "BTC"): 100_000}
    plan = plan_freeze("CMP-1", LOSS, small, small, received)
    ((p,),) = [r.deposits for r in plan.requests]
    assert p.deposit_address == "P" and p.amount == 30_000
    assert p.note == (
        "0.03% of the campaign's loss, but 60% of all this address received: the gang's own account"
    )
    ((q_address, q_reason),) = [(x.address, x.reason) for x in plan.left_out]
    assert q_address == "Q" and q_reason == "below 0.1% of the campaign's loss (0.03%)"
    assert "a smaller one when they are at least 50% of everything" in plan.rule


def test_a_protocol_pool_is_never_put_before_anyone_to_freeze() -> None:
    """Money that stayed in TRON's built-in exchange pool (liquidity) is a cash-out at a
    service every trader shares, which no one holds: left out, saying so."""
    pool = CashoutView(exchange="TRON built-in exchange #3 (Bancor pool)", category="service",
                       deposit_address=None, address="tron-dex:3", amount=50_000_000,
                       asset="TRX", txid="t9", time=T0, hops=2, chain="TRX")  # fmt: skip
    plan = plan_freeze("CMP-2", {"TRX": 100_000_000}, [pool], [pool], {})
    assert plan.requests == ()
    (left,) = plan.left_out
    assert (left.address, left.amount) == ("tron-dex:3", 50_000_000)
    assert left.reason.startswith("TRON built-in exchange #3 (Bancor pool) is a protocol ledger")


def test_a_small_traced_share_of_an_account_the_gang_paid_itself_is_requested() -> None:
    """K got 60,000 sat of proceeds (0.06% of the loss, under the 0.1% floor) in two
    payments wholly traced (the gang's peel chain paid it itself), among 5,000,000 it
    received in all (the gang also paid it coins out of a mixer, which no trace follows):
    1.2% of the traced share, but 5% of the loss's worth held by the gang's own account, so
    requested and said so. L got 30,000 in one wholly traced payment among 90,000 in all
    (a third; 0.09% of the loss): not worth an exchange's time, left out. M got 60,000 that is 2% of each
    payment into it (haircut slivers), among 5,000,000: left out."""
    rows = [out("Coinharbor", "K", 40_000, "tk1"), out("Coinharbor", "K", 20_000, "tk2"),
            out("Coinharbor", "L", 30_000, "tl"), out("Bitvane", "M", 60_000, "tm")]  # fmt: skip
    for r, payment in zip(rows, (40_000, 20_000, 30_000, 3_000_000), strict=True):
        r.payment = payment
    received = {("BTC", "K", "BTC"): 5_000_000, ("BTC", "L", "BTC"): 90_000,
                ("BTC", "M", "BTC"): 5_000_000}  # fmt: skip
    plan = plan_freeze("CMP-1", LOSS, rows, rows, received)
    ((k,),) = [r.deposits for r in plan.requests]
    assert k.deposit_address == "K" and k.amount == 60_000 and k.payment_share == 1.0
    assert k.note == (
        "0.06% of the campaign's loss, but one payment into it was 100% proceeds and all it "
        "received is 5% of the loss: the gang's own account"
    )
    why = {x.address: x.reason for x in plan.left_out}
    assert why == {
        "L": "below 0.1% of the campaign's loss (0.03%)",
        "M": "below 0.1% of the campaign's loss (0.06%)",
    }
    assert "and it received at least 0.1% of the loss in all" in plan.rule
    assert "never on haircut shares alone (under 50% of all it received" in plan.rule


def test_a_deposit_only_haircut_reaches_with_shares_is_not_asked_on_that_alone() -> None:
    """K received 10,000,000, 2,000,000 of it traced (20%), in one payment of 10,000,000
    (20% traced): what a CoinJoin participant's later deposit looks like when haircut
    passes the gang's taint to every participant in proportion. FIFO puts none at K: left
    out, said why. The same K with FIFO putting 1,000,000 there is asked (two methods
    agree that money arrived), with the disagreement said; a K paid one wholly traced
    payment (the gang's own) is asked whatever FIFO says."""
    k = out("Coinharbor", "K", 2_000_000, "tk1")
    k.payment = 10_000_000
    received = {("BTC", "K", "BTC"): 10_000_000}
    plan = plan_freeze("CMP-1", LOSS, [k], [], received)
    assert plan.requests == ()
    (left,) = plan.left_out
    assert left.address == "K" and left.amount == 2_000_000
    assert left.reason.startswith(
        "only haircut puts proceeds here (20.0% of all it received, at most 20.0% of any "
        "one payment) and FIFO puts none: haircut shares of a CoinJoin"
    )
    fifo = [out("Coinharbor", "K", 1_000_000, "tk1")]
    ((asked,),) = [r.deposits for r in plan_freeze("CMP-1", LOSS, [k], fifo, received).requests]
    assert asked.deposit_address == "K" and asked.fifo_amount == 1_000_000
    assert asked.note is None  # 1,000,000 is half of 2,000,000: not a disagreement
    own = out("Coinharbor", "K", 2_000_000, "tk2")
    own.payment = 2_000_000  # one payment wholly traced
    ((mine,),) = [r.deposits for r in plan_freeze("CMP-1", LOSS, [own], [], received).requests]
    assert mine.payment_share == 1.0
    assert mine.note == "FIFO and haircut disagree: FIFO puts none of the proceeds here"


def test_a_deposit_reached_only_through_a_coinjoin_is_listed_not_requested() -> None:
    """P got 30,000,000 traced of 60,000,000 (50%), in one payment half traced, and FIFO
    agrees: on shares alone it would be asked. But the trace reached it only through a
    CoinJoin, whose outputs are strangers' with equal shares: left out, said why. Q, the
    gang's deposit fed around the CoinJoin, is asked."""
    p = out("Coinharbor", "P", 30_000_000, "tp")
    p.payment = 60_000_000
    q = out("Coinharbor", "Q", 20_000_000, "tq")
    received = {("BTC", "P", "BTC"): 60_000_000, ("BTC", "Q", "BTC"): 20_000_000}
    plan = plan_freeze("CMP-1", LOSS, [p, q], [p, q], received,
                       past_coinjoins={("BTC", "P", "BTC")})  # fmt: skip
    ((asked,),) = [r.deposits for r in plan.requests]
    assert asked.deposit_address == "Q"
    (left,) = plan.left_out
    assert (left.address, left.amount, left.reason) == ("P", 30_000_000, COINJOIN_ONLY)
    assert "nor where the trace reached it only through a CoinJoin" in plan.rule
    without = plan_freeze("CMP-1", LOSS, [p, q], [p, q], received)
    assert {d.deposit_address for r in without.requests for d in r.deposits} == {"P", "Q"}
