"""What the investigator sees of a deposit conflict: complaints imported and linked on the
two-gangs-one-mule chain of :mod:`.test_utxo_meetings`, then ``campaign show``."""

from __future__ import annotations

from pathlib import Path

from fundtrail.analysis.link.deposits import NOT_MERGED
from fundtrail.analysis.trace.testing import UtxoChain
from fundtrail.cases.service import campaign_show

from .linked import complaints, import_and_link
from .test_utxo_meetings import _mule_world


def test_campaign_show_lists_the_mule_deposit_both_gangs_reached(home: Path) -> None:
    c = UtxoChain()
    pays = _mule_world(c, [["RA", "M"], ["RA", "RB"], ["RB"], ["RB", "M"], ["RA"]])
    c.commit(home)
    paid_to = [c.address("s-coll")] * 10 + [c.address(f"r-v{i}") for i in range(10)]
    report = import_and_link(home, (complaints("BTC", pays, paid_to), None))
    assert (report.campaigns, report.deposit_conflicts) == (2, 1)
    shown = [campaign_show(cid, operator=True) for cid in report.created]
    sizes = sorted((len(d["payments"]), d["id"]) for d in shown)
    assert [n for n, _ in sizes] == [10, 10]  # the scam's 10 and the ransomware's 10
    for d in shown:
        (other,) = set(report.created) - {d["id"]}
        assert d["deposit_conflicts"] == [
            {"deposit": f"BTC:{c.address('M')}", "campaigns": [other], "why": NOT_MERGED}
        ]
        assert not any(lk["detail"].endswith(c.address("M")) for lk in d["links"])


def test_a_partner_sees_the_conflict_deposit_but_not_the_campaign_it_may_not_read(
    home: Path,
) -> None:
    c = UtxoChain()
    pays = _mule_world(c, [["RA", "M"], ["RA", "RB"], ["RB"], ["RB", "M"], ["RA"]])
    c.commit(home)
    paid_to = [c.address("s-coll")] * 10 + [c.address(f"r-v{i}") for i in range(10)]
    items = complaints("BTC", pays, paid_to)
    # the police report the scam's victims, the bank the ransomware's
    report = import_and_link(
        home, (items[:10], ("Police A", "law-enforcement")), (items[10:], ("Bank B", "bank"))
    )
    assert (report.campaigns, report.deposit_conflicts) == (2, 1)
    (theirs,) = _readable(report.created, "Bank B")  # the police's campaign is refused
    seen = campaign_show(theirs, "Bank B")
    (conflict,) = seen["deposit_conflicts"]
    assert conflict == {
        "deposit": f"BTC:{c.address('M')}",
        "campaigns": ["another campaign"],
        "why": NOT_MERGED,
    }
    (police_campaign,) = set(report.created) - {theirs}
    assert police_campaign not in str(seen)


def _readable(ids: list[str], org: str) -> list[str]:
    """The campaigns ``org`` may open (the others are refused as not found)."""
    from fundtrail.errors import NotFoundError

    out = []
    for cid in ids:
        try:
            campaign_show(cid, org)
        except NotFoundError:
            continue
        out.append(cid)
    return out
