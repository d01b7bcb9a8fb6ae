"""Hand-written chains with their expected taint worked out in comments."""

from __future__ import annotations

from pathlib import Path

import pytest

from fundtrail.analysis.trace.testing import AccountChain, UtxoChain


@pytest.fixture
def story(home: Path) -> UtxoChain:
    """A victim pays a scammer, who mixes the money with clean coins and cashes out.

    c0   coinbase              -> A1 1000
    c1   coinbase              -> S2 3000
    tx1  c0:0 (A1 1000)        -> S1 900 (the victim's payment: the start), A2 90; fee 10
    tx2  c1:0 (S2 3000),
         tx1:0 (S1 900)        -> E1 2000 (Binance), S3 1800 (scam change); fee 100
    tx3  tx2:1 (S3 1800)       -> H 1000 (unspent), S4 750 (scam change); fee 50
    tx4  tx3:1 (S4 750)        -> E2 740 (Binance); fee 10

    Clusters: scam = S1..S4; Binance (exchange) = E1, E2.
    """
    c = UtxoChain()
    c.tx("c0", [], [("A1", 1000)])
    c.tx("c1", [], [("S2", 3000)])
    c.tx("tx1", [("c0", 0)], [("S1", 900), ("A2", 90)])
    c.tx("tx2", [("c1", 0), ("tx1", 0)], [("E1", 2000), ("S3", 1800)])
    c.tx("tx3", [("tx2", 1)], [("H", 1000), ("S4", 750)])
    c.tx("tx4", [("tx3", 1)], [("E2", 740)])
    c.cluster("scam", ["S1", "S2", "S3", "S4"])
    c.cluster("binance", ["E1", "E2"])
    c.entity("binance", "Binance", "exchange")
    c.commit(home)
    return c


@pytest.fixture
def account_story(home: Path) -> AccountChain:
    """The same story on an account chain (balances instead of outputs).

    g1  genesis -> V 1000;  g2 genesis -> S2 3000
    p1  V  -> S1 900        (the start)
    p2  S1 -> S2 900        (S2 now holds 3900, of it 900 tainted)
    p3  S2 -> E1 2000       (Kraken deposit)
    p4  S2 -> H  1000
    p5  S2 -> fee 100
    Clusters: scam = S1, S2; Kraken (exchange) = E1.
    """
    c = AccountChain()
    c.transfer("g1", None, "V", 1000, kind="genesis")
    c.transfer("g2", None, "S2", 3000, kind="genesis")
    c.transfer("p1", "V", "S1", 900)
    c.transfer("p2", "S1", "S2", 900)
    c.transfer("p3", "S2", "E1", 2000)
    c.transfer("p4", "S2", "H", 1000)
    c.transfer("p5", "S2", None, 100, kind="fee")
    c.cluster("scam", ["S1", "S2"])
    c.cluster("kraken", ["E1"])
    c.entity("kraken", "Kraken", "exchange")
    c.commit(home)
    return c
