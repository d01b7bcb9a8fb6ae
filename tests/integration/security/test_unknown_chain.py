"""A lookup of a chain fundtrail does not know is an error naming the known ones, and
leaves nothing behind (issue 15: it used to create ``chains/foo/`` in the workspace)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from fastapi.testclient import TestClient

from fundtrail.intelstore.db import open_store
from fundtrail.intelstore.keys import create_key
from fundtrail.intelstore.orgs import add_org
from fundtrail.server.app import create_app
from fundtrail.settings import Settings

ENTRY = "import sys; from fundtrail.cli.main import main; sys.argv[0] = 'fundtrail'; main()"
ADDRESS = "1BoatSLRHtKNngkdXEeobR76b53LETtpyT"


def test_api_names_the_known_chains_and_creates_nothing(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'intel.sqlite'}")
    with store.session() as s:
        add_org(s, "police", "law-enforcement")
        key = create_key(s, "police", "reader").key
    client = TestClient(create_app(store, Settings(home=tmp_path)))
    h = {"Authorization": f"Bearer {key}"}
    for url in ("/api/v1/txs/FOO/x", f"/api/v1/addresses/FOO/{ADDRESS}",
                "/api/v1/trace?chain=FOO&start=x"):  # fmt: skip
        r = client.get(url, headers=h)
        assert r.status_code == 422, (url, r.text)
        assert r.json()["field"] == "chain"
        assert "unknown chain 'FOO'" in r.json()["message"] and "BTC, " in r.json()["message"]
    store.close()
    assert not (tmp_path / "chains").exists()


def test_cli_names_the_known_chains_exits_2_and_creates_nothing(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FUNDTRAIL_")}
    env["FUNDTRAIL_HOME"] = str(tmp_path)
    for args in (("address", "--chain", "foo", ADDRESS), ("tx", "--chain", "foo", "ab" * 32)):
        r = subprocess.run([sys.executable, "-c", ENTRY, *args], env=env, capture_output=True,
                           text=True, timeout=120, check=False)  # fmt: skip
        assert r.returncode == 2, (args, r.stdout, r.stderr)
        assert "unknown chain 'foo'; known: " in r.stdout + r.stderr
        assert "BTC" in r.stdout + r.stderr
    assert not (tmp_path / "chains").exists()
