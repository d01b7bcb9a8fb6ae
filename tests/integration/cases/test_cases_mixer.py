"""Ransomware victims whose ransom went through a custodial mixer, on simulator truth.

The gang consolidates its victims' payments and sends some batches whole into a mixer,
which pays back (less its fee) from its reserve to fresh addresses; the gang deposits
those at its mules' exchange accounts. Those victims' money meets the others' only
after the mixer, so linking joins them by what went in and what came out, and says so.
Two gangs using the one mixer must stay two campaigns.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from cases_world import World, partner_tags

from fundtrail.analysis.link.mixer import THROUGH_MIXER
from fundtrail.cases.campaigns import get_campaign, list_campaigns
from fundtrail.cases.intake import import_complaints
from fundtrail.cases.relink import link_campaigns
from fundtrail.intelstore.db import open_store
from fundtrail.model.identity import Identity
from fundtrail.settings import reset_settings

OPERATOR = Identity.operator()


def _linked(csv: Path) -> list[dict]:
    store = open_store()
    rep = import_complaints(csv, store=store)
    assert rep.errors == []
    link_campaigns(store)
    with store.read_session() as s:
        views = list_campaigns(s, OPERATOR)
        out = [get_campaign(s, v.id, OPERATOR).to_dict() for v in views]
    store.close()
    return out


def _true(truth: dict, camp: dict) -> Counter[str]:
    of = {k: c["id"] for c in truth["campaigns"] for k in c["complaint_ids"]}
    return Counter(of[p["ref"]] for p in camp["payments"])


def test_mixed_ransoms_join_their_campaign_with_the_evidence(world: World, ws: Path) -> None:
    camps = _linked(world.complaints_csv)
    truth = world.truth
    assert len(camps) == len(truth["campaigns"])
    for t in truth["campaigns"]:
        (camp,) = [c for c in camps if _true(truth, c)[t["id"]]]
        assert _true(truth, camp) == Counter({t["id"]: len(t["complaint_ids"])})
        assert camp["total_loss"] == t["total_loss"]
    ransom = world.truth_campaign("ransomware")
    (camp,) = [c for c in camps if _true(truth, c)[ransom["id"]]]
    mixed = [lk for lk in camp["links"] if lk["reason"] == THROUGH_MIXER]
    assert mixed, "the ransomware's batches that went through the mixer joined otherwise"
    deposits = {c["deposit_address"] for c in truth["cashouts"] if c["campaign"] == ransom["id"]}
    roles = truth["addresses"]
    for lk in mixed:  # the evidence: an entry into the mixer, payouts reaching the gang's deposit
        assert " into unidentified service (cluster " in lk["detail"]
        assert "%) in " in lk["detail"] and " payouts " in lk["detail"]
        rested = lk["detail"].rsplit(" -> ", 1)[1].split(";")[0]
        assert rested in deposits and roles[rested]["role"] == "deposit"


@pytest.fixture(scope="module")
def two_gangs(tmp_path_factory: pytest.TempPathFactory) -> World:
    """Two ransomware gangs over one economy, both laundering part through its mixer."""
    from fundtrail.analysis.cluster.service import run_clustering
    from fundtrail.chains.bitcoin.ingest import ingest_paths
    from fundtrail.chains.simulate.btc.crime import Ransomware
    from fundtrail.chains.simulate.btc.economy import BOOTSTRAP_BLOCKS, BitcoinSim
    from fundtrail.chains.simulate.service import START_TIME

    base = tmp_path_factory.mktemp("two-gangs")
    sim_dir, ws = base / "sim", base / "ws"
    (sim_dir / "blocks").mkdir(parents=True)
    sim = BitcoinSim("ransomware", sim_dir, 11, 3000, START_TIME)
    b = sim.blocks_total
    sim.crimes.append(Ransomware(sim, 75, BOOTSTRAP_BLOCKS + b // 6, BOOTSTRAP_BLOCKS + b * 3 // 4))
    sim.run()
    sim.finish()
    truth = json.loads((sim_dir / "truth.json").read_text())
    assert [c["kind"] for c in truth["campaigns"]] == ["ransomware", "ransomware"]
    ingest_paths([sim_dir / "blocks"], home=ws)
    from fundtrail.intel.tag_import import import_tags

    import_tags(partner_tags(sim_dir, truth), home=ws)
    run_clustering("BTC", home=ws)
    return World(sim_dir, ws, truth)


def test_two_gangs_using_one_mixer_stay_two(
    two_gangs: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shutil

    home = tmp_path / "ws"
    shutil.copytree(two_gangs.template, home)
    monkeypatch.setenv("FUNDTRAIL_HOME", str(home))
    monkeypatch.delenv("FUNDTRAIL_DATABASE_URL", raising=False)
    reset_settings()
    try:
        camps = _linked(two_gangs.complaints_csv)
    finally:
        reset_settings()
    for camp in camps:  # no campaign holds both gangs' victims
        assert len(_true(two_gangs.truth, camp)) == 1, _true(two_gangs.truth, camp)
    biggest = {t["id"]: 0 for t in two_gangs.truth["campaigns"]}
    for camp in camps:
        ((gang, n),) = _true(two_gangs.truth, camp).items()
        biggest[gang] = max(biggest[gang], n)
    assert all(n >= 50 for n in biggest.values()), biggest  # of 75 each
