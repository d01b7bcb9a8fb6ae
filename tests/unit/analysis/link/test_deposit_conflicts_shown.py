"""What the investigator sees of a deposit conflict: complaints imported and linked on the
two-gangs-one-mule chain of :mod:`.test_utxo_meetings`, then ``campaign show``."""

from __future__ import annotations

from pathlib import Path

from fundtrail.analysis.trace.testing import UtxoChain
from fundtrail.cases.complaints import ComplaintInput
from fundtrail.cases.intake import add_complaints
from fundtrail.cases.relink import link_campaigns
from fundtrail.cases.service import campaign_show
from fundtrail.intelstore.db import open_store

from .test_utxo_meetings import _mule_world


def test_campaign_show_lists_the_mule_deposit_both_gangs_reached(home: Path) -> None:
    c = UtxoChain()
    pays = _mule_world(c, [["RA", "M"], ["RA", "RB"], ["RB"], ["RB", "M"], ["RA"]])
    c.commit(home)
    paid_to = [c.address("s-coll")] * 10 + [c.address(f"r-v{i}") for i in range(10)]
    items = [
        ComplaintInput(f"victim {i}", "BTC", p.txid, 0, to, p.amount, "BTC", complaint_id=f"C{i}")
        for i, (p, to) in enumerate(zip(pays, paid_to, strict=True))
    ]
    store = open_store()
    try:
        assert add_complaints(store, items, org_id=None, home=home).imported == 20
        report = link_campaigns(store, home=home)
    finally:
        store.close()
    assert (report.campaigns, report.deposit_conflicts) == (2, 1)
    shown = [campaign_show(cid, operator=True) for cid in report.created]
    sizes = sorted((len(d["payments"]), d["id"]) for d in shown)
    assert [n for n, _ in sizes] == [10, 10]  # the scam's 10 and the ransomware's 10
    for d in shown:
        (other,) = set(report.created) - {d["id"]}
        assert d["deposit_conflicts"] == [
            {"deposit": f"BTC:{c.address('M')}", "campaigns": [other]}
        ]
        assert not any(lk["detail"].endswith(c.address("M")) for lk in d["links"])


def test_a_partner_sees_the_conflict_deposit_but_not_the_campaign_it_may_not_read(
    home: Path,
) -> None:
    from fundtrail.intelstore.orgs import add_org

    c = UtxoChain()
    pays = _mule_world(c, [["RA", "M"], ["RA", "RB"], ["RB"], ["RB", "M"], ["RA"]])
    c.commit(home)
    paid_to = [c.address("s-coll")] * 10 + [c.address(f"r-v{i}") for i in range(10)]
    items = [
        ComplaintInput(f"victim {i}", "BTC", p.txid, 0, to, p.amount, "BTC", complaint_id=f"C{i}")
        for i, (p, to) in enumerate(zip(pays, paid_to, strict=True))
    ]
    store = open_store()
    try:
        with store.session() as s:
            police = add_org(s, "Police A", "law-enforcement").id
            bank = add_org(s, "Bank B", "bank").id
        # the police report the scam's victims, the bank the ransomware's
        add_complaints(store, items[:10], org_id=police, home=home)
        add_complaints(store, items[10:], org_id=bank, home=home)
        report = link_campaigns(store, home=home)
    finally:
        store.close()
    assert (report.campaigns, report.deposit_conflicts) == (2, 1)
    (theirs,) = _readable(report.created, "Bank B")  # the police's campaign is refused
    seen = campaign_show(theirs, "Bank B")
    (conflict,) = seen["deposit_conflicts"]
    assert conflict == {"deposit": f"BTC:{c.address('M')}", "campaigns": ["another campaign"]}
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
