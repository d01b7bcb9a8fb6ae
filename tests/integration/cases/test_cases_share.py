"""`campaign share`: the exchanges on the case screen the campaign's addresses at once."""

from __future__ import annotations

import json
from pathlib import Path

from cases_world import World
from typer.testing import CliRunner

from fundtrail.cli.main import app

runner = CliRunner()
POLICE, EXCHANGE, OTHER = "Police Unit", "Exchange A", "Exchange B"


def run(*args: str) -> str:
    result = runner.invoke(app, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.stdout


def verdict(address: str, org: str) -> dict:
    (item,) = json.loads(run("screen", "check", address, "--org", org, "--json"))["items"]
    return item


def test_share_flags_collection_and_cashout_addresses_for_the_orgs_on_the_case(
    world: World, ws: Path
) -> None:
    run("org", "add", POLICE, "--kind", "law-enforcement")
    run("org", "add", EXCHANGE, "--kind", "exchange")
    run("org", "add", OTHER, "--kind", "exchange")
    run("complaints", "import", str(world.complaints_csv), "--org", POLICE)
    scam = world.truth_campaign("investment-scam")
    camp = next(
        c
        for c in json.loads(run("campaigns", "--org", POLICE, "--json"))
        if set(c["addresses"]) == set(scam["collection_addresses"])
    )
    paid = sorted(camp["addresses"])[0]
    run("screen", "index", "build")  # the exchanges' index, built before the share
    assert verdict(paid, EXCHANGE)["risk"] == "none"  # nobody told the exchange yet

    data = json.loads(run("campaign", "share", camp["id"], "--with", EXCHANGE, "--owner",
                          POLICE, "--json"))  # fmt: skip
    assert data["orgs"] == [EXCHANGE] and data["lead"] == POLICE
    shared = data["indicators"]
    assert set(shared["collection"]) == set(camp["addresses"])
    assert shared["deposits"], "no cash-out deposit shared"

    seen = verdict(paid, EXCHANGE)  # right after the share
    assert seen["risk"] != "none" and seen["score"] > 0
    assert any(r["source"]["org"] == POLICE for r in seen["reasons"])
    deposit = verdict(shared["deposits"][0], EXCHANGE)
    assert deposit["risk"] != "none"
    assert verdict(paid, OTHER)["risk"] == "none"  # TLP:AMBER: only the orgs on the case

    again = json.loads(run("campaign", "share", camp["id"], "--with", EXCHANGE, "--owner",
                           POLICE, "--json"))  # fmt: skip
    assert again["indicators"]["added"] == 0  # idempotent: the same indicators, updated


def test_share_without_a_lead_says_no_indicators_were_shared(world: World, ws: Path) -> None:
    run("org", "add", EXCHANGE, "--kind", "exchange")
    run("complaints", "import", str(world.complaints_csv))
    camp = json.loads(run("campaigns", "--operator", "--json"))[0]
    out = run("campaign", "share", camp["id"], "--with", EXCHANGE, "--operator")
    assert EXCHANGE in out and "no indicators were shared" in out
