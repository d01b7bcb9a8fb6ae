"""`fundtrail simulate --chain tron` writes the USDT scam as a TRON node's answers; ingest
over the stub node gives every address exactly the simulator's balances, in sun and in
USDT units, and every complaint's payment is a stored USDT transfer of its amount."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fundtrail.chains.simulate.service import START_TIME
from fundtrail.chains.simulate.style import Style
from fundtrail.chains.tron.ingest import ingest_rpc
from fundtrail.chains.tron.simulate import SCALE, TronSim, encode_tron
from fundtrail.chains.tron.stub import NodeData, TronStub
from fundtrail.chainstore.store import ChainStore
from fundtrail.cli.main import app
from fundtrail.model.chains import get_chain


@pytest.mark.parametrize("style", ["default", "big-batches", "field"])
def test_ingested_simulation_has_the_simulators_balances_exactly(
    home: Path, tmp_path: Path, style: str
) -> None:
    """Whatever the style: batched TRX withdrawals (a multi-send call's internal
    transactions), single-use and unswept deposits come out exact too."""
    out = tmp_path / "sim"
    out.mkdir()
    sim = TronSim("investment-scam", out, 5, 900, START_TIME, Style.parse(style))
    sim.tron_writer.token_hex = sim.chain.hex[sim.chain.token_addr].lower()
    sim.run()
    ch = sim.chain
    records = sim.registry.programs()
    texts = encode_tron(records)
    want_trx = {texts[a]: ch.eth[a] // SCALE for a in range(len(texts)) if ch.eth[a]}
    want_usdt = {texts[a]: ch.token[a] for a in range(len(texts)) if ch.token[a]}
    assert all(ch.eth[a] % SCALE == 0 for a in range(len(texts)))  # exact in sun
    sim.finish()
    node = NodeData.from_json(json.loads((out / "tron" / "node.json").read_text()))
    with TronStub(node) as stub:
        report = ingest_rpc(stub.url)
    assert report.blocks == ch.number + 1
    con = ChainStore(get_chain("TRX"), home).connect()
    try:
        rows = con.execute(
            """SELECT a.address, m.asset_id, sum(m.value) FROM (
                 SELECT to_id AS id, asset_id, value::HUGEINT AS value FROM transfers
                 UNION ALL SELECT from_id, asset_id, -value::HUGEINT FROM transfers) m
               JOIN addresses a ON a.address_id = m.id GROUP BY a.address, m.asset_id"""
        ).fetchall()
    finally:
        con.close()
    got_trx = {a: int(v) for a, asset, v in rows if asset == 0 and v and a.startswith("T")}
    got_usdt = {a: int(v) for a, asset, v in rows if asset == 1 and v and a.startswith("T")}
    got_trx.pop("T9yD14Nj9j7xAB4dbGeiX9h8unkKHxuWwb")  # genesis owner: the supply, negative
    got_usdt.pop("T9yD14Nj9j7xAB4dbGeiX9h8unkKHxuWwb")  # USDT minted from the zero address
    assert got_trx == want_trx
    assert got_usdt == want_usdt


def test_simulate_cli_then_complaints_match_stored_usdt_transfers(
    home: Path, tmp_path: Path
) -> None:
    out = tmp_path / "sim"
    res = CliRunner().invoke(
        app, ["simulate", "--scenario", "investment-scam", "--chain", "tron", "--txs", "900",
              "--seed", "2", "--out", str(out), "--quiet"],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    truth = json.loads((out / "truth.json").read_text())
    assert truth["chain"] == "TRX"
    node = NodeData.from_json(json.loads((out / "tron" / "node.json").read_text()))
    with TronStub(node) as stub:
        ingest_rpc(stub.url)
    con = ChainStore(get_chain("TRX"), home).connect()
    complaints = list(csv.DictReader((out / "complaints.csv").open()))
    assert complaints
    try:
        for c in complaints:
            assert (c["chain"], c["asset"]) == ("TRX", "USDT")
            (row,) = con.execute(
                """SELECT r.address, t.value FROM transfers t
                   JOIN addresses r ON r.address_id = t.to_id
                   WHERE t.tx_hash = ? AND t.kind = 'token' AND t.log_index = ?""",
                [c["txid"], int(c["vout"])],
            ).fetchall()
            assert (row[0], int(row[1])) == (c["to_address"], int(c["amount"]))
    finally:
        con.close()
    bad = CliRunner().invoke(
        app, ["simulate", "--scenario", "ransomware", "--chain", "tron", "--out", str(out)]
    )
    assert bad.exit_code != 0 and "investment-scam" in str(bad.exception)
