"""MISP events in and out: crypto attributes and objects, TLP tags and distribution."""

from __future__ import annotations

import copy
import io
import json
from pathlib import Path
from typing import Any

import pytest

from fundtrail.errors import InvalidInputError
from fundtrail.intel.misp import parse_misp, read_misp, to_misp_event, write_misp
from fundtrail.intel.records import IndicatorRecord
from fundtrail.model.indicators import Category, IndicatorType
from fundtrail.model.tlp import TLP

EVENT = Path(__file__).resolve().parents[2] / "data" / "misp" / "event_ransomware.json"


def event() -> dict[str, Any]:
    return json.loads(EVENT.read_text())


def values(result: Any) -> dict[str, IndicatorRecord]:
    return {r.value: r for r in result.records}


def test_crypto_attributes_and_objects_become_addresses_and_txs() -> None:
    got = values(parse_misp(event()))
    assert got["12t9YDPgwueZ9NyMgw519p7AA8isjr6SMw"].chain == "BTC"
    xmr = next(r for r in got.values() if r.chain == "XMR")
    assert xmr.type is IndicatorType.CRYPTO_ADDRESS
    assert got["XpESxaUmonkq8RaLLp46Brx2K39ggQe226"].chain == "DASH"
    assert got["TLsV52sRDL79HXGGm9yzwKibb6BeruhUzy"].chain == "TRX"  # coin-address symbol
    tx = got["4d3c2b1a0f9e8d7c6b5a49382716051403f2e1d0c9b8a7968574635241302010"]
    assert (tx.type, tx.chain) == (IndicatorType.TX, "BTC")
    assert "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2" in got  # the transaction object's address
    # an ETH address typed 'btc' is recognised by its checksum, not stored as BTC
    assert got["0x8589427373d6d84e98730d7795d8f6f8731fda16"].chain == "ETH"


def test_network_attributes_and_composites() -> None:
    got = values(parse_misp(event()))
    assert got["wallet-unlock.example"].type is IndicatorType.DOMAIN
    assert got["https://wallet-unlock.example/decrypt"].type is IndicatorType.URL
    assert got["support@wallet-unlock.example"].type is IndicatorType.EMAIL
    assert got["c2.wallet-unlock.example"].type is IndicatorType.DOMAIN  # domain|ip
    assert got["198.51.100.23"].type is IndicatorType.IP


def test_deleted_and_unknown_attributes_are_skipped_and_counted() -> None:
    result = parse_misp(event())
    assert "203.0.113.99" not in values(result)  # deleted
    assert result.skipped == {"attribute (deleted)": 1, "attribute link (not stored)": 1}
    assert len(result.records) == 12


def test_tlp_tags_and_distribution() -> None:
    got = values(parse_misp(event()))
    # event tlp:amber, attribute inherits
    assert got["12t9YDPgwueZ9NyMgw519p7AA8isjr6SMw"].tlp is TLP.AMBER
    # attribute tag tlp:red is stricter than the event's amber
    assert got["wallet-unlock.example"].tlp is TLP.RED
    # distribution 0 (your organisation only) narrows to AMBER+STRICT
    assert got["XpESxaUmonkq8RaLLp46Brx2K39ggQe226"].tlp is TLP.AMBER_STRICT
    # a tlp:green tag inside an amber event does not widen it
    assert got["TLsV52sRDL79HXGGm9yzwKibb6BeruhUzy"].tlp is TLP.AMBER


@pytest.mark.parametrize(
    ("distribution", "level"),
    [
        ("0", TLP.AMBER_STRICT),
        ("1", TLP.AMBER),
        ("2", TLP.GREEN),
        ("3", TLP.GREEN),
        ("4", TLP.AMBER),
    ],
)
def test_distribution_without_tag_maps_to_tlp(distribution: str, level: TLP) -> None:
    doc = {
        "Event": {
            "info": "x",
            "distribution": distribution,
            "Attribute": [{"type": "domain", "value": "a.example", "distribution": "5"}],
        }
    }
    assert parse_misp(doc).records[0].tlp is level


def test_tlp_white_tag_reads_as_clear() -> None:
    doc = {
        "Event": {
            "info": "x",
            "distribution": "3",
            "Tag": [{"name": "tlp:white"}],
            "Attribute": [{"type": "domain", "value": "a.example"}],
        }
    }
    assert parse_misp(doc).records[0].tlp is TLP.CLEAR


def test_categories_from_tags() -> None:
    got = values(parse_misp(event()))
    assert got["12t9YDPgwueZ9NyMgw519p7AA8isjr6SMw"].category is Category.RANSOMWARE
    assert got["wallet-unlock.example"].category is Category.PHISHING


def test_unknown_tlp_tag_refuses_the_event() -> None:
    doc = event()
    doc["Event"]["Tag"].append({"name": "tlp:pink"})
    with pytest.raises(InvalidInputError, match="unknown TLP tag 'tlp:pink'"):
        parse_misp(doc)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"{not json", "not valid JSON"),
        (b'{"Event": "nope"}', "not a MISP event"),
        (b'{"Event": {"info": "x", "Attribute": {}}}', "Attribute must be a list"),
        (b"[1, 2]", "item 0 is not a MISP event"),
    ],
)
def test_malformed_misp_is_refused(raw: bytes, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        parse_misp(raw)


def test_javascript_and_script_values_are_refused() -> None:
    doc = {
        "Event": {
            "info": "x",
            "Attribute": [
                {"type": "url", "value": "javascript:alert(document.cookie)"},
                {"type": "domain", "value": "<script>alert(1)</script>"},
            ],
        }
    }
    result = parse_misp(doc)
    assert result.records == [] and result.skipped["value refused"] == 2


def sample() -> list[IndicatorRecord]:
    return [
        IndicatorRecord.build(
            "crypto-address",
            "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2",
            "ransomware",
            chain="BTC",
            tlp="red",
        ),
        IndicatorRecord.build(
            "crypto-address",
            "0x8589427373D6D84E98730D7795D8f6f8731FDA16",
            "sanctions",
            chain="ETH",
            tlp="clear",
        ),
        IndicatorRecord.build(
            "crypto-address",
            event()["Event"]["Attribute"][1]["value"],
            "darknet-market",
            chain="XMR",
            tlp="amber+strict",
        ),
        IndicatorRecord.build("tx", "ab" * 32, "theft", chain="BTC", tlp="green"),
        IndicatorRecord.build("domain", "evil.example", "phishing", tlp="amber"),
        IndicatorRecord.build("url", "https://evil.example/x", "phishing", tlp="amber"),
        IndicatorRecord.build("email", "a@evil.example", "scam", tlp="green"),
        IndicatorRecord.build("ip", "198.51.100.7", "scam", tlp="green"),
        IndicatorRecord.build("phone", "+15555550123", "impersonation", tlp="amber"),
    ]


def test_export_uses_misp_templates() -> None:
    ev = to_misp_event(sample())["Event"]
    objects = {o["name"]: o for o in ev["Object"]}
    coin = next(o for o in ev["Object"] if o["name"] == "coin-address")
    rels = {a["object_relation"]: a for a in coin["Attribute"]}
    assert rels["address"]["type"] == "btc" and rels["symbol"]["value"] == "BTC"
    assert {"tlp:red"} <= {t["name"] for t in rels["address"]["Tag"]}
    assert rels["address"]["distribution"] == "0"
    tx = objects["cryptocurrency-transaction"]
    assert {a["object_relation"] for a in tx["Attribute"]} == {"transaction-number", "symbol"}
    assert {a["type"] for a in ev["Attribute"]} == {
        "domain",
        "url",
        "email",
        "ip-dst",
        "phone-number",
    }


def test_export_then_import_round_trips() -> None:
    out = io.StringIO()
    assert write_misp(sample(), out) == len(sample())
    back = values(parse_misp(out.getvalue()))
    for rec in sample():
        twin = back[rec.value]
        assert (twin.type, twin.chain, twin.tlp, twin.category) == (
            rec.type,
            rec.chain,
            rec.tlp,
            rec.category,
        )


def test_export_is_deterministic() -> None:
    from datetime import UTC, datetime

    now = datetime(2026, 3, 1, tzinfo=UTC)
    assert to_misp_event(sample(), now=now) == to_misp_event(copy.deepcopy(sample()), now=now)


def test_format_reader_on_an_event_file() -> None:
    result = read_misp(EVENT, tlp=TLP.RED)
    assert len(result.records) == 12 and all(r.tlp is TLP.RED for r in result.records)
    assert any("link (not stored)" in str(p) for p in result.problems)
