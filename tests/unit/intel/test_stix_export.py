"""Records to STIX 2.1: golden JSON under a frozen clock, strict validity, stable ids."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
import stix2

from fundtrail.intel.records import IndicatorRecord
from fundtrail.intel.stix import (
    TLP2_MARKINGS,
    indicator_stix_id,
    read_stix,
    to_stix_bundle,
    write_stix,
)
from fundtrail.intel.stix_check import stix_validation_errors
from fundtrail.intel.stix_import import parse_stix
from fundtrail.model.tlp import TLP

FROZEN = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
GOLDEN = Path(__file__).resolve().parents[2] / "data" / "stix" / "golden_bundle.json"


def sample_records() -> list[IndicatorRecord]:
    """One record of every indicator type, every TLP level present."""
    return [
        IndicatorRecord.build(
            "crypto-address",
            "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2",
            "ransomware",
            chain="BTC",
            tlp="red",
            org="police-unit",
            confidence=90,
            labels=["WannaCry"],
            description="ransom payment address",
            references=["https://example.org/case/1"],
        ),
        IndicatorRecord.build(
            "crypto-address",
            "0x8589427373D6D84E98730D7795D8f6f8731FDA16",
            "sanctions",
            chain="ETH",
            tlp="clear",
            org="alliance",
            confidence=100,
            source="ofac",
        ),
        IndicatorRecord.build("tx", "0x" + "ab" * 32, "theft", chain="ETH", tlp="green"),
        IndicatorRecord.build("domain", "Evil-Exchange.example", "phishing", tlp="amber"),
        IndicatorRecord.build(
            "url",
            "https://evil-exchange.example/login?next=%2Fwallet",
            "phishing",
            tlp="amber+strict",
        ),
        IndicatorRecord.build("email", "Support@Evil-Exchange.example", "impersonation"),
        IndicatorRecord.build("ip", "203.0.113.7", "investment-scam", tlp="green"),
        IndicatorRecord.build("ip", "2001:db8::7", "pig-butchering", tlp="green"),
        IndicatorRecord.build("phone", "+44 20 7946 0958", "scam"),
        IndicatorRecord.build(
            "crypto-address",
            "TLsV52sRDL79HXGGm9yzwKibb6BeruhUzy",
            "mixer",
            chain="TRX",
            valid_until=datetime(2027, 1, 1, tzinfo=UTC),
        ),
    ]


def test_export_matches_golden_json_under_a_frozen_clock() -> None:
    bundle = to_stix_bundle(sample_records(), now=FROZEN)
    assert bundle == json.loads(GOLDEN.read_text())


def test_exported_bundle_passes_stix2_validator_strictly() -> None:
    assert stix_validation_errors(to_stix_bundle(sample_records(), now=FROZEN)) == []


def test_validator_helper_does_catch_errors() -> None:
    bundle = to_stix_bundle(sample_records()[:1], now=FROZEN)
    indicator = next(o for o in bundle["objects"] if o["type"] == "indicator")
    del indicator["name"]  # a SHOULD: strict mode turns it into an error
    assert any("name" in e for e in stix_validation_errors(bundle))


def test_export_is_deterministic_and_ids_are_stable() -> None:
    a = to_stix_bundle(sample_records(), now=FROZEN)
    b = to_stix_bundle(sample_records(), now=FROZEN)
    assert a == b
    rec = sample_records()[0]
    assert indicator_stix_id(rec) == indicator_stix_id(sample_records()[0])
    other_org = sample_records()[0]
    other_org.org = "exchange"
    assert indicator_stix_id(other_org) != indicator_stix_id(rec)


def test_observable_ids_are_the_uuidv5_any_stix_producer_computes() -> None:
    bundle = to_stix_bundle(sample_records(), now=FROZEN)
    by_type = {o["type"]: o for o in bundle["objects"]}
    assert by_type["domain-name"]["id"] == stix2.DomainName(value="evil-exchange.example").id
    assert by_type["ipv4-addr"]["id"] == stix2.IPv4Address(value="203.0.113.7").id
    assert (
        by_type["email-addr"]["id"] == stix2.EmailAddress(value="support@evil-exchange.example").id
    )


def test_crypto_address_is_a_cryptocurrency_wallet_with_an_indicator() -> None:
    bundle = to_stix_bundle(sample_records()[:1], now=FROZEN)
    objs = {o["type"]: o for o in bundle["objects"]}
    wallet = objs["cryptocurrency-wallet"]
    assert wallet["value"] == "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2"
    ext_id = next(k for k, v in wallet["extensions"].items() if v["extension_type"] == "new-sco")
    ext = next(o for o in bundle["objects"] if o["id"] == ext_id)
    assert ext["type"] == "extension-definition" and ext["extension_types"] == ["new-sco"]
    ind = objs["indicator"]
    assert ind["pattern"] == "[cryptocurrency-wallet:value = '1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2']"
    assert ind["object_marking_refs"] == [TLP2_MARKINGS[TLP.RED]]
    assert ind["confidence"] == 90 and ind["indicator_types"] == ["malicious-activity"]


@pytest.mark.parametrize("level", list(TLP))
def test_every_tlp_level_uses_the_oasis_marking(level: TLP) -> None:
    rec = IndicatorRecord.build("domain", "a.example", "scam", tlp=level.value)
    bundle = to_stix_bundle([rec], now=FROZEN)
    marking = next(o for o in bundle["objects"] if o["type"] == "marking-definition")
    assert marking["id"] == TLP2_MARKINGS[level]
    assert marking["name"] == "TLP:" + level.value.upper()
    assert stix_validation_errors(bundle) == []


def test_round_trip_keeps_what_matters() -> None:
    records = sample_records()
    back = parse_stix(to_stix_bundle(records, now=FROZEN)).records
    key = lambda r: (r.type, r.chain, r.value)  # noqa: E731
    got = {key(r): r for r in back}
    assert len(back) == len(records)
    for rec in records:
        twin = got[key(rec)]
        assert (twin.category, twin.tlp, twin.confidence) == (rec.category, rec.tlp, rec.confidence)
    assert got[key(records[0])].labels == ["WannaCry"]
    assert got[key(records[0])].references == ["https://example.org/case/1"]


def test_stored_records_keep_their_store_id_as_stix_id() -> None:
    rec = sample_records()[3]
    rec.id = "3f2b8c1e-5d4a-4b6c-9e8f-7a1b2c3d4e5f"
    assert indicator_stix_id(rec) == "indicator--3f2b8c1e-5d4a-4b6c-9e8f-7a1b2c3d4e5f"


def test_file_writer_and_reader_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "out.json"
    with path.open("w", encoding="utf-8") as fh:
        assert write_stix(sample_records(), fh) == len(sample_records())
    result = read_stix(path, tlp=TLP.AMBER)
    assert len(result.records) == len(sample_records())
    # --tlp amber marks every record but never loosens a stricter one
    levels = {r.value: r.tlp for r in result.records}
    assert levels["1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2"] is TLP.RED
    assert levels["evil-exchange.example"] is TLP.AMBER
    assert levels["203.0.113.7"] is TLP.AMBER  # was GREEN
