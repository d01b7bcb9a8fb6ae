"""The CLI end to end on a fresh workspace: orgs, keys, import/export/search, audit verify."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from fundtrail.cli.main import app, main
from fundtrail.intelstore.db import open_store
from fundtrail.intelstore.keys import authenticate

runner = CliRunner()


def ok(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.stdout


def test_orgs_and_keys(home: Path) -> None:
    ok("org", "add", "police", "--kind", "law-enforcement")
    ok("org", "add", "exchange", "--kind", "exchange")
    orgs = json.loads(ok("org", "list", "--json"))
    assert [(o["name"], o["kind"]) for o in orgs] == [
        ("exchange", "exchange"),
        ("police", "law-enforcement"),
    ]
    made = json.loads(
        ok("key", "create", "--org", "police", "--role", "analyst", "--expires", "90d", "--json")
    )
    store = open_store()
    with store.read_session() as s:
        assert authenticate(s, made["key"]).org_name == "police"
    listed = json.loads(ok("key", "list", "--json"))
    assert made["key"] not in json.dumps(listed) and listed[0]["prefix"] == made["prefix"]
    ok("key", "revoke", made["prefix"])
    assert json.loads(ok("key", "list", "--json"))[0]["revoked"] is not None


def test_import_export_search_and_audit(home: Path, test_data: Path, tmp_path: Path) -> None:
    ok("org", "add", "police")
    ok("org", "add", "bank")
    csv = tmp_path / "intel.csv"
    csv.write_text(
        "type,value,chain,category,confidence,tlp,description\n"
        "domain,red.example.com,,scam,80,red,police only\n"
        "domain,green.example.com,,scam,80,green,everyone\n"
        "domain,bad domain,,scam,80,green,\n"
    )
    got = json.loads(
        ok("intel", "import", str(csv), "--format", "csv", "--org", "police", "--json")
    )
    assert (got["added"], got["skipped"]) == (2, 1)
    assert got["problems"] == ["intel.csv:4: 'bad domain' is not a domain name"]
    ofac = json.loads(
        ok("intel", "import", str(test_data / "intel" / "ofac"), "--format", "ofac", "--json")
    )
    assert (ofac["added"], ofac["duplicates"], ofac["skipped"]) == (33, 1, 2)
    assert "OFAC" in ok("org", "list")
    as_bank = json.loads(ok("intel", "search", "example.com", "--org", "bank", "--json"))
    assert [r["value"] for r in as_bank] == ["green.example.com"]
    as_police = json.loads(ok("intel", "search", "example.com", "--org", "police", "--json"))
    assert len(as_police) == 2
    exported = json.loads(ok("intel", "export", "--format", "json", "--org", "bank"))
    assert len(exported) == 34 and all(r["tlp"] in ("clear", "green") for r in exported)
    public = ok("intel", "export", "--format", "csv")
    assert public.splitlines()[0] == "type,value,chain,category,confidence,tlp,description"
    assert "red.example.com" not in public
    assert json.loads(ok("audit", "verify", "--json"))["ok"] is True
    with open_store().engine.begin() as con:
        con.execute(sa.text("UPDATE audit_log SET details = '{}' WHERE id = 2"))
    bad = runner.invoke(app, ["audit", "verify", "--json"])
    assert bad.exit_code == 1 and not json.loads(bad.stdout)["ok"]


def test_user_errors_are_one_line_and_exit_2(
    home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(
        sys, "argv", ["fundtrail", "key", "create", "--org", "nobody", "--role", "reader"]
    )
    with pytest.raises(SystemExit) as exit_:
        main()
    assert exit_.value.code == 2
    assert capsys.readouterr().err.strip() == "error: no organisation named 'nobody'"
