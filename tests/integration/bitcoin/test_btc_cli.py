"""The commands a user types: ingest, stats, tx, address, decode (as subprocesses)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from btc_blocks import HAL, HAL_TX

FUNDTRAIL = str(Path(sys.executable).with_name("fundtrail"))


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([FUNDTRAIL, *args], capture_output=True, text=True, timeout=120)


def test_ingest_then_read_commands(home: Path, early_file: Path) -> None:
    done = run("ingest", "bitcoin", str(early_file), "--quiet")
    assert done.returncode == 0, done.stderr
    out = run("stats", "--json")
    s = json.loads(out.stdout)
    assert (s["blocks"], s["txs"], s["max_height"]) == (256, 263, 255)
    tx = json.loads(run("tx", HAL_TX, "--chain", "btc", "--json").stdout)
    assert tx["outputs"][0]["address"] == HAL and tx["outputs"][0]["value"] == 10**9
    addr = json.loads(run("address", HAL, "--json").stdout)
    assert addr["balance"] == 10**9
    human = run("address", HAL)
    assert human.returncode == 0 and "1000000000" in human.stdout


def test_mistyped_address_and_bad_file_are_one_line_errors(home: Path, tmp_path: Path) -> None:
    bad = run("address", HAL[:-1] + "4", "--json")
    assert bad.returncode == 2
    assert "checksum mismatch" in bad.stderr and "Traceback" not in bad.stderr
    junk = tmp_path / "blk00000.dat"
    junk.write_bytes(bytes.fromhex("f9beb4d9") + b"\xff\xff\x00\x00" + b"\x01" * 100)
    failed = run("ingest", "bitcoin", str(junk), "--quiet")
    assert failed.returncode == 1 and "blk00000.dat offset 0" in failed.stderr
    assert "Traceback" not in failed.stderr


def test_decode_a_raw_tx_without_a_store(tmp_path: Path, test_data: Path) -> None:
    name = "0d1e55aa5919aa363755890339c58cb8ee880ef16daa60d33631aa49fc70ebdd"
    hex_text = (test_data / f"bitcoin/txs/{name}.hex").read_text().strip()
    out = json.loads(run("decode", hex_text, "--json").stdout)
    assert out["txid"] == name
    p2pk = [o for o in out["outputs"] if o["script_type"] == "p2pk"]
    assert p2pk and p2pk[0]["address"] == "13XpsmJszDj3GA7rg59pP2bqovU6gk3tLU"
    from_file = json.loads(
        run("decode", str(test_data / f"bitcoin/txs/{name}.hex"), "--json").stdout
    )
    assert from_file == out
