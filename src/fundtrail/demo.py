"""The demo story on the embedded default: one simulated investment scam, end to end.

A national cybercrime unit receives complaints from victims who sent bitcoin from one
exchange to "third-party wallets". The demo ingests the (simulated) chain, attributes
exchange wallets from a partner's TagPack, clusters addresses, links the complaints into
a campaign, traces the money to the exchanges where it was cashed out, writes the case
file with freeze requests, shares the campaign's addresses with the alliance, and shows
an exchange screening a deposit against them. Each step calls the same service the CLI
and the API call.

``chain="tron"`` tells the same story on TRON, where most scam money moves: victims send
USDT (TRC-20), the simulated chain is served by the local java-tron stub (no TRON node can
be installed here) and ingested over its HTTP API as from a real node.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fundtrail.settings import reset_settings

POLICE = "National Cybercrime Unit"
EXCHANGES = ("Coinharbor", "Bitvane")


@dataclass
class DemoResult:
    home: Path
    report_dir: Path
    campaign: dict[str, Any]
    cashouts: list[dict[str, Any]]
    screening: dict[str, Any] | None
    police_key: str
    exchange_key: str
    steps: list[tuple[str, float, str]] = field(default_factory=list)


def run_demo(
    out: Path,
    *,
    txs: int = 6000,
    seed: int = 7,
    chain: str = "btc",
    say: Callable[[str, float, str], None] | None = None,
) -> DemoResult:
    """Run the whole story into ``out`` (recreated) on ``chain`` (btc or tron). ``say``
    hears each finished step."""
    from fundtrail.errors import InvalidInputError

    if chain not in ("btc", "tron"):
        raise InvalidInputError(f"the demo runs on btc or tron, not {chain!r}", field="chain")
    code = "TRX" if chain == "tron" else "BTC"
    out = Path(out).resolve()
    if out.exists():
        shutil.rmtree(out)
    home = out / "workspace"
    os.environ["FUNDTRAIL_HOME"] = str(home)
    os.environ.pop("FUNDTRAIL_DATABASE_URL", None)
    reset_settings()
    steps: list[tuple[str, float, str]] = []

    def step(name: str, fn: Callable[[], str]) -> None:
        t0 = time.perf_counter()
        detail = fn()
        steps.append((name, time.perf_counter() - t0, detail))
        if say:
            say(name, steps[-1][1], detail)

    from fundtrail.analysis.cluster.service import run_clustering
    from fundtrail.cases import service as cases
    from fundtrail.chains.bitcoin.ingest import ingest_paths
    from fundtrail.chains.simulate.service import run as simulate
    from fundtrail.intel.tag_import import import_tags

    sim = out / "simulation"
    step(
        "simulate",
        lambda: _simulated(simulate("investment-scam", sim, seed=seed, txs=txs, chain=chain)),
    )
    if chain == "tron":
        step("ingest", lambda: _ingested_tron(sim, home))
    else:
        step("ingest", lambda: _ingested(ingest_paths([sim / "blocks"], home=home)))
    step("tags", lambda: _tags(sim, home, import_tags, code))
    step("cluster", lambda: _clustered(run_clustering(code, home=home), home, code))
    police_key, exchange_key = _orgs()
    linked: dict[str, Any] = {}
    step(
        "complaints",
        lambda: _complaints(cases.import_and_link(sim / "complaints.csv", org=POLICE), linked),
    )
    campaign = max(cases.campaigns_list(POLICE), key=lambda c: c["complaints"])
    traced: dict[str, Any] = {}
    step("trace", lambda: _traced(cases.campaign_trace(campaign["id"], org=POLICE), traced))
    step("truth", lambda: _checked(sim, traced))
    report_dir = out / "report"
    step("report", lambda: _reported(cases.campaign_report(campaign["id"], report_dir, org=POLICE)))
    step("share", lambda: _shared(report_dir / "latest" / "indicators.stix.json"))
    screening: dict[str, Any] = {}
    step("screen", lambda: _screened(home, traced, screening, code))
    campaign = cases.campaign_show(campaign["id"], POLICE)
    return DemoResult(
        home=home,
        report_dir=report_dir / "latest",
        campaign=campaign,
        cashouts=campaign["cashouts"],
        screening=screening or None,
        police_key=police_key,
        exchange_key=exchange_key,
        steps=steps,
    )


def _tags(sim: Path, home: Path, import_tags: Callable[..., Any], chain: str) -> str:
    """A partner's TagPack, plus each alliance exchange naming its own hot wallets.

    An exchange knows its own wallets; the simulation's ground truth stands in for that
    knowledge here (only hot-wallet addresses of exchanges, nothing about the crime).
    """
    import csv
    import json

    partner = import_tags(sim / "tags.yaml", home=home).imported
    truth = json.loads((sim / "truth.json").read_text())
    names = {e["id"]: e["name"] for e in truth["entities"] if e["kind"] == "exchange"}
    own = sim / "exchange-hot-wallets.csv"
    with own.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["address", "label", "category", "source", "confidence"])
        for address, info in truth["addresses"].items():
            if info.get("role") == "hot_wallet" and info.get("entity") in names:
                w.writerow([address, names[info["entity"]], "exchange", "own wallets", 100])
    shared = import_tags(own, "csv", home=home, chain=chain).imported
    return f"{partner} tags from a partner's TagPack, {shared} hot wallets named by exchanges"


def _simulated(s: Any) -> str:
    return (
        f"{s.blocks:,} blocks, {s.txs:,} txs, {s.complaints} victims' complaints, "
        f"{s.cashouts} cash-outs (ground truth kept aside)"
    )


def _ingested(r: Any) -> str:
    return f"{r.blocks_added:,} blocks, {r.txs_added:,} txs into the chain store"


def _ingested_tron(sim: Path, home: Path) -> str:
    """The simulated TRON chain served by the java-tron stub, ingested over its HTTP API."""
    import json

    from fundtrail.chains.tron.ingest import ingest_rpc
    from fundtrail.chains.tron.stub import NodeData, TronStub

    node = NodeData.from_json(json.loads((sim / "tron" / "node.json").read_text()))
    with TronStub(node) as stub:
        r = ingest_rpc(stub.url, home=home)
    return (
        f"{r.blocks:,} blocks, {r.txs:,} txs, {r.transfers:,} transfers (TRX, USDT, burned "
        "fees) over the java-tron HTTP API of a local stub serving the simulated chain"
    )


def _clustered(report: Any, home: Path, chain: str = "BTC") -> str:
    from fundtrail.analysis.attribution import attribution
    from fundtrail.chainstore.store import ChainStore

    d = report.to_dict()
    att = attribution(ChainStore(chain, home), home=home)
    services = int(att.entities.service.sum())
    return (
        f"{d.get('addresses', 0):,} addresses into {d.get('clusters', 0):,} clusters; "
        f"{services:,} service clusters recognised (tags, deposit sweeps)"
    )


def _orgs() -> tuple[str, str]:
    from fundtrail.intelstore.db import open_store
    from fundtrail.intelstore.keys import create_key
    from fundtrail.intelstore.orgs import add_org

    store = open_store()
    try:
        with store.session() as s:
            add_org(s, POLICE, "law-enforcement", actor="demo")
            for name in EXCHANGES:
                add_org(s, name, "exchange", actor="demo")
            police = create_key(s, POLICE, "admin", label="demo", actor="demo").key
            exchange = create_key(s, EXCHANGES[0], "analyst", label="demo", actor="demo").key
        return police, exchange
    finally:
        store.close()


def _complaints(result: dict[str, Any], into: dict[str, Any]) -> str:
    into.update(result)
    imp = result["import"]
    link = result.get("link", {})
    return (
        f"{imp.get('imported', 0)} complaints verified against the chain, "
        f"{len(imp.get('problems', []))} refused; {link.get('campaigns', '?')} campaign(s) linked"
    )


def _traced(result: dict[str, Any], into: dict[str, Any]) -> str:
    into.update(result)
    outs = result.get("cashouts", [])
    exchanges = sorted({c["exchange"] for c in outs})
    return f"{len(outs)} cash-outs at {len(exchanges)} exchange(s): {', '.join(exchanges)}"


def _checked(sim: Path, traced: dict[str, Any]) -> str:
    """The trace against the simulation's ground truth, opened only now (the analysis never
    reads it): per exchange where the gang cashed out, what it truly paid in, the share of
    that the trace put on the true deposit addresses, and whether they top the list."""
    import json

    from fundtrail.cases.freeze import share_text
    from fundtrail.model import display

    truth = json.loads((sim / "truth.json").read_text())
    # per (exchange, asset): USDT and the TRX a swap made of part of it are never added up
    true_in: dict[tuple[str, str], dict[str, int]] = {}
    for c in truth["cashouts"]:
        per = true_in.setdefault((c["exchange_name"], c.get("asset") or "BTC"), {})
        per[c["deposit_address"]] = per.get(c["deposit_address"], 0) + int(c["amount"])
    found: dict[tuple[str, str], dict[str, int]] = {}
    for c in traced.get("cashouts", []):
        per = found.setdefault((c["exchange"], c.get("asset") or "BTC"), {})
        key = c["deposit_address"] or c["address"]
        per[key] = per.get(key, 0) + int(c["amount"])
    parts, on_top = [], True
    for (exchange, asset), deposits in sorted(
        true_in.items(), key=lambda kv: (-sum(kv[1].values()), kv[0])
    ):
        total = sum(deposits.values())
        got = found.get((exchange, asset), {})
        on_true = sum(v for d, v in got.items() if d in deposits)
        top = sorted(got, key=lambda d: -got[d])[: len(deposits)]
        on_top = on_top and set(top) == set(deposits)
        shown = display.amount(total, asset, chain=truth.get("chain"))
        parts.append(f"{exchange} {share_text(on_true, total)} of {shown}")
    return (
        "opened now: the trace put at the gang's true deposit addresses "
        + ", ".join(parts)
        + (" (those addresses top each exchange's list)" if on_top else "")
    )


def shown(path: Path | str) -> str:
    """``path`` as a person typed it: relative to the current folder when inside it."""
    try:
        return str(Path(path).resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _reported(result: dict[str, Any]) -> str:
    files, where = len(result["files"]), shown(result["out"])
    return f"case {result['case_reference']}: {files} files in {where}"


def _shared(bundle: Path) -> str:
    from fundtrail.intel.formats import read_file
    from fundtrail.intel.indicators import IndicatorService
    from fundtrail.intelstore.db import open_store
    from fundtrail.intelstore.orgs import org_identity
    from fundtrail.model.tlp import TLP

    records = read_file(bundle, "stix", tlp=TLP.AMBER).records
    for rec in records:
        rec.tlp = TLP.AMBER
        rec.share_with = list(EXCHANGES)
    store = open_store()
    try:
        with store.read_session() as s:
            who = org_identity(s, POLICE, "analyst")
        summary = IndicatorService(store).import_records(who, records, source="demo case file")
    finally:
        store.close()
    partners = ", ".join(EXCHANGES)
    return (
        f"{len(records)} campaign indicators shared TLP:AMBER with {partners} "
        f"({summary.added} new, {summary.updated} updated)"
    )


def _screened(home: Path, traced: dict[str, Any], into: dict[str, Any], chain: str) -> str:
    from fundtrail.intelstore.db import open_store
    from fundtrail.intelstore.orgs import org_identity
    from fundtrail.screen.build import build_index
    from fundtrail.screen.service import screen
    from fundtrail.screen.verdicts import ScreenItem

    store = open_store()
    try:
        built = build_index(home, intel=store)
        outs = traced.get("cashouts", [])
        if not outs:
            return f"index {built['version']}: {built['addresses']:,} addresses"
        target = outs[0]["deposit_address"]
        with store.read_session() as s:
            who = org_identity(s, EXCHANGES[0], "analyst")
        answer = screen(
            store,
            home,
            [ScreenItem(chain, target, "deposit")],
            who=who,
        )["items"][0]
        into.update(answer)
        return (
            f"index of {built['addresses']:,} addresses; {EXCHANGES[0]} screening deposit "
            f"address {target}: {str(answer['risk']).upper()} (score {answer['score']})"
        )
    finally:
        store.close()
