"""A small workspace with everything a route or command can touch, built through the CLI.

A simulated investment scam (800 txs), ingested, tagged, clustered; a police unit and
an exchange with admin keys; the complaints (but the last five) imported and linked; the
screening index built. Built once per session, then copied for each test that writes,
so tests see the same world and never each other's writes.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from typer.testing import CliRunner

from fundtrail.settings import reset_settings

POLICE = "police"
RESERVED = 5  # the last complaints of complaints.csv are left for tests to report
EXCHANGE = "exchange"


@dataclass
class World:
    """A workspace and what the tests need to reach into it."""

    root: Path
    police_key: str
    exchange_key: str

    @property
    def home(self) -> Path:
        return self.root / "ws"

    @property
    def sim(self) -> Path:
        return self.root / "sim"

    def reserved(self) -> list[dict[str, str]]:
        """Complaints whose payments are on the chain but that nobody has reported yet."""
        import csv

        with (self.sim / "complaints.csv").open() as fh:
            return list(csv.DictReader(fh))[-RESERVED:]

    def copy(self, dest: Path) -> World:
        shutil.copytree(self.root, dest, symlinks=True)
        return World(dest, self.police_key, self.exchange_key)


@contextmanager
def using(home: Path) -> Iterator[None]:
    """FUNDTRAIL_HOME set to ``home`` (and settings re-read) for the block."""
    old = {k: os.environ.get(k) for k in ("FUNDTRAIL_HOME", "FUNDTRAIL_DATABASE_URL")}
    os.environ["FUNDTRAIL_HOME"] = str(home)
    os.environ.pop("FUNDTRAIL_DATABASE_URL", None)
    reset_settings()
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        reset_settings()


def cli(*args: str) -> str:
    """Run one ``fundtrail`` command in process; fail loudly with its output."""
    from fundtrail.cli.main import app

    result = CliRunner().invoke(app, list(args), catch_exceptions=False)
    assert result.exit_code == 0, f"fundtrail {' '.join(args)}: {result.output}"
    return result.output


def build(root: Path) -> World:
    root.mkdir(parents=True, exist_ok=True)
    sim = root / "sim"
    with using(root / "ws"):
        cli("simulate", "--scenario", "investment-scam", "--out", str(sim), "--txs", "800",
            "--seed", "3", "-q")  # fmt: skip
        cli("ingest", "bitcoin", str(sim / "blocks"), "-q")
        cli("tags", "import", str(sim / "tags.yaml"))
        cli("cluster", "-q")
        cli("org", "add", POLICE, "--kind", "law-enforcement")
        cli("org", "add", EXCHANGE, "--kind", "exchange")
        keys = [
            re.search(r"ft_[A-Za-z0-9_-]+", cli("key", "create", "--org", org, "--role", "admin"))
            for org in (POLICE, EXCHANGE)
        ]
        assert all(keys), "key create printed no key"
        rows = (sim / "complaints.csv").read_text().splitlines(keepends=True)
        (root / "imported.csv").write_text("".join(rows[:-RESERVED]))
        cli("complaints", "import", str(root / "imported.csv"), "--org", POLICE)
        cli("screen", "index", "build")
    return World(root, keys[0].group(0), keys[1].group(0))  # type: ignore[union-attr]
