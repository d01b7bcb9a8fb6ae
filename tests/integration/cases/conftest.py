"""A simulated `mixed` world (investment scam + ransomware over a background economy),
ingested, tagged, clustered and attributed once per session; each test gets a copy.

The partner tags are the simulator's tags.yaml plus the hot wallets of every exchange
in the truth (an alliance whose exchanges share their own hot wallets), so that every
cash-out can be attributed and compared with the truth.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from cases_world import World, partner_tags

from fundtrail.settings import reset_settings

TXS = 1500
SEED = 7


@pytest.fixture(scope="session")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    from fundtrail.analysis.cluster.service import run_clustering
    from fundtrail.chains.bitcoin.ingest import ingest_paths
    from fundtrail.chains.simulate.service import run
    from fundtrail.intel.tag_import import import_tags

    base = tmp_path_factory.mktemp("cases-world")
    sim, ws = base / "sim", base / "ws"
    run("mixed", sim, seed=SEED, txs=TXS)
    truth = json.loads((sim / "truth.json").read_text())
    ingest_paths([sim / "blocks"], home=ws)
    import_tags(partner_tags(sim, truth), home=ws)
    run_clustering("BTC", home=ws)
    return World(sim, ws, truth)


@pytest.fixture
def ws(world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh copy of the world's workspace as FUNDTRAIL_HOME (empty intel store)."""
    home = tmp_path / "ws"
    shutil.copytree(world.template, home)
    monkeypatch.setenv("FUNDTRAIL_HOME", str(home))
    monkeypatch.delenv("FUNDTRAIL_DATABASE_URL", raising=False)
    monkeypatch.delenv("FUNDTRAIL_SECRET_KEY", raising=False)
    reset_settings()
    yield home
    reset_settings()
