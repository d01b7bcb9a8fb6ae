"""Score forward traces from complaints against a simulated chain's ground truth.

Two numbers per scenario and method:

* **recall**: of the true cash-out deposit addresses (``truth.json`` ``cashouts``), the
  share that the trace names as the ``deposit_address`` of a cash-out endpoint;
* **share**: of the criminal proceeds (the complaints' payments, where the trace starts),
  the share the trace attributes to true cash-out deposit addresses.

Poison marks whole outputs, so its "share" can exceed 1; it is capped at 1 and read as
an upper bound.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import yaml

from fundtrail.analysis.trace.request import TraceRequest
from fundtrail.analysis.trace.result import TraceResult
from fundtrail.analysis.trace.service import read_complaints, trace


@dataclass(frozen=True, slots=True)
class Score:
    scenario: str
    method: str
    recall: float
    share: float
    deposits_true: int
    deposits_found: int
    proceeds: int
    at_true_deposits: int
    truth_share: float  # what truth.json lists as cashed out, over the proceeds (for scale)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def score(result: TraceResult, truth: dict[str, Any], method: str) -> Score:
    true = {c["deposit_address"] for c in truth["cashouts"]}
    cash = result.cash_outs()
    found = {e.deposit_address for e in cash} & true
    hit = sum(e.amount for e in cash if e.deposit_address in true)
    proceeds = sum(result.summary["start_amount"].values())
    return Score(
        scenario=str(truth.get("scenario", "?")),
        method=method,
        recall=len(found) / len(true) if true else 1.0,
        share=min(hit / proceeds, 1.0) if proceeds else 0.0,
        deposits_true=len(true),
        deposits_found=len(found),
        proceeds=proceeds,
        at_true_deposits=hit,
        truth_share=sum(int(c["amount"]) for c in truth["cashouts"]) / proceeds if proceeds else 0,
    )


def evaluate(sim_dir: Path, method: str, *, home: Path | None = None, hops: int = 10) -> Score:
    """Trace forward from ``sim_dir/complaints.csv`` and score against ``truth.json``."""
    truth = json.loads((sim_dir / "truth.json").read_text())
    chain, starts, amounts = read_complaints(sim_dir / "complaints.csv")
    request = TraceRequest.parse(chain, starts, method=method, hops=hops, amounts=amounts)
    result = trace(request, home=home)
    return score(result, truth, method)


def exchange_tagpack(truth: dict[str, Any], path: Path) -> Path:
    """A TagPack naming every exchange hot wallet of the simulation (a complete tag base,
    as a mature alliance would hold), to separate tracing errors from missing tags."""
    names = {e["id"]: e["name"] for e in truth["entities"]}
    chain = str(truth.get("chain", "btc")).upper()
    tags = [
        {"address": a, "label": names[v["entity"]], "category": "exchange",
         "source": "simulation truth", "currency": chain, "network": chain,
         "confidence": "service_data"}
        for a, v in truth["addresses"].items()
        if v.get("role") == "hot_wallet"
    ]  # fmt: skip
    doc = {"title": "Exchange hot wallets (simulation truth)", "creator": "fundtrail",
           "is_public": True, "lastmod": "2024-01-01", "tags": tags}  # fmt: skip
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return path


def prepare(
    scenario: str,
    sim_dir: Path,
    home: Path,
    *,
    seed: int = 1,
    txs: int = 3000,
    all_exchanges: bool = True,
    chain: str = "btc",
) -> dict[str, Any]:
    """Simulate, ingest, import tags and cluster: a workspace ready to trace."""
    from fundtrail.analysis.cluster.service import run_clustering
    from fundtrail.chains.bitcoin.ingest import ingest_paths
    from fundtrail.chains.evm.ingest import ingest_files
    from fundtrail.chains.simulate import run
    from fundtrail.intel.tag_import import import_tags

    run(scenario, sim_dir, seed=seed, txs=txs, chain=chain)
    truth: dict[str, Any] = json.loads((sim_dir / "truth.json").read_text())
    code = "BTC" if chain == "btc" else "ETH"
    if chain == "btc":
        ingest_paths([sim_dir / "blocks"], home=home)
    else:
        ingest_files(sim_dir / "evm", chain=code, home=home)
    import_tags(sim_dir / "tags.yaml", home=home)
    if all_exchanges:
        import_tags(exchange_tagpack(truth, sim_dir / "exchanges.yaml"), home=home)
    run_clustering(code, home=home)
    return truth
