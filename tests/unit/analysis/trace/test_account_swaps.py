"""Traces through swaps on small hand-written worlds, both ways: a pool (a service that
pays another asset out in the same transaction as it is paid) converts, it does not end
the trace; it may pay the payer, a router that passes the money on, or a third address.

Every world: the victim V pays the mule M 1000 USDT; M swaps at the pool P (a DEX: 1000
USDT in, 2000 ETH out in one transaction); the ETH reaches the exchange E."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from fundtrail.analysis.trace.request import TraceRequest
from fundtrail.analysis.trace.service import trace
from fundtrail.analysis.trace.testing import AccountChain, txid_of


def _world(home: Path, shape: str) -> AccountChain:
    c = AccountChain()
    c.transfer("gv", None, "V", 1000, asset="USDT", kind="genesis")
    c.transfer("gp", None, "P", 10**6, kind="genesis")  # the pool's ETH
    c.transfer("lp", "LP", "P", 5000, asset="USDT", kind="token")  # and its USDT
    c.transfer("v", "V", "M", 1000, asset="USDT", kind="token")
    if shape == "direct":  # P pays M back
        c.transfer("s", "M", "P", 1000, asset="USDT", kind="token")
        c.transfer("s", "P", "M", 2000, kind="internal")
        c.transfer("d", "M", "E", 1500)  # M cashes 1500 of the 2000 ETH out
    elif shape == "third":  # M names C as the swap's recipient
        c.transfer("s", "M", "P", 1000, asset="USDT", kind="token")
        c.transfer("s", "P", "C", 2000, kind="internal")
        c.transfer("d", "C", "E", 1500)
    else:  # through a router R: M -> R -> P in USDT, P -> R -> C in ETH, one transaction
        c.transfer("s", "M", "R", 1000, asset="USDT", kind="token")
        c.transfer("s", "R", "P", 1000, asset="USDT", kind="token")
        c.transfer("s", "P", "R", 2000, kind="internal")
        c.transfer("s", "R", "C", 2000, kind="internal")
        c.transfer("d", "C", "E", 1500)
    c.cluster("pool", ["P"])
    c.entity("pool", "SwapPool", "service")  # a DEX (TagPack category defi_dex)
    c.cluster("ex", ["E"])
    c.entity("ex", "OKX", "exchange")
    c.commit(home)
    return c


def _ends(c: AccountChain, r: Any) -> dict[tuple[str, str, str], int]:
    names = {c.address(k): k for k in c.labels.ids}
    return {(e.kind, names[e.address], e.asset.split(" ")[0]): e.amount for e in r.endpoints}


@pytest.mark.parametrize("shape", ["direct", "third", "router"])
def test_backward_from_the_cash_out_goes_through_the_swap_to_the_usdt(
    home: Path, shape: str
) -> None:
    c = _world(home, shape)
    r = trace(TraceRequest.parse("eth", ["0x" + txid_of("d")], direction="backward"))
    # 1500 of the swap's 2000 ETH: paid for by 1500 * 1000 // 2000 = 750 of M's 1000 USDT,
    # which came from the victim (whose USDT was minted to it: the origin)
    assert _ends(c, r) == {("origin", "V", "USDT"): 750}
    (swap,) = r.summary["swaps"]
    assert swap["direction"] == "backward" and swap["txid"] == "0x" + txid_of("s")
    assert swap["pool"] == c.address("P")
    assert swap["address"] == c.address("M" if shape == "direct" else "R" if shape == "router"
                                        else "C")  # fmt: skip
    assert swap["bought"] == {"asset": "ETH", "amount": 1500, "paid_out": 2000}
    (sold,) = swap["sold"]
    assert (sold["amount"], sold["paid_in"]) == (750, 1000)
    totals = r.summary["totals"]
    assert totals["ETH"]["swapped"] == 1500 and r.summary["converted"] == {sold["asset"]: 750}
    assert {e.asset.split(" ")[0] for e in r.edges if e.swap} == {"ETH", "USDT"}


@pytest.mark.parametrize("shape", ["third", "router"])
def test_forward_follows_a_swap_paid_to_a_third_address(home: Path, shape: str) -> None:
    c = _world(home, shape)
    r = trace(TraceRequest.parse("eth", ["0x" + txid_of("v") + ":0"]))
    # the victim's 1000 USDT is all the pool got: 2000 ETH out, to C (directly or through
    # the router), of which 1500 reach the exchange and 500 stay with C
    assert _ends(c, r) == {("cash-out", "E", "ETH"): 1500, ("held", "C", "ETH"): 500}
    (swap,) = r.summary["swaps"]
    assert swap["sold"] == {"asset": swap["sold"]["asset"], "amount": 1000, "paid_in": 1000}
    (bought,) = swap["bought"]
    assert (bought["asset"], bought["amount"], bought["paid_back"]) == ("ETH", 2000, 2000)


def test_fifo_backward_goes_through_the_swap_too(home: Path) -> None:
    c = _world(home, "direct")
    r = trace(TraceRequest.parse("eth", ["0x" + txid_of("d")], direction="backward",
                                 method="fifo"))  # fmt: skip
    assert _ends(c, r) == {("origin", "V", "USDT"): 750}


def test_a_service_paid_in_nothing_else_is_still_the_source(home: Path) -> None:
    """An exchange withdrawal (E pays M ETH, nobody pays E anything in that tx) ends a
    backward trace at the exchange, as before."""
    c = AccountChain()
    c.transfer("ge", None, "E", 10**6, kind="genesis")
    c.transfer("w", "E", "M", 700)
    c.transfer("o", "M", "X", 700)
    c.cluster("ex", ["E"])
    c.entity("ex", "OKX", "exchange")
    c.commit(home)
    r = trace(TraceRequest.parse("eth", ["0x" + txid_of("o")], direction="backward"))
    assert _ends(c, r) == {("source", "E", "ETH"): 700}
    assert "swaps" not in r.summary
