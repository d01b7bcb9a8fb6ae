"""The commands a user types: ingest, stats, tx, address, decode.

Most run in process through Typer's runner; two run as real subprocesses to prove what a
user sees on bad input: one red line and an exit code, never a traceback.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from btc_blocks import HAL, HAL_TX
from typer.testing import CliRunner

from fundtrail.cli.main import app

FUNDTRAIL = str(Path(sys.executable).with_name("fundtrail"))
runner = CliRunner()


def cli(*args: str) -> str:
    result = runner.invoke(app, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.stdout


def test_ingest_then_read_commands(home: Path, early_file: Path) -> None:
    cli("ingest", "bitcoin", str(early_file), "--quiet")
    s = json.loads(cli("stats", "--json"))
    assert (s["blocks"], s["txs"], s["max_height"]) == (256, 263, 255)
    tx = json.loads(cli("tx", HAL_TX, "--chain", "btc", "--json"))
    assert tx["outputs"][0]["address"] == HAL and tx["outputs"][0]["value"] == 10**9
    assert json.loads(cli("address", HAL, "--json"))["balance"] == 10**9
    human = cli("address", HAL)
    assert "10 BTC" in human and "2009-01-12T03:30:25Z" in human  # coins and UTC ISO, not sat


def test_ingest_json_reports_what_was_added(
    home: Path, early_file: Path, early_records: bytes
) -> None:
    """``--json`` gives scripts (bench/scale.py) the report: blocks, txs, tip, the bytes
    read and the run's own seconds (start-up and exit not counted)."""
    first = json.loads(cli("ingest", "bitcoin", str(early_file), "--json"))
    assert (first["blocks_added"], first["txs_added"], first["tip_height"]) == (256, 263, 255)
    assert first["bytes_read"] == len(early_records) and first["seconds"] > 0  # unpacked
    assert first["workers"] == 0  # the default picks by size: a small file is read inline
    again = json.loads(cli("ingest", "bitcoin", str(early_file), "--json"))
    assert (again["blocks_added"], again["duplicates"]) == (0, 255)  # genesis is built in


def test_decode_a_raw_tx_without_a_store(test_data: Path) -> None:
    name = "0d1e55aa5919aa363755890339c58cb8ee880ef16daa60d33631aa49fc70ebdd"
    path = test_data / f"bitcoin/txs/{name}.hex"
    out = json.loads(cli("decode", path.read_text().strip(), "--json"))
    assert out["txid"] == name
    p2pk = [o for o in out["outputs"] if o["script_type"] == "p2pk"]
    assert p2pk and p2pk[0]["address"] == "13XpsmJszDj3GA7rg59pP2bqovU6gk3tLU"
    assert json.loads(cli("decode", str(path), "--json")) == out


def test_bad_input_is_one_line_and_an_exit_code(home: Path, tmp_path: Path) -> None:
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([FUNDTRAIL, *args], capture_output=True, text=True, timeout=300)

    bad = run("address", HAL[:-1] + "4", "--json")
    assert bad.returncode == 2
    assert "checksum mismatch" in bad.stderr and "Traceback" not in bad.stderr
    assert run("screen", "index", "build", "--quiet").returncode == 0
    mixed = run("screen", HAL, HAL[:-1] + "4")  # each answered, and the command says so
    assert mixed.returncode == 2, mixed.stderr
    assert f"{HAL} (BTC): NONE score 0" in mixed.stdout
    assert "checksum mismatch" in mixed.stdout and "Traceback" not in mixed.stderr
    assert run("screen", HAL).returncode == 0
    junk = tmp_path / "blk00000.dat"
    junk.write_bytes(bytes.fromhex("f9beb4d9") + b"\xff\xff\x00\x00" + b"\x01" * 100)
    failed = run("ingest", "bitcoin", str(junk), "--quiet")
    assert failed.returncode == 1 and "blk00000.dat offset 0" in failed.stderr
    assert "Traceback" not in failed.stderr


def test_account_chains_are_dispatched_to_the_evm_reads(home: Path) -> None:
    assert json.loads(cli("stats", "--chain", "eth", "--json"))["chain"] == "ETH"
    result = runner.invoke(app, ["address", "0x" + "ab" * 20, "--chain", "bsc"])
    assert "empty" in str(result.exception)  # looked up in the BSC store, not the BTC one
