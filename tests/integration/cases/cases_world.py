"""The simulated world the cases integration tests run on (shared by conftest and tests)."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml


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


def partner_tags(sim: Path, truth: dict[str, Any]) -> Path:
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
