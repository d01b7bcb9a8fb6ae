"""On an EVM chain (USDT investment scam): token payments checked against the transfers
table, and a re-link after attribution merges campaigns without duplicating them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fundtrail.cases.campaigns import get_campaign, list_campaigns, open_case
from fundtrail.cases.intake import import_complaints
from fundtrail.cases.relink import link_campaigns
from fundtrail.intelstore.db import open_store
from fundtrail.intelstore.orgs import add_org
from fundtrail.model.identity import Identity

OPERATOR = Identity.operator()  # these tests check campaigns, not who sees them


@pytest.fixture
def evm_sim(home: Path, tmp_path: Path) -> Path:
    from fundtrail.chains.evm.ingest import ingest_files
    from fundtrail.chains.simulate.service import run

    sim = tmp_path / "sim"
    run("investment-scam", sim, seed=3, txs=1500, chain="evm")
    ingest_files(sim / "evm", chain="ETH", home=home)
    return sim


def test_usdt_scam_linked_after_attribution(evm_sim: Path, home: Path) -> None:
    from fundtrail.analysis.attribute import attribute
    from fundtrail.analysis.cluster.service import run_clustering
    from fundtrail.intel.tag_import import import_tags

    truth = json.loads((evm_sim / "truth.json").read_text())
    (scam,) = truth["campaigns"]
    store = open_store()
    rep = import_complaints(evm_sim / "complaints.csv", store=store, home=home)
    assert rep.imported == scam["victims"] and rep.errors == []
    first = link_campaigns(store, home=home)  # no attribution yet: by address only
    assert any("no attributed services" in n for n in first.notes)
    with store.read_session() as s:
        views = list_campaigns(s, OPERATOR, home=home)
        before = {v.id for v in views}
    assert len(before) == len(scam["collection_addresses"]) > 1
    smallest = min(views, key=lambda v: (len(v.complaints), v.id))  # will merge away
    with store.session() as s:
        add_org(s, "police", "law-enforcement")
        bank = add_org(s, "bank", "bank").id
        reference = open_case(s, smallest.id, owner="police", share_with=["bank"]).reference

    import_tags(evm_sim / "tags.yaml", home=home)
    run_clustering("ETH", home=home)
    attribute("ETH", home=home)
    second = link_campaigns(store, home=home)
    with store.read_session() as s:
        (camp,) = list_campaigns(s, OPERATOR, home=home)
        assert camp.id in before and set(second.merged) == before - {camp.id}
        for old in second.merged:  # retired ids still lead to the campaign
            assert get_campaign(s, old, OPERATOR, home=home).id == camp.id
    assert smallest.id in second.merged and camp.case_reference == reference  # case moved
    with store.read_session() as s:
        seen = get_campaign(s, camp.id, Identity(bank, "bank", "bank", "analyst", "cli"), home=home)
    assert all(c.pii_visible for c in seen.complaints)  # the case's orgs keep their view
    assert camp.total_loss == scam["total_loss"]
    assert set(camp.addresses) == {a.lower() for a in scam["collection_addresses"]}
    true_deposits = {c["deposit_address"].lower() for c in truth["cashouts"]}
    assert any(c.deposit_address in true_deposits for c in camp.cashouts)
    store.close()
