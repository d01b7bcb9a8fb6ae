"""A freeze plan on a real (hand-built) chain: deposits past a CoinJoin are not requested.

The gang's coin G (10,000,000) is split: 3,995,000 peeled straight to its deposit DG and
5,000 to DS (below the trace's listing floor, listed because it is all proceeds), and
6,000,000 into a CoinJoin with two strangers (3,000,000 each), three equal outputs of
4,000,000 and change. The strangers' post-mix coins go to their own deposits DU1, DU2;
haircut passes the gang's share of the mix to every output, so each holds a traced share
as large as the gang's own post-mix deposit DGM. Only DG and DS are reached around the
CoinJoin (the CoinJoin-stopping trace must list every place, however small, or DS would
look reached only through the mix).
"""

from __future__ import annotations

from pathlib import Path

from fundtrail.analysis.trace.testing import UtxoChain, txid_of
from fundtrail.cases.freeze import COINJOIN_ONLY, plan_freeze
from fundtrail.cases.freezing import _past_coinjoins, coinjoin_stopping_trace, received_by
from fundtrail.cases.tracing import TraceParams, trace_payments


def _chain(home: Path) -> UtxoChain:
    c = UtxoChain()
    c.tx("victim", [], [("G", 10_000_000)])
    c.tx("u1", [], [("U1", 3_000_000)])
    c.tx("u2", [], [("U2", 3_000_000)])
    c.tx("split", [("victim", 0)], [("GC", 6_000_000), ("DG", 3_995_000), ("DS", 5_000)])
    c.tx("mix", [("split", 0), ("u1", 0), ("u2", 0)],
         [("M1", 4_000_000), ("M2", 4_000_000), ("M3", 4_000_000)])  # fmt: skip
    c.coinjoins.add("mix")
    c.tx("dep-g", [("mix", 0)], [("DGM", 4_000_000)])
    c.tx("dep-u1", [("mix", 1)], [("DU1", 4_000_000)])
    c.tx("dep-u2", [("mix", 2)], [("DU2", 4_000_000)])
    c.tx("hw", [], [("HW", 1)])  # the exchange's tagged wallet, clustered with its deposits
    c.cluster("ex", ["HW", "DG", "DS", "DGM", "DU1", "DU2"])
    c.entity("ex", "Coinharbor", "exchange")
    c.commit(home)
    return c


def test_deposits_reached_only_through_a_coinjoin_are_left_out(home: Path) -> None:
    c = _chain(home)
    payments = [("BTC", txid_of("victim") + ":0", 10_000_000)]
    haircut = trace_payments(payments, TraceParams("haircut", 10), home)
    fifo = trace_payments(payments, TraceParams("fifo", 10), home)
    direct = coinjoin_stopping_trace(payments, 10, home)
    reached = {x.deposit_address: x.amount for x in haircut.cashouts}
    assert reached[c.address("DG")] == 3_995_000  # around the mix
    assert reached[c.address("DS")] == 5_000  # all proceeds, below the listing floor
    assert reached[c.address("DU1")] == reached[c.address("DGM")] == 2_000_000  # equal shares
    past = _past_coinjoins(haircut.cashouts, direct)
    assert {a for _, a, _ in past} == {c.address(x) for x in ("DGM", "DU1", "DU2")}
    wanted = {(x.chain, x.deposit_address or x.address) for x in haircut.cashouts}
    plan = plan_freeze("CMP-1", {"BTC": 10_000_000}, haircut.cashouts, fifo.cashouts,
                       received_by(wanted, home), past_coinjoins=past)  # fmt: skip
    assert plan.requested() == {("BTC", c.address("DG")), ("BTC", c.address("DS"))}
    assert {x.address for x in plan.left_out if x.reason == COINJOIN_ONLY} == {
        c.address(x) for x in ("DGM", "DU1", "DU2")
    }
