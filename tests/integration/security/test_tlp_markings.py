"""TLP markings hold on import and in answers (issue 15 rows 12 and 13).

Row 12, the attack: ``intel import tlp.csv --format csv --org police --tlp green``
stored rows marked RED and AMBER+STRICT as GREEN, and another org found them with
``intel search``. ``--tlp`` raises a marking, never lowers one.

Row 13: AMBER+STRICT with a share list is for the listed organisation (itself only,
TLP 2.0); the listed org reads it, anyone else is answered as if it did not exist, and
every answer says how the recipient must handle it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from fundtrail.intelstore.keys import create_key
from fundtrail.intelstore.orgs import add_org
from fundtrail.server.app import create_app
from fundtrail.settings import Settings

ENTRY = "import sys; from fundtrail.cli.main import main; sys.argv[0] = 'fundtrail'; main()"
CSV = (
    "type,value,chain,category,confidence,tlp,description\n"
    "domain,red.scam.example,,phishing,50,red,\n"
    "domain,strict.scam.example,,phishing,50,amber+strict,\n"
    "domain,amber.scam.example,,phishing,50,amber,\n"
    "domain,clear.scam.example,,phishing,50,clear,\n"
    "domain,unmarked.scam.example,,phishing,50,,\n"
)


def run(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FUNDTRAIL_")}
    env["FUNDTRAIL_HOME"] = str(home)
    r = subprocess.run(
        [sys.executable, "-c", ENTRY, *args],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert r.returncode == 0, (args, r.stdout, r.stderr)
    return r


def test_tlp_option_never_lowers_a_stricter_marking(tmp_path: Path) -> None:
    home = tmp_path / "ws"
    run(home, "org", "add", "police", "--kind", "law-enforcement")
    run(home, "org", "add", "bank", "--kind", "bank")
    (tmp_path / "tlp.csv").write_text(CSV)
    run(home, "intel", "import", str(tmp_path / "tlp.csv"), "--format", "csv",
        "--org", "police", "--tlp", "green")  # fmt: skip

    own = json.loads(run(home, "intel", "search", "scam", "--org", "police", "--json").stdout)
    assert {r["value"].split(".")[0]: r["tlp"] for r in own} == {
        "red": "red",
        "strict": "amber+strict",
        "amber": "amber",
        "clear": "green",  # raised to --tlp
        "unmarked": "green",  # no marking of its own: --tlp
    }
    seen = json.loads(run(home, "intel", "search", "scam", "--org", "bank", "--json").stdout)
    assert sorted(r["value"] for r in seen) == ["clear.scam.example", "unmarked.scam.example"]


@pytest.fixture
def api(tmp_path: Path) -> Iterator[tuple[TestClient, dict[str, dict[str, str]]]]:
    from fundtrail.intelstore.db import open_store

    store = open_store(f"sqlite:///{tmp_path / 'intel.sqlite'}")
    heads = {}
    with store.session() as s:
        for org, kind in (
            ("police", "law-enforcement"),
            ("exchange", "exchange"),
            ("bank", "bank"),
        ):
            add_org(s, org, kind)
            heads[org] = {"Authorization": f"Bearer {create_key(s, org, 'analyst').key}"}
    yield (
        TestClient(create_app(store, Settings(home=tmp_path)), raise_server_exceptions=False),
        heads,
    )
    store.close()


def test_amber_strict_share_list_is_honoured_and_says_so(
    api: tuple[TestClient, dict[str, dict[str, str]]],
) -> None:
    client, h = api
    body = {"type": "domain", "value": "strict.scam.example", "category": "phishing",
            "tlp": "amber+strict", "share_with": ["exchange"]}  # fmt: skip
    made = client.post("/api/v1/indicators", json=body, headers=h["police"])
    assert made.status_code == 201, made.text
    assert made.json()["share_with"] == ["exchange"]
    assert made.json()["handling"] == "the recipient organisation only; not to its clients"
    iid = made.json()["id"]

    got = client.get(f"/api/v1/indicators/{iid}", headers=h["exchange"])
    assert got.status_code == 200
    assert got.json()["tlp"] == "amber+strict"
    assert got.json()["handling"] == "the recipient organisation only; not to its clients"
    assert got.json()["share_with"] == []  # the list is the owner's business
    listed = client.get("/api/v1/indicators", params={"q": "scam"}, headers=h["exchange"])
    assert [i["id"] for i in listed.json()["items"]] == [iid]

    hidden = client.get(f"/api/v1/indicators/{iid}", headers=h["bank"])
    missing = client.get("/api/v1/indicators/no-such-id", headers=h["bank"])
    assert hidden.status_code == missing.status_code == 404
    assert "strict" not in hidden.text and "police" not in hidden.text
    listed = client.get("/api/v1/indicators", params={"q": "scam"}, headers=h["bank"])
    assert listed.json()["items"] == []
