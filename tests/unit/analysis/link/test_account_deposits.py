"""Customer deposit addresses on an account chain (EVM, TRON) decide together, as on
Bitcoin (:mod:`fundtrail.analysis.link.deposits`): a mule's deposit two gangs both paid
links nobody, deposits most of both gangs' money shares do, and a gang's own address
still joins whoever reaches it.

Every test writes a small chain with ``AccountChain`` (one tx per block, in the order
written) and asks :func:`meetings` which groups of payments met, and why. Values in wei.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from fundtrail.analysis.link.deposits import NOT_MERGED
from fundtrail.analysis.link.meet import SAME_CASHOUT, SAME_DOWNSTREAM, Payment, meetings
from fundtrail.analysis.trace.testing import AccountChain

from .linked import groups_of

ETH = 10**18
DEPOSITS = ["S1", "S2", "S3", "M", "RA", "RB"]


def _exchange(c: AccountChain) -> None:
    """A tagged exchange: its hot wallet pays customers (the service's own wallet); the
    deposit addresses only ever sweep into it."""
    c.transfer("hot-reserve", None, "hot", 500 * ETH, kind="genesis")
    c.transfer("wd1", "hot", "cust1", ETH)
    c.transfer("wd2", "hot", "cust2", ETH)
    c.cluster("ex", ["hot", *DEPOSITS])
    c.entity("ex", "Coinharbor", "exchange")


def _scam(c: AccountChain, asset: str = "ETH") -> list[Payment]:
    """10 victims pay the scam's one address (in ``asset``), which pays its deposits
    S1-S3 and M."""
    pays = []
    for i in range(10):
        c.transfer(f"fund-s{i}", None, f"w-s{i}", 3 * ETH, asset=asset, kind="genesis")
        txid = c.transfer(f"pay-s{i}", f"w-s{i}", "s-coll", 2 * ETH, asset=asset)
        pays.append(Payment(0, txid, None if asset == "ETH" else 0, 2 * ETH))
    for k, d in enumerate(["S1", "S2", "S3", "M"]):
        c.transfer(f"s-out{k}", "s-coll", d, 4 * ETH, asset=asset)
    return pays


def _ransomware(c: AccountChain, deposits: list[list[str]], first: int) -> list[Payment]:
    """One address per victim (groups ``first``...), each paying the deposits listed."""
    pays = []
    for i, to in enumerate(deposits):
        c.transfer(f"fund-v{i}", None, f"w-v{i}", 2 * ETH, kind="genesis")
        txid = c.transfer(f"pay-v{i}", f"w-v{i}", f"r-v{i}", ETH)
        pays.append(Payment(first + i, txid, None, ETH))
        for k, d in enumerate(to):
            c.transfer(f"r-v{i}-out{k}", f"r-v{i}", d, ETH // len(to))
    return pays


def _sweeps(c: AccountChain) -> None:
    c.transfer("mule-own", None, "w-mule", ETH, kind="genesis")
    c.transfer("mule-dep", "w-mule", "M", ETH)  # the mule also deposits his own coins
    for d in DEPOSITS:
        c.transfer(f"sweep-{d}", d, "hot", ETH)


# the ransomware's victims reach RA or RB (victim 0 both: one community), 3 and 7 also M
MULE = [["RA", "RB"], ["RB"], ["RA"], ["RB", "M"], ["RA"], ["RB"], ["RA"], ["RB", "M"], ["RA"], ["RB"]]  # fmt: skip
# ... or cash out at the scam's S1 and M too: most of its deposits are the scam's
SHARED = [["RA", "S1"], ["RA", "M"], ["RA"], ["RA", "S1"], ["RA", "M"], ["RA"], ["RA"], ["RA"], ["RA"], ["RA"]]  # fmt: skip


@pytest.mark.parametrize(("chain", "asset"), [("ETH", "ETH"), ("TRX", "ETH"), ("ETH", "USDT")])
def test_two_gangs_sharing_a_mules_deposit_stay_two_campaigns(
    home: Path, chain: str, asset: str
) -> None:
    # The scam cashes out at S1-S3 and M; the ransomware's victims meet only at its
    # deposits RA, RB (that is its evidence), and two of them at M too: M is one of the
    # scam's 4 deposits and one of the ransomware's 3, a mule both gangs used. A scam
    # paid in a token meets the ransomware's ether at M all the same: one account.
    c = AccountChain()
    _exchange(c)
    pays = _scam(c, asset) + _ransomware(c, MULE, first=1)
    _sweeps(c)
    c.commit(home, chain)
    result = meetings(chain, pays, 11, home)
    assert groups_of(11, result.meetings) == [{0}, set(range(1, 11))]
    assert c.address("M") not in {m.where for m in result.meetings}
    assert {m.where for m in result.meetings if m.reason == SAME_CASHOUT} == {
        c.address("RA"),
        c.address("RB"),
    }
    # the investigator is told why they were not merged: M, reached by both
    (clash,) = result.conflicts
    assert clash.where == c.address("M")
    assert clash.groups[0] == 0 and 1 <= clash.groups[1] <= 10  # the scam, the ransomware


@pytest.mark.parametrize(("chain", "asset"), [("ETH", "ETH"), ("TRX", "ETH"), ("ETH", "USDT")])
def test_two_gangs_sharing_most_deposits_are_one_campaign(
    home: Path, chain: str, asset: str
) -> None:
    # The ransomware cashes out at S1 and M too: 2 of its 3 deposits are the scam's, the
    # same accounts cash both out (one gang's mules), whatever asset each was paid in.
    c = AccountChain()
    _exchange(c)
    pays = _scam(c, asset) + _ransomware(c, SHARED, first=1)
    _sweeps(c)
    c.commit(home, chain)
    result = meetings(chain, pays, 11, home)
    assert groups_of(11, result.meetings) == [set(range(11))]
    assert result.conflicts == []


@pytest.mark.parametrize("chain", ["ETH", "TRX"])
def test_a_gang_paid_at_one_address_per_victim_is_one_campaign_at_its_deposits(
    home: Path, chain: str
) -> None:
    # No victim's money meets before the exchange: only the deposits hold them together.
    c = AccountChain()
    _exchange(c)
    pays = _ransomware(c, MULE, first=0)
    _sweeps(c)
    c.commit(home, chain)
    result = meetings(chain, pays, 10, home)
    assert groups_of(10, result.meetings) == [set(range(10))]
    assert {m.reason for m in result.meetings} == {SAME_CASHOUT}
    assert result.conflicts == []


@pytest.mark.parametrize("chain", ["ETH", "TRX"])
def test_gangs_consolidating_at_one_own_address_join_there(home: Path, chain: str) -> None:
    # Two small groups (1 payment each) whose addresses forward to one own address G,
    # which pays the deposit RA: G is strong evidence and joins them there, not at RA.
    c = AccountChain()
    _exchange(c)
    pays = _scam(c)
    for i in range(2):
        c.transfer(f"fund-x{i}", None, f"w-x{i}", 2 * ETH, kind="genesis")
        pays.append(Payment(1 + i, c.transfer(f"pay-x{i}", f"w-x{i}", f"x{i}", ETH), None, ETH))
        c.transfer(f"x{i}-fwd", f"x{i}", "G", ETH)
    c.transfer("g-out", "G", "RA", 2 * ETH)
    _sweeps(c)
    c.commit(home, chain)
    result = meetings(chain, pays, 3, home)
    assert groups_of(3, result.meetings) == [{0}, {1, 2}]
    assert [(m.reason, m.where) for m in result.meetings] == [(SAME_DOWNSTREAM, c.address("G"))]


def test_campaign_show_lists_the_mule_deposit_on_an_account_chain(home: Path) -> None:
    # What the investigator sees: the mule world's 20 complaints imported and linked are
    # two campaigns, each naming M (and the other campaign) as a deposit conflict.
    from fundtrail.cases.service import campaign_show

    from .linked import complaints, import_and_link

    c = AccountChain()
    _exchange(c)
    pays = _scam(c) + _ransomware(c, MULE, first=1)
    _sweeps(c)
    c.commit(home)
    paid_to = [c.address("s-coll")] * 10 + [c.address(f"r-v{i}") for i in range(10)]
    report = import_and_link(home, (complaints("ETH", pays, paid_to), None))
    assert (report.campaigns, report.deposit_conflicts) == (2, 1)
    shown = [campaign_show(cid, operator=True) for cid in report.created]
    assert sorted(len(d["payments"]) for d in shown) == [10, 10]
    for d in shown:
        (other,) = set(report.created) - {d["id"]}
        assert d["deposit_conflicts"] == [
            {"deposit": f"ETH:{c.address('M')}", "campaigns": [other], "why": NOT_MERGED}
        ]
