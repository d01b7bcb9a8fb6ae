"""The CLI contract: import with bad rows by line, campaigns --json, show, trace, report."""

from __future__ import annotations

import csv
import io
import json
import subprocess
from pathlib import Path

from cases_world import World
from typer.testing import CliRunner

from fundtrail.chainstore.store import ChainStore
from fundtrail.cli.main import app

runner = CliRunner()


def run(*args: str) -> str:
    result = runner.invoke(app, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.stdout  # notes such as "relinking" go to stderr


def bad_csv(world: World, path: Path) -> tuple[Path, int]:
    """The scam's first 12 complaints, then one bad row of each kind (lines 14-18)."""
    scam = [r for r in world.rows() if r["complaint_id"].startswith("C-SCAM")]
    rows, spare = scam[:12], scam[12:16]
    bad = [
        {**spare[0], "complaint_id": "B1", "victim": ""},  # missing field
        {**spare[1], "complaint_id": "B2", "txid": "ab" * 32},  # unknown txid
        {**spare[2], "complaint_id": "B3", "amount": str(int(spare[2]["amount"]) + 1)},  # wrong
        {**spare[3], "complaint_id": "B4", "to_address": spare[3]["to_address"][:-2] + "zz"},
        {**rows[1], "complaint_id": "B5"},  # the same payment again
    ]
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(rows[0]))
    w.writeheader()
    w.writerows(rows + bad)
    path.write_text(buf.getvalue())
    return path, len(rows)


def test_import_reports_bad_rows_by_line_and_imports_the_rest(
    world: World, ws: Path, tmp_path: Path
) -> None:
    path, n_good = bad_csv(world, tmp_path / "c.csv")
    data = json.loads(run("complaints", "import", str(path), "--json"))
    assert data["import"]["imported"] == n_good
    errors = {e["line"]: e for e in data["import"]["errors"]}
    assert sorted(errors) == [14, 15, 16, 17, 18]
    assert errors[14]["field"] == "victim" and "missing" in errors[14]["message"]
    assert errors[15]["field"] == "txid" and "not in the chain store" in errors[15]["message"]
    assert errors[16]["field"] == "amount" and "not " in errors[16]["message"]
    assert errors[17]["field"] == "address"
    assert errors[18]["field"] == "txid" and "duplicate" in errors[18]["message"]
    again = runner.invoke(app, ["complaints", "import", str(path)])  # every row reported
    assert again.exit_code == 1 and "0 complaint(s) imported" in again.output


def test_campaign_commands(world: World, ws: Path, tmp_path: Path) -> None:
    path, n_good = bad_csv(world, tmp_path / "c.csv")
    run("complaints", "import", str(path), "--map", "victim=victim")
    (camp,) = json.loads(run("campaigns", "--operator", "--json"))
    for key in (
        "id",
        "complaints",
        "victims",
        "total_loss",
        "first_seen",
        "last_seen",
        "addresses",
        "cashouts",
    ):
        assert key in camp
    rows = [r for r in world.rows() if r["complaint_id"].startswith("C-SCAM")][:n_good]
    assert camp["complaints"] == n_good
    assert camp["total_loss"] == {"BTC": sum(int(r["amount"]) for r in rows)}
    shown = json.loads(run("campaign", "show", camp["id"], "--operator", "--json"))
    assert {p["victim"] for p in shown["payments"]} == {r["victim"] for r in rows}
    assert camp["id"] in run("campaign", "show", camp["id"], "--operator")  # the table renders
    traced = json.loads(
        run("campaign", "trace", camp["id"], "--operator", "--method", "haircut", "--json")
    )
    assert traced["params"]["method"] == "haircut" and traced["exchanges"]
    for ex in traced["exchanges"].values():
        assert ex["deposit_addresses"] and all(d["amount"] > 0 for d in ex["deposits"])
    out = tmp_path / "case"
    data = json.loads(
        run(
            "campaign",
            "report",
            camp["id"],
            "--operator",
            "-o",
            str(out),
            "--tlp",
            "green",
            "--json",
        )
    )
    assert {"report.html", "report.pdf", "indicators.stix.json", "SHA256SUMS"} <= set(data["files"])
    assert any(f.startswith("freeze-request-") and f.endswith(".pdf") for f in data["files"])
    assert data["out"] == str(out / "v1") and (out / "latest").resolve() == out / "v1"
    out = out / "v1"  # each run writes a new version folder
    assert subprocess.run(["sha256sum", "-c", "--quiet", "SHA256SUMS"], cwd=out).returncode == 0
    html = (out / "report.html").read_text()
    con = ChainStore("BTC").connect()
    blocks, tip = con.execute("SELECT count(*), max(height) FROM blocks").fetchone()
    assert f'<td>BTC</td><td class="num">{blocks}</td><td>0 – {tip}</td>' in html
    assert "alliance exchanges (test)" in html  # the tag source behind the attribution
    bundle = json.loads((out / "indicators.stix.json").read_text())
    assert any(o["type"] == "indicator" for o in bundle["objects"])


def test_unknown_campaign_is_a_clear_error(ws: Path) -> None:
    result = runner.invoke(app, ["campaign", "show", "CMP-NOPE", "--operator"])
    assert result.exit_code != 0
    assert "no campaign" in str(result.exception)


def test_nobody_reads_victims_data_by_default(ws: Path) -> None:
    """No see-everything default: a reader names its org or asks for the operator."""
    result = runner.invoke(app, ["campaigns", "--json"])
    assert result.exit_code != 0
    assert "--org NAME, or --operator" in str(result.exception)


def test_keep_unverified_flags_and_keeps_them_out_of_campaigns(
    world: World, ws: Path, tmp_path: Path
) -> None:
    path, n_good = bad_csv(world, tmp_path / "c.csv")
    data = json.loads(run("complaints", "import", str(path), "--keep-unverified", "--json"))
    # unknown txid and wrong amount are stored, flagged; malformed rows never are
    assert data["import"]["imported"] == n_good + 2 and data["import"]["flagged"] == 2
    assert {e["line"] for e in data["import"]["errors"]} == {14, 17, 18}
    (camp,) = json.loads(run("campaigns", "--operator", "--json"))
    assert camp["complaints"] == n_good
    relinked = json.loads(run("campaigns", "link", "--json"))
    assert relinked["newly_confirmed"] == 0 and relinked["complaints_linked"] == n_good


def test_reading_as_an_org_and_sharing_the_case(world: World, ws: Path, tmp_path: Path) -> None:
    path, _ = bad_csv(world, tmp_path / "c.csv")
    run("org", "add", "police", "--kind", "law-enforcement")
    run("org", "add", "bank", "--kind", "bank")
    run("complaints", "import", str(path), "--org", "police")
    assert json.loads(run("campaigns", "--org", "bank", "--json")) == []
    (camp,) = json.loads(run("campaigns", "--org", "police", "--json"))
    shared = json.loads(
        run("campaign", "share", camp["id"], "--with", "bank", "--owner", "police", "--json")
    )
    assert shared["case_reference"].startswith("FT-")
    shown = json.loads(run("campaign", "show", camp["id"], "--org", "bank", "--json"))
    assert "[withheld]" not in {p["victim"] for p in shown["payments"]}
