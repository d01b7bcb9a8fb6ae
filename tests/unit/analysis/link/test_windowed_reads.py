"""Campaign linking reads the chain's arrays a window at a time; the meetings must not notice.

The whole-chain passes of the link walk (each address's inflow, the crowd test, a
mixer's payouts, how often a cash-out address was paid) run in ranges sized from the
memory budget. Here the ranges are forced down to two rows, so every pass crosses many
window edges, and the meetings are compared with those of one window over everything.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from fundtrail.analysis.link import mixer
from fundtrail.analysis.link import utxo as link_utxo
from fundtrail.analysis.link.meet import SPENT_TOGETHER, Payment, meetings
from fundtrail.analysis.link.mixer import THROUGH_MIXER
from fundtrail.analysis.trace.testing import UtxoChain, txid_of

BTC = 100_000_000


def _two_rows(n: int, bytes_per_row: int, share: float) -> list[tuple[int, int]]:
    return [(lo, min(lo + 2, n)) for lo in range(0, n, 2)]


def _world(home: Path) -> list[Payment]:
    """Victims a, b peel to the mule's deposit D; c's ransom goes through a mixer whose
    two payouts (98% of it) reach D as well; an exchange's hot wallet pays customers."""
    c = UtxoChain()
    c.tx("hot-reserve", [], [("hot", 500 * BTC)])
    c.tx("withdrawals", [("hot-reserve", 0)], [("cust1", BTC), ("hot", 499 * BTC)])
    c.tx("mix-reserve0", [], [("reserve", 300 * BTC)])
    pays = []
    for i, name in enumerate(["a", "b", "c"]):
        c.tx(f"fund-{name}", [], [(f"w-{name}", 2 * BTC + 10_000)])
        c.tx(f"pay-{name}", [(f"fund-{name}", 0)], [(f"r-{name}", 2 * BTC), (f"w-{name}", 9_000)])
        pays.append(Payment(i, txid_of(f"pay-{name}"), 0, 2 * BTC))
    c.tx("cons", [("pay-a", 0), ("pay-b", 0)], [("m1", 4 * BTC - 1000)])
    c.tx("peel", [("cons", 0)], [("D", BTC), ("m1b", 3 * BTC - 2000)])
    entry = 2 * BTC - 1000
    c.tx("mixC", [("pay-c", 0)], [("mdC", entry)])
    c.tx("msweep", [("mixC", 0)], [("reserve", entry - 500)])
    back = entry * 98 // 100
    c.tx("payout", [("mix-reserve0", 0)],
         [("p0", back // 2), ("p1", back // 2), ("reserve", 300 * BTC - back - 1000)])  # fmt: skip
    for k in range(2):
        c.tx(f"dep{k}", [("payout", k)], [("D", back // 2 - 500)])
    c.cluster("mix", ["reserve", "mdC"])
    c.entity("mix", "Mixer Y", "service")
    c.cluster("ex", ["hot", "D"])
    c.entity("ex", "Coinharbor", "exchange")
    c.commit(home)
    return pays


def test_meetings_read_in_two_row_windows_equal_one_window(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pays = _world(home)
    whole = meetings("BTC", pays, 3, home)
    assert {m.reason for m in whole.meetings} == {THROUGH_MIXER, SPENT_TOGETHER}
    monkeypatch.setattr(link_utxo, "ranges", _two_rows)
    monkeypatch.setattr(mixer, "ranges", _two_rows)
    windowed = meetings("BTC", pays, 3, home)
    assert windowed == whole
