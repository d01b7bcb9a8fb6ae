"""`fundtrail simulate` as a user runs it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from fundtrail.cli.main import app


def test_simulate_prints_a_summary_as_json(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    args = ["simulate", "--scenario", "ransomware", "--out", str(out), "--txs", "600", "--json"]
    result = CliRunner().invoke(app, [*args, "--seed", "3"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["scenario"] == "ransomware" and summary["chain"] == "btc"
    assert summary["txs"] >= 600 and summary["complaints"] > 0
    (camp,) = summary["campaigns"]
    assert camp["id"] == "ransomware-1" and camp["total_loss"]["BTC"] > 0
    for name in summary["files"]:
        assert (out / name).is_file()


def _fundtrail(*args: str) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).with_name("fundtrail")
    return subprocess.run([str(exe), *args], capture_output=True, text=True, timeout=120)


def test_bad_arguments_get_one_clear_line(tmp_path: Path) -> None:
    cases = {
        ("--scenario", "heist"): "unknown scenario 'heist'",
        ("--scenario", "mixed", "--txs", "10"): "--txs 10 is out of range",
        ("--scenario", "mixed", "--chain", "sol"): "unknown chain 'sol'",
        ("--scenario", "mixed", "--rpc", "http://127.0.0.1:1"): "add --chain evm",
    }
    for args, message in cases.items():
        done = _fundtrail("simulate", "--out", str(tmp_path / "x"), "--quiet", *args)
        assert done.returncode == 2, done
        assert message in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "x").exists()
    (tmp_path / "file").write_text("not a folder")
    done = _fundtrail("simulate", "--scenario", "mixed", "--out", str(tmp_path / "file"), "-q")
    assert done.returncode == 2 and "exists and is not a folder" in done.stderr
