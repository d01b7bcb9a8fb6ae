"""A simulated `mixed` world (investment scam + ransomware over a background economy),
ingested, tagged, clustered and attributed once per session; each test gets a copy.

The partner tags are the simulator's tags.yaml plus the hot wallets of every exchange
in the truth (an alliance whose exchanges share their own hot wallets), so that every
cash-out can be attributed and compared with the truth.
"""

from __future__ import annotations

import csv
import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from fundtrail.settings import reset_settings

TXS = 1500
SEED = 7


@dataclass
class World:
    sim: Path  # simulator output: blocks/, truth.json, complaints.csv, tags.yaml
    template: Path  # workspace with the chain store ready (no intel store yet)
    truth: dict[str, Any]

    @property
    def complaints_csv(self) -> Path:
        return self.sim / "complaints.csv"

    def rows(self) -> list[dict[str, str]]:
        with open(self.complaints_csv, newline="") as fh:
            return list(csv.DictReader(fh))

    def campaign_of(self) -> dict[str, str]:
        """complaint id -> true campaign id"""
        return {k: c["id"] for c in self.truth["campaigns"] for k in c["complaint_ids"]}

    def truth_campaign(self, kind: str) -> dict[str, Any]:
        return next(c for c in self.truth["campaigns"] if c["kind"] == kind)


def _partner_tags(sim: Path, truth: dict[str, Any]) -> Path:
    tags = yaml.safe_load((sim / "tags.yaml").read_text())
    names = {e["id"]: e["name"] for e in truth["entities"]}
    known = {t["address"] for t in tags["tags"]}
    for addr, info in sorted(truth["addresses"].items()):
        if info["role"] == "hot_wallet" and addr not in known:
            tags["tags"].append(
                {
                    "address": addr,
                    "label": names[info["entity"]],
                    "category": "exchange",
                    "currency": "BTC",
                    "source": "alliance exchanges (test)",
                    "confidence": "service_data",
                }
            )
    path = sim / "partner-tags.yaml"
    path.write_text(yaml.safe_dump(tags, sort_keys=False))
    return path


@pytest.fixture(scope="session")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    from fundtrail.analysis.attribute import attribute
    from fundtrail.analysis.cluster.service import run_clustering
    from fundtrail.chains.bitcoin.ingest import ingest_paths
    from fundtrail.chains.simulate.service import run
    from fundtrail.intel.tag_import import import_tags

    base = tmp_path_factory.mktemp("cases-world")
    sim, ws = base / "sim", base / "ws"
    run("mixed", sim, seed=SEED, txs=TXS)
    truth = json.loads((sim / "truth.json").read_text())
    ingest_paths([sim / "blocks"], home=ws)
    import_tags(_partner_tags(sim, truth), home=ws)
    run_clustering("BTC", home=ws)
    attribute("BTC", home=ws)
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
