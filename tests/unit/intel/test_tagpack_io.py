"""GraphSense TagPacks in and out of the hub."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
import yaml

from fundtrail.intel.records import IndicatorRecord
from fundtrail.intel.tagpack_io import read_tagpack, tagpack_document, write_tagpack
from fundtrail.model.indicators import Category, IndicatorType
from fundtrail.model.tlp import TLP

PACK = """\
title: Test pack
creator: fundtrail tests
lastmod: 2024-02-26
abuse: ransomware
currency: BTC
confidence: forensic_investigation
source: https://example.org/ransomware-report
tags:
- address: 12t9YDPgwueZ9NyMgw519p7AA8isjr6SMw
  label: WannaCry
  actor: lazarus
- address: 1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN3
  label: checksum broken
- address: '0xd882cFc20F52f2599D84b8e8D58C7FB62cfE344b'
  currency: ETH
  label: exchange hot wallet
  abuse: null
  category: exchange
  confidence: ownership
"""


def records() -> list[IndicatorRecord]:
    return [
        IndicatorRecord.build(
            "crypto-address",
            "12t9YDPgwueZ9NyMgw519p7AA8isjr6SMw",
            "ransomware",
            chain="BTC",
            tlp="red",
            confidence=90,
            labels=["WannaCry"],
        ),
        IndicatorRecord.build(
            "crypto-address",
            "0xd882cFc20F52f2599D84b8e8D58C7FB62cfE344b",
            "exchange",
            chain="ETH",
            tlp="green",
            confidence=100,
        ),
        IndicatorRecord.build(
            "crypto-address",
            "TLsV52sRDL79HXGGm9yzwKibb6BeruhUzy",
            "pig-butchering",
            chain="TRX",
            confidence=40,
        ),
        IndicatorRecord.build("domain", "evil.example", "phishing"),
    ]


def test_import_maps_abuse_category_labels_and_reports_bad_rows(tmp_path: Path) -> None:
    (tmp_path / "pack.yaml").write_text(PACK)
    result = read_tagpack(tmp_path / "pack.yaml")
    got = {r.value: r for r in result.records}
    wanna = got["12t9YDPgwueZ9NyMgw519p7AA8isjr6SMw"]
    assert (wanna.category, wanna.chain, wanna.tlp, wanna.confidence) == (
        Category.RANSOMWARE,
        "BTC",
        TLP.GREEN,
        70,
    )
    assert wanna.labels == ["WannaCry", "lazarus"]
    assert wanna.references == ["https://example.org/ransomware-report"]
    hot = got["0xd882cfc20f52f2599d84b8e8d58c7fb62cfe344b"]
    assert (hot.category, hot.chain, hot.confidence) == (Category.EXCHANGE, "ETH", 100)
    assert len(result.records) == 2
    [problem] = result.problems
    assert problem.line == 12 and "checksum" in problem.message


def test_tlp_option_marks_every_record(tmp_path: Path) -> None:
    (tmp_path / "pack.yaml").write_text(PACK)
    assert {r.tlp for r in read_tagpack(tmp_path, tlp=TLP.AMBER).records} == {TLP.AMBER}


def test_export_is_a_graphsense_tagpack_that_reads_back(tmp_path: Path) -> None:
    out = io.StringIO()
    assert write_tagpack(records(), out) == 3  # the domain is not an address
    doc = yaml.safe_load(out.getvalue())
    assert {"title", "creator", "lastmod", "tags"} <= set(doc)
    first = doc["tags"][0]
    assert first["abuse"] == "ransomware" and first["currency"] == "BTC"
    assert first["confidence"] == "manual_transaction"
    assert json.loads(first["context"])["tlp"] == "red"
    (tmp_path / "export.yaml").write_text(out.getvalue())
    back = {r.value: r for r in read_tagpack(tmp_path / "export.yaml").records}
    for rec in records()[:3]:
        twin = back[rec.value]
        assert (twin.type, twin.chain, twin.category) == (rec.type, rec.chain, rec.category)
    assert back["TLsV52sRDL79HXGGm9yzwKibb6BeruhUzy"].type is IndicatorType.CRYPTO_ADDRESS


def test_document_counts_what_it_leaves_out() -> None:
    doc, left_out = tagpack_document(records())
    assert len(doc["tags"]) == 3 and left_out == 1


@pytest.mark.realdata
def test_real_ransomware_pack_imports(shared_data: Path) -> None:
    result = read_tagpack(shared_data / "graphsense-tagpacks" / "packs" / "ransomware.yaml")
    assert len(result.records) == 7178 and not result.problems
    assert {r.category for r in result.records} == {Category.RANSOMWARE}
    assert {r.chain for r in result.records} == {"BTC"}


@pytest.mark.realdata
def test_real_ofac_pack_reports_its_bad_rows_by_line(shared_data: Path) -> None:
    result = read_tagpack(shared_data / "graphsense-tagpacks" / "packs" / "ofac.yaml")
    assert len(result.records) > 500
    assert result.problems and all(p.line for p in result.problems)
