"""The TRON USDT scam end to end, as a user runs it: simulate -> ingest over the node API
(the stub serving the simulator's answers) -> tags (TagPacks with currency TRX, OFAC's TRX
list) -> complaints in USDT -> campaign -> trace -> freeze requests and report ->
screening -> web pages. Totals exact to the token unit (0.000001 USDT)."""

from __future__ import annotations

import csv
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from fundtrail.chains.tron.stub import NodeData, TronStub
from fundtrail.cli.main import app
from fundtrail.intelstore.db import open_store
from fundtrail.intelstore.keys import create_key
from fundtrail.server.app import create_app
from fundtrail.settings import Settings

OFAC_TRX = "ofac-sanctioned-addresses/sanctioned_addresses_TRX.json"


def ok(*args: str) -> str:
    res = CliRunner().invoke(app, list(args), env={"COLUMNS": "200"})
    assert res.exit_code == 0, (args, res.output[-2000:], res.exception)
    return res.output


def first_json(text: str) -> Any:
    """The JSON a command printed (notes on stderr, such as a relink, are left aside)."""
    start = min(i for i in (text.find("{"), text.find("[")) if i >= 0)
    return json.JSONDecoder().raw_decode(text[start:])[0]


def usdt(units: int) -> str:
    """How a USDT amount in base units reads: 979414081174 -> 979,414.081174 USDT."""
    whole, frac = divmod(units, 10**6)
    return f"{whole:,}" + (f".{frac:06d}".rstrip("0") if frac else "") + " USDT"


def collection_of(shared: dict[str, Any]) -> set[str]:
    return {x if isinstance(x, str) else x.get("address", "") for x in
            shared["indicators"]["collection"]}  # fmt: skip


def _second_partner_pack(truth: dict[str, Any], known: set[str], path: Path) -> Path:
    """The other exchanges' hot wallets, as a second partner would share them."""
    names = {e["id"]: e["name"] for e in truth["entities"]}
    tags = [
        {"address": a, "label": names[i["entity"]], "category": "exchange",
         "currency": "TRX", "confidence": "service_data"}
        for a, i in truth["addresses"].items()
        if i["role"] == "hot_wallet" and a not in known
    ]  # fmt: skip
    pack = {"title": "Exchange hot wallets (second partner)", "creator": "partner 2",
            "is_public": True, "lastmod": "2024-01-01", "tags": tags}  # fmt: skip
    path.write_text(yaml.safe_dump(pack, sort_keys=False))
    return path


@pytest.mark.realdata
def test_tron_usdt_scam_from_simulation_to_freeze_requests_and_screening(
    home: Path, tmp_path: Path, shared_data: Path
) -> None:
    sim = tmp_path / "sim"
    ok("simulate", "--scenario", "investment-scam", "--chain", "tron", "--txs", "1500",
       "--seed", "3", "--out", str(sim), "--quiet")  # fmt: skip
    truth = json.loads((sim / "truth.json").read_text())
    (scam,) = truth["campaigns"]
    node = NodeData.from_json(json.loads((sim / "tron" / "node.json").read_text()))
    with TronStub(node, api_key="k") as stub:
        report = first_json(ok("ingest", "tron", "--rpc", stub.url, "--api-key", "k", "--json"))
    assert report["blocks"] == len(node.blocks)

    # tags: the simulator's TagPack, a second partner's, OFAC's TRX addresses
    first = yaml.safe_load((sim / "tags.yaml").read_text())["tags"]
    assert {t["currency"] for t in first} == {"TRX"}
    ok("tags", "import", str(sim / "tags.yaml"))
    second = _second_partner_pack(truth, {t["address"] for t in first}, tmp_path / "p2.yaml")
    ok("tags", "import", str(second))
    ofac = first_json(ok("tags", "import", str(shared_data / OFAC_TRX), "--format", "ofac",
                         "--json"))  # fmt: skip
    assert ofac["imported"] == len(json.loads((shared_data / OFAC_TRX).read_text()))
    ok("cluster", "--chain", "TRX")

    # complaints in USDT -> one campaign with the loss exact to the token unit
    rows = list(csv.DictReader((sim / "complaints.csv").open()))
    ok("org", "add", "Police", "--kind", "law-enforcement")  # the police take the complaints
    imported = first_json(
        ok("complaints", "import", str(sim / "complaints.csv"), "--org", "Police", "--json")
    )
    assert imported["import"]["errors"] == []
    link = imported["link"]  # importing links at once
    assert link["complaints_linked"] == len(rows) and link["campaigns"] == 1
    (cid,) = link["created"]
    camp = first_json(ok("campaign", "show", cid, "--json", "--operator"))
    loss = sum(int(r["amount"]) for r in rows)
    assert camp["total_loss"] == {"TRX/USDT": loss} == {"TRX/USDT": scam["total_loss"]["USDT"]}
    assert camp["victims"] == scam["victims"]
    assert set(camp["addresses"]) == set(scam["collection_addresses"])

    # trace: the USDT reaches deposit addresses at the exchanges the gang used; the part the
    # gang swapped to TRX at the pool is followed as TRX to the exchanges it was cashed at
    traced = first_json(ok("campaign", "trace", cid, "--json", "--operator"))
    found = traced["cashouts"]
    assert {c["asset"] for c in found} == {"USDT", "TRX"} and {c["chain"] for c in found} == {"TRX"}
    swaps = truth["swaps"]
    assert swaps and {c["via"] for c in truth["cashouts"]} == {"peel", "swap"}
    # the gang's peel chains run long: followed far enough, every swap is found
    deep = first_json(ok("campaign", "trace", cid, "--hops", "50", "--json", "--operator"))
    (summary,) = deep["summary"].values()
    seen = {x["txid"]: x for x in summary["swaps"]}
    assert {x["txid"] for x in swaps} <= seen.keys()
    for x in swaps:  # each of the gang's swaps, at the transaction's own rate
        got = seen[x["txid"]]
        assert got["pool"] == x["pool"] and got["address"] == x["address"]
        assert got["sold"]["paid_in"] == x["sold"]["amount"]
        (bought,) = got["bought"]
        assert bought["asset"] == "TRX" and bought["paid_back"] == x["bought"]["amount"]
        assert (
            bought["amount"] == got["sold"]["amount"] * x["bought"]["amount"] // x["sold"]["amount"]
        )
        assert got["sold"]["amount"] <= x["sold"]["amount"]
    assert summary["totals"]["USDT"]["swapped"] == sum(x["sold"]["amount"] for x in seen.values())
    assert summary["converted"]["TRX"] == sum(b["amount"] for x in seen.values()
                                              for b in x["bought"])  # fmt: skip
    (graph,) = deep["graph"].values()
    swap_edges = [e for e in graph["edges"] if e.get("swap")]  # the hops marked as swaps
    assert {e["asset"] for e in swap_edges} == {"USDT", "TRX"}
    trx_true: dict[str, int] = Counter()  # a mule's deposit address is used again
    for c in truth["cashouts"]:
        if c["via"] == "swap":
            trx_true[c["deposit_address"]] += c["amount"]
    trx_found: dict[str, int] = Counter()
    for c in deep["cashouts"]:
        if c["asset"] == "TRX":
            trx_found[c["deposit_address"]] += c["amount"]
    assert set(trx_true) <= set(trx_found)
    for dep in trx_true:  # the swapper's gas TRX dilutes by a hair
        assert 0.99 * trx_true[dep] <= trx_found[dep] <= trx_true[dep], (dep, trx_true, trx_found)
    # backward from a TRX cash-out: through the gang's swap back into the USDT that paid
    # for the TRX, and on to the victims' withdrawals from their exchanges (the sources)
    swapped_out = next(c for c in truth["cashouts"] if c["via"] == "swap")
    back = first_json(ok("trace", "--from", swapped_out["txid"], "--chain", "tron", "--direction",
                         "backward", "--hops", "50", "--json"))  # fmt: skip
    back_swaps = back["summary"]["swaps"]
    assert {x["txid"] for x in back_swaps} & {x["txid"] for x in swaps}
    assert {x["direction"] for x in back_swaps} == {"backward"}
    assert back["summary"]["converted"]["USDT"] > 0
    assert {e["asset"] for e in back["endpoints"] if e["kind"] == "source"} >= {"USDT"}
    found = [c for c in found if c["asset"] == "USDT"]
    true_out = [c for c in truth["cashouts"] if c["asset"] == "USDT"]
    true_deposits = {c["deposit_address"] for c in true_out}
    assert {c["exchange_name"] for c in true_out} <= {c["exchange"] for c in found}
    found_deposits = {c["deposit_address"] for c in found}
    assert len(true_deposits & found_deposits) >= 0.75 * len(true_deposits)
    assert sum(c["amount"] for c in found) <= loss

    # freeze requests and the case file: USDT totals exact, per exchange
    plan = first_json(ok("campaign", "freeze", cid, "--json", "--operator"))
    assert plan["loss"] == {"TRX/USDT": loss}
    case = first_json(ok("campaign", "report", cid, "-o", str(tmp_path / "case"), "--operator",
                         "--json"))  # fmt: skip
    assert case["total_loss"] == {"TRX/USDT": loss}
    assert len(case["freeze_requests"]) >= 2  # several exchanges
    folder = Path(case["out"])
    html = (folder / "report.html").read_text()
    assert usdt(loss) in html
    for r in plan["requests"]:
        slug = r["exchange"].lower().replace(" ", "-")
        doc = json.loads((folder / f"freeze-request-{slug}.json").read_text())
        assert doc["totals"] == r["totals"] == case["freeze_requests"][r["exchange"]]
        for key in r["totals"]:
            assert (
                sum(d["amount"] for d in doc["deposits"] if d["asset"] == key) == r["totals"][key]
            )
        assert {d["asset"] for d in doc["deposits"]} <= {"TRX/USDT", "TRX"}
        if "TRX/USDT" in r["totals"]:
            assert usdt(r["totals"]["TRX/USDT"]) in html
        requested = {d["deposit_address"] for d in doc["deposits"]}
        assert requested & true_deposits

    # screening: the campaign shared with an exchange flags its addresses; OFAC is severe
    collection = scam["collection_addresses"][0]
    ok("org", "add", "Exchange X", "--kind", "exchange")
    shared = first_json(ok("campaign", "share", cid, "--with", "Exchange X", "--owner", "Police",
                           "--json"))  # fmt: skip
    assert collection_of(shared) >= set(scam["collection_addresses"]), shared
    ok("screen", "index", "build")
    deposit = next(iter(true_deposits & found_deposits))
    sanctioned = json.loads((shared_data / OFAC_TRX).read_text())[0]
    verdicts = first_json(
        ok(
            "screen",
            "check",
            deposit,
            collection,
            sanctioned,
            "--chain",
            "TRX",
            "--org",
            "Exchange X",
            "--json",
        )
    )
    risk = {v["address"]: v["risk"] for v in verdicts["items"]}
    assert risk[sanctioned] == "severe"
    assert risk[collection] != "none" and risk[deposit] != "none", risk

    # web: the address page and the campaign page show USDT as people read it
    store = open_store()
    with store.session() as s:
        key = create_key(s, "Police", "admin").key
    client = TestClient(create_app(store, Settings(home=home)), base_url="http://testserver")
    from fundtrail.testing import web_sign_in

    r = web_sign_in(client, key, follow_redirects=False)
    assert r.status_code == 303, r.text
    page = client.get(f"/ui/address/TRX/{collection}")
    assert page.status_code == 200 and "USDT" in page.text and collection in page.text
    api = client.get(
        f"/api/v1/addresses/TRX/{collection}", headers={"Authorization": f"Bearer {key}"}
    ).json()
    tokens = {t["symbol"]: t for t in api["tokens"]}
    received = sum(int(x["amount"]) for x in rows if x["to_address"] == collection)
    assert tokens["USDT"]["received"] == received
    counts = Counter(c["exchange"] for c in found)
    assert sum(counts.values()) == len(found)
    store.close()
