"""On an EVM chain (USDT investment scam): token payments checked against the transfers
table, linked into one campaign by the chain walk, and a merge that carries the case."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fundtrail.cases.campaigns import get_campaign, list_campaigns, open_case
from fundtrail.cases.casefile import trace_campaign
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


def test_usdt_scam_is_one_campaign_and_a_merge_carries_its_case(
    evm_sim: Path, home: Path, tmp_path: Path
) -> None:
    """Victims pay 3-5 collection addresses; the gang consolidates them: one campaign,
    linked from the chain alone (no tags needed). Complaints of one address first, with
    a case opened on them; the rest then merge in and the case (and its orgs) follow."""
    from fundtrail.analysis.cluster.service import run_clustering
    from fundtrail.intel.tag_import import import_tags

    truth = json.loads((evm_sim / "truth.json").read_text())
    (scam,) = truth["campaigns"]
    lines = (evm_sim / "complaints.csv").read_text().splitlines()
    first_address = lines[1].split(",")[6]
    part = [ln for ln in lines[1:] if ln.split(",")[6] == first_address]
    rest = [ln for ln in lines[1:] if ln.split(",")[6] != first_address]
    (tmp_path / "a.csv").write_text("\n".join([lines[0], *part]) + "\n")
    (tmp_path / "b.csv").write_text("\n".join([lines[0], *rest]) + "\n")
    store = open_store()
    import_complaints(tmp_path / "a.csv", store=store, home=home)
    link_campaigns(store, home=home)
    with store.read_session() as s:
        (small,) = list_campaigns(s, OPERATOR, home=home)
    with store.session() as s:
        add_org(s, "police", "law-enforcement")
        bank = add_org(s, "bank", "bank").id
        reference = open_case(s, small.id, owner="police", share_with=["bank"]).reference
    rep = import_complaints(tmp_path / "b.csv", store=store, home=home)
    assert rep.imported == len(rest) and rep.errors == []
    second = link_campaigns(store, home=home)
    with store.read_session() as s:
        (camp,) = list_campaigns(s, OPERATOR, home=home)
        assert get_campaign(s, small.id, OPERATOR, home=home).id == camp.id  # old id leads there
    assert camp.id == small.id or second.merged == {small.id: camp.id}
    assert camp.case_reference == reference  # the case moved with its complaints
    with store.read_session() as s:
        seen = get_campaign(s, camp.id, Identity(bank, "bank", "bank", "analyst", "cli"), home=home)
    assert all(c.pii_visible for c in seen.complaints)  # the case's orgs keep their view
    assert camp.total_loss == {f"ETH/{k}": v for k, v in scam["total_loss"].items()}  # asset keys
    assert len(camp.complaints) == scam["victims"]
    assert set(camp.addresses) == {a.lower() for a in scam["collection_addresses"]}
    import_tags(evm_sim / "tags.yaml", home=home)
    run_clustering("ETH", home=home)
    trace_campaign(store, camp.id, viewer=OPERATOR, home=home)
    with store.read_session() as s:
        camp = get_campaign(s, camp.id, OPERATOR, home=home)
    true_deposits = {c["deposit_address"].lower() for c in truth["cashouts"]}
    assert any(c.deposit_address in true_deposits for c in camp.cashouts)
    store.close()
