"""From complaints to a case on simulator ground truth (the `mixed` scenario)."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from cases_world import World

from fundtrail.cases.campaigns import get_campaign, list_campaigns
from fundtrail.cases.casefile import trace_campaign
from fundtrail.cases.freeze import write_freeze_requests
from fundtrail.cases.freezing import campaign_freeze
from fundtrail.cases.intake import import_complaints
from fundtrail.cases.relink import link_campaigns
from fundtrail.cases.views import CampaignView
from fundtrail.intelstore.db import IntelStore, open_store
from fundtrail.model.identity import Identity

OPERATOR = Identity.operator()  # these tests check campaigns, not who sees them


def _campaigns(store: IntelStore) -> list[CampaignView]:
    with store.read_session() as s:
        return list_campaigns(s, OPERATOR)


def _true_kinds(world: World, view: CampaignView) -> Counter[str]:
    truth = world.campaign_of()
    return Counter(truth[c.ref or ""] for c in view.complaints)


def test_scam_victims_form_one_campaign_with_exact_loss(world: World, ws: Path) -> None:
    store = open_store()
    rep = import_complaints(world.complaints_csv, store=store)
    assert rep.imported == len(world.rows()) and rep.errors == []
    link_campaigns(store)
    views = _campaigns(store)
    scam = world.truth_campaign("investment-scam")
    holding = [v for v in views if _true_kinds(world, v)[scam["id"]]]
    assert len(holding) == 1, "the scam's complaints are split"
    (camp,) = holding
    assert _true_kinds(world, camp) == Counter({scam["id"]: len(scam["complaint_ids"])})
    assert camp.total_loss == scam["total_loss"]
    assert camp.victims == scam["victims"]
    assert set(camp.addresses) == set(scam["collection_addresses"])
    for v in views:  # no campaign mixes two true campaigns
        assert len(_true_kinds(world, v)) == 1, _true_kinds(world, v)
    store.close()


def test_relinking_keeps_ids_and_grows_campaigns(world: World, ws: Path, tmp_path: Path) -> None:
    rows = (world.complaints_csv).read_text().splitlines()
    first, rest = tmp_path / "first.csv", tmp_path / "rest.csv"
    first.write_text("\n".join(rows[: len(rows) // 2]) + "\n")
    rest.write_text("\n".join([rows[0], *rows[len(rows) // 2 :]]) + "\n")
    store = open_store()
    import_complaints(first, store=store)
    link_campaigns(store)
    before = {v.id: {c.id for c in v.complaints} for v in _campaigns(store)}
    again = link_campaigns(store)
    assert again.created == [] and again.merged == {}
    assert {v.id: {c.id for c in v.complaints} for v in _campaigns(store)} == before
    import_complaints(rest, store=store)
    link_campaigns(store)
    after = {v.id: {c.id for c in v.complaints} for v in _campaigns(store)}
    for cid, members in before.items():  # every old campaign lives on (or merged into one)
        with store.read_session() as s:
            grown = get_campaign(s, cid, OPERATOR)
        assert members <= {c.id for c in grown.complaints}
    assert sum(len(m) for m in after.values()) == len(rows) - 1
    store.close()


def test_cashouts_and_freeze_requests_match_truth(world: World, ws: Path) -> None:
    store = open_store()
    import_complaints(world.complaints_csv, store=store)
    link_campaigns(store)
    scam = world.truth_campaign("investment-scam")
    (camp,) = [v for v in _campaigns(store) if _true_kinds(world, v)[scam["id"]]]
    traced = trace_campaign(store, camp.id, viewer=OPERATOR)
    truth_out = [c for c in world.truth["cashouts"] if c["campaign"] == scam["id"]]
    true_exchanges = {c["exchange_name"] for c in truth_out}
    true_deposits = {c["deposit_address"] for c in truth_out}
    found = traced.view.cashouts
    assert found, "no cash-out found"
    hot = {a for a, i in world.truth["addresses"].items() if i["role"] == "hot_wallet"}
    for c in found:  # a tagged hot wallet is never passed off as a customer deposit
        assert c.deposit_identified == (c.deposit_address not in hot)
    traced_total = sum(c.amount for c in found)
    assert true_exchanges <= {c.exchange for c in found}
    at_true = sum(c.amount for c in found if c.exchange in true_exchanges)
    assert at_true >= 0.9 * traced_total  # haircut spills a little elsewhere, no more
    found_deposits = {c.deposit_address for c in found}
    assert len(true_deposits & found_deposits) >= 0.75 * len(true_deposits)
    data = traced.to_dict()
    assert set(data["exchanges"]) == {c.exchange for c in found}
    _traced, plan = campaign_freeze(store, camp.id, viewer=OPERATOR)
    requested = [d for r in plan.requests for d in r.deposits]
    on_true = sum(d.amount for d in requested if d.deposit_address in true_deposits)
    assert on_true >= 0.9 * sum(d.amount for d in requested)  # the goal
    found_true = true_deposits & found_deposits
    asked = {d.deposit_address for d in requested}
    assert len(asked & found_true) >= 0.9 * len(found_true)
    for x in plan.left_out:  # every place left out says why
        assert x.reason

    out = ws / "case"
    out.mkdir()
    files = write_freeze_requests(plan, out, reference="FT-TEST", requester="police",
                                  now=datetime.now(UTC))  # fmt: skip
    by_exchange = {}
    for p in files:
        if p.suffix == ".json":
            doc = json.loads(p.read_text())
            by_exchange[doc["exchange"]] = doc
    assert set(by_exchange) == {r.exchange for r in plan.requests}
    for r in plan.requests:
        doc = by_exchange[r.exchange]
        assert doc["case_reference"] == "FT-TEST" and doc["totals"] == r.totals
        assert [d["deposit_address"] for d in doc["deposits"]] == [
            d.deposit_address for d in r.deposits
        ]
        amounts = [d["amount"] for d in doc["deposits"]]
        assert amounts == sorted(amounts, reverse=True)  # ranked
        for d in doc["deposits"]:
            assert {"share", "received", "fifo_amount", "method", "hops", "confidence"} <= set(d)
    store.close()


def _first_blocks(blk: Path, out: Path, keep: float) -> Path:
    """A blk file with the first ``keep`` share of the blocks (magic, length, block)."""
    data = blk.read_bytes()
    spans, pos = [], 0
    while pos + 8 <= len(data) and data[pos : pos + 4] == b"\xf9\xbe\xb4\xd9":
        size = int.from_bytes(data[pos + 4 : pos + 8], "little")
        spans.append((pos, pos + 8 + size))
        pos += 8 + size
    cut = spans[int(len(spans) * keep)][0]
    out.write_bytes(data[:cut])
    return out


def test_new_blocks_confirm_flagged_complaints(world: World, home: Path, tmp_path: Path) -> None:
    from fundtrail.chains.bitcoin.ingest import ingest_paths

    (blk,) = sorted((world.sim / "blocks").glob("blk*.dat"))
    ingest_paths([_first_blocks(blk, tmp_path / "blk00000.dat", 0.8)], home=home)
    store = open_store()
    rep = import_complaints(world.complaints_csv, store=store, keep_unverified=True, home=home)
    assert rep.imported == len(world.rows()) and 0 < rep.flagged < rep.imported
    first = link_campaigns(store, home=home)
    assert first.linked == rep.imported - rep.flagged
    ingest_paths([blk], home=home)  # the rest of the chain arrives
    second = link_campaigns(store, home=home)
    assert second.confirmed == rep.flagged and second.linked == rep.imported
    with store.read_session() as s:
        total = sum(len(v.complaints) for v in list_campaigns(s, OPERATOR, home=home))
    assert total == rep.imported
    store.close()
