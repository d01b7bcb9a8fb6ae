"""`fundtrail intel import|export --format stix|misp|tagpack` and `fundtrail feed`, end to end."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from fundtrail.cli.main import app
from fundtrail.intel.stix_check import stix_validation_errors

runner = CliRunner()
DATA = Path(__file__).resolve().parents[2] / "data"


def ok(*args: str) -> str:
    result = runner.invoke(app, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.stdout


def test_import_three_formats_then_export_valid_stix(home: Path, tmp_path: Path) -> None:
    ok("org", "add", "police", "--kind", "law-enforcement")
    out = ok(
        "intel",
        "import",
        str(DATA / "stix" / "opencti_style.json"),
        "--format",
        "stix",
        "--org",
        "police",
        "--json",
    )
    assert json.loads(out)["added"] == 5
    out = ok(
        "intel",
        "import",
        str(DATA / "misp" / "event_ransomware.json"),
        "--format",
        "misp",
        "--org",
        "police",
        "--json",
    )
    assert json.loads(out)["added"] == 11  # 1BvBMSEY... was already there from the bundle
    pack = tmp_path / "pack.yaml"
    pack.write_text(
        "title: t\ncreator: c\ncurrency: BTC\nabuse: sextortion\nsource: s\n"
        "tags:\n- address: 1BoatSLRHtKNngkdXEeobR76b53LETtpyT\n  label: x\n"
    )
    out = ok("intel", "import", str(pack), "--format", "tagpack", "--org", "police", "--json")
    assert json.loads(out)["added"] == 1
    # an unsafe bundle stops its import before anything is stored
    doc = json.loads((DATA / "stix" / "opencti_style.json").read_text())
    doc["objects"][5]["pattern"] = "[domain-name:value = 'never-stored.example']"
    doc["objects"].append(
        {
            "type": "marking-definition",
            "spec_version": "2.1",
            "id": "marking-definition--2b3c4d5e-6f70-4812-9a3b-4c5d6e7f8091",
            "created": "2024-01-01T00:00:00.000Z",
            "name": "TLP:PURPLE",
            "definition_type": "statement",
            "definition": {"statement": "x"},
        }
    )
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(doc))
    result = runner.invoke(
        app, ["intel", "import", str(bad), "--format", "stix", "--org", "police"]
    )
    assert result.exit_code != 0 and "looks like a TLP marking" in str(result.exception)
    target = tmp_path / "out.json"
    ok("intel", "export", "--format", "stix", "--org", "police", "-o", str(target))
    bundle = json.loads(target.read_text())
    assert sum(o["type"] == "indicator" for o in bundle["objects"]) == 17
    assert stix_validation_errors(bundle) == []
    assert "never-stored" not in target.read_text()


def test_feed_publish_then_pull_from_a_folder(home: Path, tmp_path: Path) -> None:
    ok("org", "add", "police")
    ok("org", "add", "bank")
    ok(
        "intel",
        "import",
        str(DATA / "misp" / "event_ransomware.json"),
        "--format",
        "misp",
        "--org",
        "police",
    )
    out = ok("feed", "publish", str(tmp_path / "feed"), "--org", "police", "--json")
    assert json.loads(out) == {"events": 0, "indicators": 0}  # all AMBER or stricter
    out = ok(
        "feed", "publish", str(tmp_path / "feed"), "--org", "police", "--max-tlp", "amber", "--json"
    )
    assert json.loads(out) == {"events": 1, "indicators": 10}  # not the AMBER+STRICT or RED
    out = ok("feed", "pull", str(tmp_path / "feed"), "--org", "bank", "--json")
    assert json.loads(out)["added"] == 10
    result = runner.invoke(app, ["feed", "pull", "http://10.0.0.1/feed/", "--org", "bank"])
    assert result.exit_code != 0 and "private address; refused" in str(result.exception)
