"""CoinJoins, sweeps into a hot wallet, peel chains: how a trace stops or goes on."""

from __future__ import annotations

from pathlib import Path

import pytest

from fundtrail.analysis.trace.request import TraceRequest
from fundtrail.analysis.trace.service import trace
from fundtrail.analysis.trace.testing import UtxoChain, txid_of


def coinjoin_chain(home: Path, *, mark: bool) -> UtxoChain:
    """S1, P1, P2 each put 1000 into an equal-output CoinJoin.

    cj: S1 1000, P1 1000, P2 1000 -> O1 900, O2 900, O3 900, C 280; fee 20
    """
    c = UtxoChain()
    c.tx("c0", [], [("S1", 1000)])
    c.tx("c1", [], [("P1", 1000)])
    c.tx("c2", [], [("P2", 1000)])
    c.tx("cj", [("c0", 0), ("c1", 0), ("c2", 0)],
         [("O1", 900), ("O2", 900), ("O3", 900), ("C", 280)])  # fmt: skip
    if mark:
        c.coinjoins.add("cj")  # the clustering's detector said so
    c.commit(home)
    return c


@pytest.mark.parametrize("mark", [True, False], ids=["detector-table", "equal-output-shape"])
def test_poison_stops_at_coinjoin(home: Path, mark: bool) -> None:
    c = coinjoin_chain(home, mark=mark)
    r = trace(TraceRequest.parse("btc", [txid_of("c0") + ":0"], method="poison"))
    [end] = r.endpoints
    assert (end.kind, end.amount, end.address, end.txid) == (
        "coinjoin",
        1000,
        c.address("S1"),
        txid_of("cj"),
    )


def test_haircut_passes_coinjoin_proportionally(home: Path) -> None:
    c = coinjoin_chain(home, mark=True)
    r = trace(TraceRequest.parse("btc", [txid_of("c0") + ":0"], method="haircut"))
    # 1000 of 3000 in: each 900 output gets 300, C 1000*280/3000 = 93.3 -> 93,
    # the fee 1000*20/3000 = 6.7 -> 7 (the unit left over goes to the largest remainder)
    got = {e.address: e.amount for e in r.endpoints}
    assert got == {c.address("O1"): 300, c.address("O2"): 300, c.address("O3"): 300,
                   c.address("C"): 93}  # fmt: skip
    assert r.summary["totals"]["BTC"]["fee"] == 7
    assert r.summary["coinjoin_txs"] == 1


def sweep_chain(home: Path, *, again: bool = False) -> UtxoChain:
    """The deposit address D is not in the exchange's cluster; D's coins are swept into the
    hot wallet HW (which pays customers' withdrawals): D is Bitstamp's deposit cluster.

    pay: S1 5000 -> D 3000, S2 1900 (fee 100); sweep: D 3000 -> HW 2990;
    again (optional): S2 1900 -> D 1000, S3 890: D is paid again, not swept yet.
    Bitstamp sweeps habitually: four other deposit addresses K1..K4 are swept into HW too.
    """
    c = UtxoChain()
    c.tx("c0", [], [("S1", 5000)])
    c.tx("x0", [], [("HW", 100)])
    c.tx("withdrawal", [("x0", 0)], [("U1", 90)])
    for k in range(1, 5):
        c.tx(f"k{k}", [], [(f"K{k}", 500)])
        c.tx(f"sweep-k{k}", [(f"k{k}", 0)], [("HW", 490)])
    c.tx("pay", [("c0", 0)], [("D", 3000), ("S2", 1900)])
    c.tx("sweep", [("pay", 0)], [("HW", 2990)])
    if again:
        c.tx("again", [("pay", 1)], [("D", 1000), ("S3", 890)])
    c.cluster("scam", ["S1", "S2", "S3"] if again else ["S1", "S2"])
    c.cluster("ex", ["HW"])
    c.entity("ex", "Bitstamp", "exchange")
    c.commit(home)
    return c


def test_money_entering_a_swept_deposit_cluster_is_a_cash_out_there(home: Path) -> None:
    c = sweep_chain(home, again=True)
    r = trace(TraceRequest.parse("btc", [txid_of("c0") + ":0"], method="haircut"))
    # haircut 5000 in "pay": D 3000 (a cash-out at once, not followed into the sweep),
    # S2 1900 -> "again": D 1000 (unswept, still a cash-out at D), S3 890 held, fees 110
    cash = sorted((e.amount, e.address, e.deposit_address, e.txid) for e in r.cash_outs())
    d = c.address("D")
    assert cash == [(1000, d, d, txid_of("again")), (3000, d, d, txid_of("pay"))]
    entity = r.cash_outs()[0].entity
    assert entity is not None and (entity["label"], entity["heuristic"]) == (
        "Bitstamp",
        "deposit_sweep",
    )
    assert entity["confidence"] < 100  # below the tag that names Bitstamp itself
    assert r.summary["txs_visited"] == 2  # the sweep and the hot wallet are never walked


def test_one_wallet_emptied_into_a_hot_wallet_is_no_deposit_cluster(home: Path) -> None:
    """The same shape, but the exchange is not seen sweeping habitually (one sweep only):
    D is an ordinary wallet that paid the exchange, and the trace follows it there."""
    c = UtxoChain()
    c.tx("c0", [], [("S1", 5000)])
    c.tx("x0", [], [("HW", 100)])
    c.tx("withdrawal", [("x0", 0)], [("U1", 90)])
    c.tx("pay", [("c0", 0)], [("D", 3000), ("S2", 1900)])
    c.tx("sweep", [("pay", 0)], [("HW", 2990)])
    c.cluster("ex", ["HW"])
    c.entity("ex", "Bitstamp", "exchange")
    c.commit(home)
    r = trace(TraceRequest.parse("btc", [txid_of("c0") + ":0"], method="haircut"))
    [cash] = r.cash_outs()
    assert (cash.address, cash.amount, cash.entity["heuristic"]) == (c.address("HW"), 2990, "tag")


def test_cluster_why_shows_the_sweep(home: Path) -> None:
    from fundtrail.analysis.cluster.query import show, why
    from fundtrail.chainstore.store import ChainStore

    c = sweep_chain(home)
    store = ChainStore("btc", home)
    answer = why(store, c.address("D"), c.address("HW"), home=home)
    assert answer["together"] is False  # partitions stay what clustering computed
    [step] = answer["attribution"]["evidence"]
    assert step["heuristic"] == "deposit_sweep" and step["evidence"] == {
        "tx": txid_of("sweep"),
        "address": c.address("HW"),
        "service_cluster": c.labels.cluster_id("ex"),
    }
    assert answer["attribution"]["service"]["label"] == "Bitstamp"
    shown = show(store, c.address("D"), home=home)["entity"]
    assert (shown["label"], shown["heuristic"]) == ("Bitstamp", "deposit_sweep")


def test_a_wallet_that_also_pays_elsewhere_is_no_deposit_cluster(home: Path) -> None:
    """W empties one coin into the hot wallet, but pays a shop too: a customer, not a deposit
    address (a deposit cluster only ever forwards to its service)."""
    c = UtxoChain()
    c.tx("c0", [], [("W1", 5000)])
    c.tx("c1", [], [("W2", 700)])
    c.tx("x0", [], [("HW", 100)])
    c.tx("withdrawal", [("x0", 0)], [("U1", 90)])
    for k in range(1, 6):  # Bitstamp sweeps habitually
        c.tx(f"k{k}", [], [(f"K{k}", 500)])
        c.tx(f"sweep-k{k}", [(f"k{k}", 0)], [("HW", 490)])
    c.tx("all-in", [("c0", 0)], [("HW", 4990)])
    c.tx("shop", [("c1", 0)], [("SHOP", 690)])
    c.cluster("w", ["W1", "W2"])
    c.cluster("ex", ["HW"])
    c.entity("ex", "Bitstamp", "exchange")
    c.commit(home)
    r = trace(TraceRequest.parse("btc", [txid_of("c1") + ":0"], method="haircut"))
    assert [(e.kind, e.address) for e in r.endpoints] == [("held", c.address("SHOP"))]


def test_payment_without_change_into_a_deposit_address(home: Path) -> None:
    """A wallet sends everything to D, which the clustering put in the exchange and which
    never pays outside it: D itself is the deposit address, not the paying wallet."""
    c = UtxoChain()
    c.tx("c0", [], [("W", 5000)])
    c.tx("pay", [("c0", 0)], [("D", 4990)])
    c.tx("sweep", [("pay", 0)], [("HW", 4980)])
    c.cluster("ex", ["HW", "D"])
    c.entity("ex", "Bitstamp", "exchange")
    c.commit(home)
    [cash] = trace(TraceRequest.parse("btc", [txid_of("c0") + ":0"], method="haircut")).cash_outs()
    assert (cash.address, cash.deposit_address) == (c.address("D"), c.address("D"))


def test_service_cluster_is_never_expanded(home: Path) -> None:
    c = UtxoChain()
    c.tx("c0", [], [("S1", 5000)])
    c.tx("pay", [("c0", 0)], [("E1", 5000)])
    c.tx("withdraw", [("pay", 0)], [("U1", 4000), ("E2", 990)])  # the exchange moves on
    c.cluster("ex", ["E1", "E2"])
    c.entity("ex", "Binance", "exchange")
    c.commit(home)
    r = trace(TraceRequest.parse("btc", [txid_of("c0") + ":0"], method="poison"))
    assert [(e.kind, e.address) for e in r.endpoints] == [("cash-out", c.address("E1"))]
    assert r.summary["txs_visited"] == 1


def test_peel_chain_is_one_hop(home: Path) -> None:
    """S0 peels 1000 four times; the remainders R1..R3 continue the chain, R4 is unspent.

    p1: S0 10000 -> X1 1000, R1 8900   p2: R1 -> X2 1000, R2 7800
    p3: R2 -> X3 1000, R3 6700          p4: R3 -> X4 1000, R4 5600
    """
    c = UtxoChain()
    c.tx("c0", [], [("S0", 10000)])
    prev = "c0"
    for i, rest in enumerate((8900, 7800, 6700, 5600), start=1):
        c.tx(f"p{i}", [(prev, 0 if i == 1 else 1)], [(f"X{i}", 1000), (f"R{i}", rest)])
        prev = f"p{i}"
    c.commit(home)
    r = trace(TraceRequest.parse("btc", [txid_of("c0") + ":0"], method="haircut", hops=1))
    hops = {e.address: (e.kind, e.hops) for e in r.endpoints}
    for i in range(1, 5):
        assert hops[c.address(f"X{i}")] == ("held", 1)  # each peel: one hop, not i hops
    assert hops[c.address("R4")] == ("held", 1)
