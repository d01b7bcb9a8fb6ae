"""Campaigns, cash-outs and freeze requests scored against the simulator's ground truth.

For each world (``--worlds SEED:TXS,...``; default the two the cases guide shows) it
simulates the ``mixed`` scenario (an investment scam and a ransomware gang over a
background economy), ingests it, imports the partner tags (the simulator's tags.yaml
plus every exchange's hot wallets, as an alliance of exchanges would share them),
clusters, imports the complaints and links them (each timed), then traces every
campaign and plans the scam's freeze requests, and compares with ``truth.json``:

- how the scam's and the ransomware's complaints came out (one campaign each is right),
  whether the scam's total loss is exact, campaigns mixing two true campaigns;
- cash-out deposit addresses found among the true ones, per true campaign;
- the share of the scam's traced cash-out that reached its true exchanges, and of the
  amount its freeze requests ask for that sits on true deposit addresses.

The same steps the integration tests in tests/integration/cases/ assert bounds on
(what this prints is the figure; the tests keep it from sliding).

    python bench/cases_accuracy.py [--worlds 7:1500,11:4000] [--record]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
from _record import add_record_flag, recording  # noqa: E402


def partner_tags(sim: Path, truth: dict[str, Any]) -> Path:
    """tags.yaml plus every exchange hot wallet of the truth, as the exchanges would share."""
    tags = yaml.safe_load((sim / "tags.yaml").read_text())
    names = {e["id"]: e["name"] for e in truth["entities"]}
    known = {t["address"] for t in tags["tags"]}
    for addr, info in sorted(truth["addresses"].items()):
        if info["role"] == "hot_wallet" and addr not in known:
            tags["tags"].append(
                {
                    "address": addr,
                    "label": names[info["entity"]],
                    "category": "exchange",
                    "currency": "BTC",
                    "source": "alliance exchanges (bench)",
                    "confidence": "service_data",
                }
            )
    path = sim / "partner-tags.yaml"
    path.write_text(yaml.safe_dump(tags, sort_keys=False))
    return path


def score_world(seed: int, txs: int, work: Path) -> dict[str, str]:
    """One world: the table's column (row label -> cell)."""
    from fundtrail.analysis.cluster.service import run_clustering
    from fundtrail.cases.campaigns import list_campaigns
    from fundtrail.cases.casefile import trace_campaign
    from fundtrail.cases.freezing import campaign_freeze
    from fundtrail.cases.intake import import_complaints
    from fundtrail.cases.relink import link_campaigns
    from fundtrail.chains.bitcoin.ingest import ingest_paths
    from fundtrail.chains.simulate.service import run as simulate
    from fundtrail.intel.tag_import import import_tags
    from fundtrail.intelstore.db import open_store
    from fundtrail.model.identity import Identity
    from fundtrail.settings import reset_settings

    sim, ws = work / "sim", work / "ws"
    simulate("mixed", sim, seed=seed, txs=txs)
    truth = json.loads((sim / "truth.json").read_text())
    os.environ["FUNDTRAIL_HOME"] = str(ws)
    os.environ.pop("FUNDTRAIL_DATABASE_URL", None)
    reset_settings()
    ingest_paths([sim / "blocks"], home=ws)
    import_tags(partner_tags(sim, truth), home=ws)
    run_clustering("BTC", home=ws)
    operator = Identity.operator()
    store = open_store()
    t0 = time.perf_counter()
    rep = import_complaints(sim / "complaints.csv", store=store)
    t_import = time.perf_counter() - t0
    t0 = time.perf_counter()
    link_campaigns(store)
    t_link = time.perf_counter() - t0
    assert not rep.errors, rep.errors
    with store.read_session() as s:
        views = list_campaigns(s, operator)
    true_of = {k: c["id"] for c in truth["campaigns"] for k in c["complaint_ids"]}
    kinds = {v.id: Counter(true_of[c.ref or ""] for c in v.complaints) for v in views}
    by_kind = {c["kind"]: c for c in truth["campaigns"]}
    scam, ransom = by_kind["investment-scam"], by_kind["ransomware"]
    col: dict[str, str] = {}

    def holding(t: dict[str, Any]) -> list[tuple[str, int]]:
        return sorted(((cid, k[t["id"]]) for cid, k in kinds.items() if k[t["id"]]),
                      key=lambda x: -x[1])  # fmt: skip

    scam_in = holding(scam)
    (scam_id, scam_n), *_ = scam_in
    alone = len(kinds[scam_id]) == 1
    col["scam complaints in one campaign (and none of the ransomware's)"] = (
        f"{scam_n} of {len(scam['complaint_ids'])}" + ("" if alone else " (mixed)")
    )
    camp = next(v for v in views if v.id == scam_id)
    loss = ", ".join(f"{v:,} {'sat' if a == 'BTC' else a}" for a, v in camp.total_loss.items())
    col["scam total loss"] = (
        f"exact ({loss})" if camp.total_loss == scam["total_loss"] else f"{loss}, not exact"
    )
    ransom_in = holding(ransom)
    parts = " + ".join(str(n) for _, n in ransom_in)
    col["ransomware complaints"] = (
        f"{sum(n for _, n in ransom_in)} in {len(ransom_in)} campaign"
        + ("s" if len(ransom_in) > 1 else "")
        + (f" ({parts})" if len(ransom_in) > 1 else "")
    )
    col["campaigns mixing two true campaigns"] = str(sum(len(k) > 1 for k in kinds.values()))

    found_of: dict[str, Any] = {}
    for t, ids in ((scam, [scam_id]), (ransom, [cid for cid, _ in ransom_in])):
        found = [
            c for cid in ids for c in trace_campaign(store, cid, viewer=operator).view.cashouts
        ]
        found_of[t["id"]] = found
        true = {c["deposit_address"] for c in truth["cashouts"] if c["campaign"] == t["id"]}
        got = true & {c.deposit_address for c in found}
        label = "scam" if t is scam else "ransomware"
        col[f"{label} cash-out deposit addresses found"] = f"{len(got)} of {len(true)}"
    scam_out = [c for c in truth["cashouts"] if c["campaign"] == scam["id"]]
    true_exchanges = {c["exchange_name"] for c in scam_out}
    true_deposits = {c["deposit_address"] for c in scam_out}
    found = found_of[scam["id"]]
    traced_total = sum(c.amount for c in found)
    at_true = sum(c.amount for c in found if c.exchange in true_exchanges)
    col["scam traced cash-out at the true exchanges"] = f"{at_true / max(traced_total, 1):.1%}"
    _traced, plan = campaign_freeze(store, scam_id, viewer=operator)
    requested = [d for r in plan.requests for d in r.deposits]
    on_true = sum(d.amount for d in requested if d.deposit_address in true_deposits)
    asked = sum(d.amount for d in requested)
    col["freeze-request amount on true deposit addresses (scam)"] = f"{on_true / max(asked, 1):.1%}"
    col["import / link time (all complaints)"] = f"{t_import:.1f} s / {t_link:.1f} s"
    store.close()
    return col


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--worlds", default="7:1500,11:4000", help="SEED:TXS,... (simulated worlds)")
    add_record_flag(ap)
    args = ap.parse_args()
    worlds = [tuple(int(x) for x in w.split(":")) for w in args.worlds.split(",")]
    data = "simulated mixed worlds " + ", ".join(f"seed {s} / {t:,} txs" for s, t in worlds)
    with recording("cases_accuracy", args.record, data=data) as rec:
        cols = []
        for seed, txs in worlds:
            with tempfile.TemporaryDirectory(prefix="fundtrail-bench-cases-") as tmp:
                cols.append(score_world(seed, txs, Path(tmp)))
            print(f"seed {seed}, {txs:,} txs: done (load average {os.getloadavg()[0]:.1f})")
        head = "| | " + " | ".join(f"seed {s}, {t:,} txs" for s, t in worlds) + " |"
        lines = [head, "| --- |" + " --- |" * len(worlds)]
        lines += [f"| {row} | " + " | ".join(c[row] for c in cols) + " |" for row in cols[0]]
        table = "\n".join(lines)
        print(table)
        rec.table("accuracy", table)


if __name__ == "__main__":
    main()
