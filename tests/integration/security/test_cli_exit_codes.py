"""Every failing command exits non-zero, as a monitoring script running it would see it."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

ENTRY = "import sys; from fundtrail.cli.main import main; sys.argv[0] = 'fundtrail'; main()"


def run(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FUNDTRAIL_")}
    env["FUNDTRAIL_HOME"] = str(home)
    return subprocess.run(
        [sys.executable, "-c", ENTRY, *args],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


@pytest.fixture
def home(tmp_path: Path) -> Path:
    home = tmp_path / "ws"
    home.mkdir()
    assert run(home, "org", "add", "police", "--kind", "law-enforcement").returncode == 0
    return home


def test_audit_verify_tampered_exits_1(home: Path) -> None:
    ok = run(home, "audit", "verify")
    assert ok.returncode == 0, ok.stderr
    with sqlite3.connect(home / "intel.sqlite") as con:
        con.execute("UPDATE audit_log SET action = 'nothing' WHERE id = 1")
    bad = run(home, "audit", "verify")
    assert "TAMPERED" in bad.stdout
    assert bad.returncode == 1


def test_complaints_import_all_rejected_exits_1(home: Path, tmp_path: Path) -> None:
    csv = tmp_path / "c.csv"
    csv.write_text(
        "complaint_id,victim,reported_at,chain,txid,vout,to_address,amount,asset\n"
        "X-1,Bob,2024-01-01,BTC,zz,0,bc1qxyz,5,BTC\n"
    )
    r = run(home, "complaints", "import", str(csv), "--org", "police")
    assert "1 rejected" in r.stdout
    assert r.returncode == 1


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (("no-such-command",), 2),  # usage error
        (("org", "add", "police", "--kind", "law-enforcement"), 2),  # exists already
        (("audit", "verify", "--no-such-flag"), 2),
    ],
)
def test_failures_exit_non_zero(home: Path, args: tuple[str, ...], code: int) -> None:
    assert run(home, *args).returncode == code
