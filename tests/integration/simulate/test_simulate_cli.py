"""`fundtrail simulate` as a user runs it."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from unittest import mock

import pytest
from typer.testing import CliRunner

from fundtrail.cli.main import app, main


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


def _fundtrail(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    """Run the real entry point in process: exit code and stderr, as a shell user sees them."""
    with mock.patch.object(sys, "argv", ["fundtrail", *args]), pytest.raises(SystemExit) as done:
        main()
    return int(done.value.code or 0), capsys.readouterr().err


def test_bad_arguments_get_one_clear_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cases = {
        ("--scenario", "heist"): "unknown scenario 'heist'",
        ("--scenario", "mixed", "--txs", "10"): "--txs 10 is out of range",
        ("--scenario", "mixed", "--chain", "sol"): "unknown chain 'sol'",
        ("--scenario", "mixed", "--rpc", "http://127.0.0.1:1"): "add --chain evm",
        ("--scenario", "mixed", "--style", "sloppy"): "unknown style 'sloppy'; presets: default",
        ("--scenario", "mixed", "--style", "peel_share=9"): "peel_share must be a number from",
        ("--scenario", "mixed", "--style", "hops=3"): "unknown style knob 'hops'",
        ("--scenario", "mixed", "--style", "sweep_batch=9-2"): "sweep_batch must be a range",
        ("--scenario", "background", "--style", "long-peels"): "background has no crime",
        ("--scenario", "investment-scam", "--chain", "tron", "--style", "sloppy"): (
            "unknown style 'sloppy'"
        ),
    }
    for args, message in cases.items():
        code, err = _fundtrail(capsys, "simulate", "--out", str(tmp_path / "x"), "--quiet", *args)
        assert code == 2, err
        assert message in err and "Traceback" not in err
    assert not (tmp_path / "x").exists()
    (tmp_path / "file").write_text("not a folder")
    code, err = _fundtrail(
        capsys, "simulate", "--scenario", "mixed", "--out", str(tmp_path / "file")
    )
    assert code == 2 and "exists and is not a folder" in err


def test_simulate_tron_takes_a_style(tmp_path: Path) -> None:
    out = tmp_path / "tron"
    args = ["simulate", "--scenario", "investment-scam", "--chain", "tron", "--out", str(out),
            "--txs", "1200", "--style", "single-use-deposits,gang_exchanges=1", "--json"]  # fmt: skip
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["chain"] == "tron"
    truth = json.loads((out / "truth.json").read_text())
    assert truth["style"]["deposits"] == "single-use" and truth["style"]["gang_exchanges"] == 1
    deposits = [c["deposit_address"] for c in truth["cashouts"]]
    assert deposits and len(set(deposits)) == len(deposits)
    assert len({c["exchange"] for c in truth["cashouts"]}) == 1
