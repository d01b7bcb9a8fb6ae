"""CSV and JSON files: exact columns, bad rows reported by line and skipped, round trip."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from fundtrail.errors import InvalidInputError
from fundtrail.intel.csvio import COLUMNS, read_csv, read_json, write_csv, write_json
from fundtrail.intel.records import IndicatorRecord
from fundtrail.model.tlp import TLP

GOOD = """type,value,chain,category,confidence,tlp,description
crypto-address,0x19AA5FE80D33A56D56C78E82EA5E50E5D80B4DFF,ETH,sanctions,100,clear,lazarus
domain,Pig-Butcher.example.com,,investment,80,amber,fake trading platform
crypto-address,0x19aa5fe80d33a56d56c78e82ea5e50e5d80b4dfe,ETH,scam,,,
email,not-an-email,,scam,50,green,
domain,ok.example.com,,scam,150,green,
url,javascript:alert(1),,phishing,50,green,
tx,abc,BTC,theft,50,red,
domain,x.example.com,,unknown-category,50,green,
domain,y.example.com,,scam,50,purple,
"""


def write(tmp_path: Path, text: str, name: str = "intel.csv") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_good_rows_kept_bad_rows_named_by_line(tmp_path: Path) -> None:
    result = read_csv(write(tmp_path, GOOD))
    assert [r.value for r in result.records] == [
        "0x19aa5fe80d33a56d56c78e82ea5e50e5d80b4dff",
        "pig-butcher.example.com",
        "0x19aa5fe80d33a56d56c78e82ea5e50e5d80b4dfe",
    ]
    assert result.records[1].category.value == "investment-scam"
    assert result.records[2].confidence == 50 and result.records[2].tlp is TLP.AMBER
    lines = [(p.source, p.line) for p in result.problems]
    assert lines == [("intel.csv", n) for n in range(5, 11)]
    messages = " | ".join(p.message for p in result.problems)
    for word in (
        "e-mail",
        "outside 0-100",
        "http",
        "transaction hash",
        "unknown category",
        "unknown TLP",
    ):
        assert word in messages


def test_header_must_be_exact(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="header must be exactly"):
        read_csv(write(tmp_path, "value,type\nx,y\n"))


def test_tlp_option_raises_never_lowers_and_extra_fields(tmp_path: Path) -> None:
    text = (
        ",".join(COLUMNS)
        + "\ndomain,a.example.com,,scam,50,red,\ndomain,b.example.com,,scam,5,red,x,y\n"
        + "domain,c.example.com,,scam,50,clear,\ndomain,d.example.com,,scam,50,,\n"
    )
    result = read_csv(write(tmp_path, text), tlp=TLP.AMBER)
    assert [r.tlp for r in result.records] == [TLP.RED, TLP.AMBER, TLP.AMBER]
    assert result.problems[0].line == 3 and "more fields" in result.problems[0].message


def test_round_trip_csv_and_json(tmp_path: Path) -> None:
    records = read_csv(write(tmp_path, GOOD)).records
    records[1].description = '=HYPERLINK("http://evil")'
    out = io.StringIO()
    assert write_csv(records, out) == 3
    assert "'=HYPERLINK" in out.getvalue()  # spreadsheet formulas defused
    again = read_csv(write(tmp_path, out.getvalue(), "again.csv")).records
    assert [(r.type, r.value, r.chain, r.category, r.tlp, r.confidence) for r in again] == [
        (r.type, r.value, r.chain, r.category, r.tlp, r.confidence) for r in records
    ]
    js = io.StringIO()
    write_json(records, js)
    back = read_json(write(tmp_path, js.getvalue(), "x.json")).records
    assert [r.value for r in back] == [r.value for r in records]


def test_json_problems_name_the_item(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '[{"type": "domain", "value": "a.example.com", "category": "scam"},'
        ' 3, {"type": "ip", "value": "300.1.1.1", "category": "scam"}]',
        "x.json",
    )
    result = read_json(path)
    assert len(result.records) == 1
    assert [p.line for p in result.problems] == [2, 3]
    with pytest.raises(InvalidInputError, match="not valid JSON"):
        read_json(write(tmp_path, "{", "bad.json"))


def test_records_build_like_the_api(tmp_path: Path) -> None:
    rec = IndicatorRecord.build("phone", "+1 (555) 010-9999", "impersonation")
    assert rec.value == "+15550109999"
