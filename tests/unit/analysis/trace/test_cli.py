"""`fundtrail trace` end to end on the hand-written `story` chain."""

from __future__ import annotations

import csv
import io
import json
import sys
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
from typer.testing import CliRunner

from fundtrail.analysis.trace.testing import UtxoChain, txid_of
from fundtrail.cli.main import app, main

runner = CliRunner()


def run(*args: str) -> str:
    result = runner.invoke(app, ["trace", *args])
    assert result.exit_code == 0, result.output
    return result.stdout


def test_json_output_contract(story: UtxoChain) -> None:
    data = json.loads(run("--from", txid_of("tx1") + ":0", "--chain", "btc", "--json"))
    assert set(data) == {"endpoints", "dispersed", "graph", "summary"}
    e1 = data["endpoints"][0]
    assert set(e1) == {"address", "deposit_address", "cluster_id", "entity", "kind", "amount",
                       "asset", "txid", "time", "hops", "payment"}  # fmt: skip
    assert e1["payment"] >= e1["amount"] > 0  # the whole output that brought the money
    assert (e1["kind"], e1["amount"], e1["entity"]) == (
        "cash-out",
        462,
        {"label": "Binance", "category": "exchange", "heuristic": "tag", "confidence": 100},
    )
    assert sum(e["amount"] for e in data["endpoints"]) + 36 == 900  # + fees
    edges = {(e["source"], e["target"]): e["amount"] for e in data["graph"]["edges"]}
    binance = f"c{story.labels.cluster_id('binance')}"
    scam = f"c{story.labels.cluster_id('scam')}"
    assert edges[(scam, binance)] == 462 + 171


def test_complaints_file_csv_graphml_and_picture(story: UtxoChain, tmp_path: Path) -> None:
    complaints = tmp_path / "complaints.csv"
    complaints.write_text(
        "complaint_id,victim,reported_at,chain,txid,vout,to_address,amount,asset\n"
        f"C1,Ann,2024-01-01T00:00:00Z,BTC,{txid_of('tx1')},0,{story.address('S1')},450,BTC\n"
    )
    out = run("--from-complaints", str(complaints), "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    # the complaint reports 450 of the 900 output: only that is traced (fees take 18)
    assert sum(int(r["amount"]) for r in rows) == 450 - 18
    graphml = tmp_path / "t.graphml"
    run("--from-complaints", str(complaints), "--format", "graphml", "-o", str(graphml))
    root = ET.parse(graphml).getroot()
    assert len(root.findall(".//{http://graphml.graphdrawing.org/xmlns}edge")) >= 1
    svg = tmp_path / "flow.svg"
    run("--from-complaints", str(complaints), "--picture", str(svg))
    assert "Binance" in svg.read_text()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--from", "nonsense"], "neither TXID:VOUT (TXHASH:LOGINDEX) nor a valid address"),
        (["--from", txid_of("tx1") + ":9"], "has no output 9"),
        (["--from", txid_of("nope") + ":0"], "is not in the chain store"),
        (["--from", txid_of("tx1") + ":0", "--method", "magic"], "method must be"),
    ],
)
def test_bad_input_gets_one_clear_line(
    story: UtxoChain, args: list[str], message: str, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    monkeypatch.setattr(sys, "argv", ["fundtrail", "trace", *args])
    with pytest.raises(SystemExit) as exc:
        main()
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
