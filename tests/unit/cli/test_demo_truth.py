"""The demo's `truth` line: the trace against the simulation's ground truth, computed right."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fundtrail.demo import _checked, shown


def test_the_truth_line_gives_the_share_found_at_the_true_deposits(tmp_path: Path) -> None:
    truth = {"cashouts": [
        {"exchange_name": "Bitvane", "deposit_address": "bc1qa", "amount": 300_000_000},
        {"exchange_name": "Bitvane", "deposit_address": "bc1qb", "amount": 100_000_000},
        {"exchange_name": "Northmint", "deposit_address": "bc1qc", "amount": 200_000_000},
    ]}  # fmt: skip
    (tmp_path / "truth.json").write_text(json.dumps(truth))
    traced = {"cashouts": [
        {"exchange": "Bitvane", "deposit_address": "bc1qa", "address": "x", "amount": 250_000_000},
        {"exchange": "Bitvane", "deposit_address": "bc1qb", "address": "x", "amount": 50_000_000},
        {"exchange": "Bitvane", "deposit_address": "bc1qz", "address": "x", "amount": 1_000},
        {"exchange": "Northmint", "deposit_address": "bc1qy", "address": "x", "amount": 9},
        {"exchange": "Northmint", "deposit_address": "bc1qc", "address": "x", "amount": 10**8},
    ]}  # fmt: skip
    line = _checked(tmp_path, traced)
    # 300,000,000 of 400,000,000 at Bitvane's true deposits; 100,000,000 of 200,000,000
    assert "Bitvane 75.0% of 4 BTC, Northmint 50.0% of 2 BTC" in line
    assert line.endswith("(those addresses top each exchange's list)")
    traced["cashouts"][3]["amount"] = 2 * 10**8  # a wrong address now tops Northmint's list
    assert "top each" not in _checked(tmp_path, traced)


def test_paths_are_shown_relative_to_the_current_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert shown(tmp_path / "demo-data" / "report" / "v1") == "demo-data/report/v1"
    assert shown("/elsewhere/x") == "/elsewhere/x"


def test_the_truth_line_on_tron_reads_usdt(tmp_path: Path) -> None:
    truth = {"chain": "TRX", "cashouts": [
        {"exchange_name": "Coinharbor", "deposit_address": "TA", "amount": 441_592_893_815,
         "asset": "USDT"},
    ]}  # fmt: skip
    (tmp_path / "truth.json").write_text(json.dumps(truth))
    traced = {"cashouts": [{"exchange": "Coinharbor", "deposit_address": "TA", "address": "TA",
                            "amount": 441_592_893_815, "asset": "USDT"}]}  # fmt: skip
    assert "Coinharbor 100.0% of 441,592.893815 USDT" in _checked(tmp_path, traced)


def test_usdt_and_the_trx_swapped_from_it_are_checked_apart(tmp_path: Path) -> None:
    """The gang swaps part of the USDT to TRX: each asset's share is of that asset."""
    truth = {"chain": "TRX", "cashouts": [
        {"exchange_name": "Bitvane", "deposit_address": "TA", "amount": 4_000_000, "asset": "USDT"},
        {"exchange_name": "Bitvane", "deposit_address": "TB", "amount": 9_000_000, "asset": "TRX"},
    ]}  # fmt: skip
    (tmp_path / "truth.json").write_text(json.dumps(truth))
    traced = {"cashouts": [
        {"exchange": "Bitvane", "deposit_address": "TA", "address": "TA", "amount": 3_000_000,
         "asset": "USDT"},
        {"exchange": "Bitvane", "deposit_address": "TB", "address": "TB", "amount": 9_000_000,
         "asset": "TRX"},
    ]}  # fmt: skip
    line = _checked(tmp_path, traced)
    assert "Bitvane 100.0% of 9 TRX, Bitvane 75.0% of 4 USDT" in line, line


def test_the_cash_out_tables_never_add_usdt_to_trx() -> None:
    from fundtrail.cli.common import console
    from fundtrail.cli.demo import _cashout_tables

    outs = [{"exchange": "Bitvane", "deposit_address": "TA", "amount": 1_500_000, "asset": a,
             "chain": "TRX"} for a in ("USDT", "TRX", "TRX")]  # fmt: skip
    with console.capture() as cap:
        for t in _cashout_tables(outs):
            console.print(t)
    text = cap.get()
    assert "3 TRX" in text and "1.5 USDT" in text and "4.5" not in text, text


def test_the_demo_refuses_a_chain_it_has_no_story_for(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from fundtrail.cli.main import app

    res = CliRunner().invoke(app, ["demo", "--chain", "doge", "--out", str(tmp_path / "d")])
    assert res.exit_code != 0
    assert "btc or tron" in str(res.exception) + res.output
    assert not (tmp_path / "d").exists()
