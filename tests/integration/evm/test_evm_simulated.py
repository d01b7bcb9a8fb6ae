"""`fundtrail simulate --chain evm` writes ethereum-etl CSVs; `ingest evm --files` reads them."""

from __future__ import annotations

import csv
from pathlib import Path

from typer.testing import CliRunner

from fundtrail.chains.evm.ingest import ingest_files
from fundtrail.chainstore.store import ChainStore
from fundtrail.cli.main import app


def test_simulated_evm_chain_ingests_with_consistent_balances(tmp_path: Path, home: Path) -> None:
    out = tmp_path / "sim"
    res = CliRunner().invoke(
        app, ["simulate", "--scenario", "mixed", "--chain", "evm", "--txs", "400", "--out",
              str(out), "--quiet"],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    report = ingest_files(out, home=home)
    rows = sum(1 for p in out.rglob("transactions*.csv") for _ in csv.DictReader(p.open()))
    assert report.txs == rows > 0
    con = ChainStore("ETH", home).connect()
    negative = con.sql(
        """WITH io AS (SELECT to_id id, value::HUGEINT v FROM transfers WHERE asset_id = 0
                       UNION ALL SELECT from_id, -value::HUGEINT FROM transfers WHERE asset_id = 0)
           SELECT a.address, sum(v) FROM io JOIN addresses a ON a.address_id = io.id
           WHERE a.script_type = 'evm' GROUP BY a.address HAVING sum(v) < 0"""
    ).fetchall()
    assert negative == []  # nobody spends ether they never received (genesis, fees included)
    assert report.transfers > report.txs
