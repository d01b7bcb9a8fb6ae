"""STIX 2.1 bundles to records: markings mapped to one TLP level, unsafe input refused."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from fundtrail.errors import InvalidInputError
from fundtrail.intel.stix_import import guess_chain, parse_stix
from fundtrail.intel.stix_markings import KNOWN_TLP_MARKINGS
from fundtrail.model.indicators import Category, IndicatorType
from fundtrail.model.tlp import TLP

DATA = Path(__file__).resolve().parents[2] / "data" / "stix"


def opencti_bundle() -> dict[str, Any]:
    return json.loads((DATA / "opencti_style.json").read_text())


def by_value(result: Any) -> dict[str, Any]:
    return {r.value: r for r in result.records}


def indicator(pattern: str, refs: list[str] | None = None, **extra: Any) -> dict[str, Any]:
    obj = {
        "type": "indicator",
        "spec_version": "2.1",
        "id": "indicator--11111111-2222-4333-8444-555555555555",
        "created": "2024-01-01T00:00:00.000Z",
        "modified": "2024-01-01T00:00:00.000Z",
        "pattern": pattern,
        "pattern_type": "stix",
        "valid_from": "2024-01-01T00:00:00Z",
    }
    if refs:
        obj["object_marking_refs"] = refs
    obj.update(extra)
    return obj


def test_opencti_style_bundle_maps_markings_and_wallet_fields() -> None:
    got = by_value(parse_stix(opencti_bundle()))
    ransom = got["1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2"]
    # TLP 1.0 RED plus a copyright statement: RED, the statement ignored
    assert (ransom.tlp, ransom.category, ransom.confidence) == (TLP.RED, Category.RANSOMWARE, 75)
    assert ransom.chain == "BTC"
    # OpenCTI's own AMBER+STRICT id; score and labels from OpenCTI's SCO extension
    sext = got["bc1qa5wkgaew2dkv56kfvj49j0av5nml45x9ek9hz6"]
    assert (sext.tlp, sext.category, sext.confidence) == (TLP.AMBER_STRICT, Category.SEXTORTION, 80)
    # the wallet written with 'address' instead of 'value'; EVM keyed lowercase
    evm = got["0xd882cfc20f52f2599d84b8e8d58c7fb62cfe344b"]
    assert (evm.type, evm.chain, evm.tlp) == (IndicatorType.CRYPTO_ADDRESS, "ETH", TLP.GREEN)
    # an OR pattern gives one record per value
    assert got["wallet-verify.example"].type is IndicatorType.DOMAIN
    assert got["https://wallet-verify.example/seed"].category is Category.PHISHING


def test_other_objects_are_skipped_and_counted() -> None:
    result = parse_stix(opencti_bundle())
    assert len(result.records) == 5
    assert result.skipped == {"malware (not stored)": 1}


@pytest.mark.parametrize(("marking_id", "level"), sorted(KNOWN_TLP_MARKINGS.items()))
def test_every_known_tlp_id_maps_to_its_level(marking_id: str, level: TLP) -> None:
    doc = indicator("[domain-name:value = 'a.example']", [marking_id])
    assert parse_stix(doc).records[0].tlp is level


def test_the_strictest_of_several_markings_wins() -> None:
    refs = [
        "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",  # CLEAR (2.0)
        "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed",  # RED (1.0)
    ]
    doc = indicator("[domain-name:value = 'a.example']", refs)
    assert parse_stix(doc).records[0].tlp is TLP.RED


def test_unmarked_objects_take_the_callers_default() -> None:
    doc = indicator("[domain-name:value = 'a.example']")
    assert parse_stix(doc, default_tlp="green").records[0].tlp is TLP.GREEN


def test_unknown_tlp_like_marking_is_refused_with_its_id() -> None:
    bundle = opencti_bundle()
    bundle["objects"].append(
        {
            "type": "marking-definition",
            "spec_version": "2.1",
            "id": "marking-definition--00000000-1111-4222-8333-444444444444",
            "created": "2024-01-01T00:00:00.000Z",
            "name": "TLP:PINK",
            "definition_type": "statement",
            "definition": {"statement": "pink"},
        }
    )
    with pytest.raises(InvalidInputError, match=r"00000000-1111.*looks like a TLP marking"):
        parse_stix(bundle)


def test_tlp_2_extension_under_a_foreign_id_is_refused() -> None:
    doc = {
        "type": "bundle",
        "id": "bundle--11111111-2222-4333-8444-555555555556",
        "objects": [
            {
                "type": "marking-definition",
                "spec_version": "2.1",
                "id": "marking-definition--12345678-1111-4222-8333-444444444444",
                "created": "2022-10-01T00:00:00.000Z",
                "name": "clear-ish",
                "extensions": {
                    "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d": {
                        "extension_type": "property-extension",
                        "tlp_2_0": "clear",
                    }
                },
            }
        ],
    }
    with pytest.raises(InvalidInputError, match="looks like a TLP marking"):
        parse_stix(doc)


def test_reference_to_an_undefined_marking_is_refused() -> None:
    doc = indicator(
        "[domain-name:value = 'a.example']",
        ["marking-definition--99999999-1111-4222-8333-444444444444"],
    )
    with pytest.raises(InvalidInputError, match="neither a known TLP marking nor defined"):
        parse_stix(doc)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b'{"type": "bundle", "objects": [', "not valid JSON: .* line 1, column"),
        (b"\xff\xfe", "not UTF-8|not valid JSON"),
        (b'"just a string"', "must be a bundle"),
        (b'{"type": "bundle", "id": "bundle--1", "objects": {}}', "must be a list"),
        (
            b'{"type": "bundle", "id": "bundle--1", "objects": [{"type": "indicator"}]}',
            r"objects\[0\] is not a STIX object",
        ),
        (
            b'{"type": "bundle", "id": "b", "objects": [{"type": "tool", "id": "malware--1"}]}',
            "does not start with its type",
        ),
    ],
)
def test_malformed_input_is_refused_with_a_clear_message(raw: bytes, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        parse_stix(raw)


def test_indicator_with_a_broken_pattern_is_refused_naming_the_object() -> None:
    bundle = opencti_bundle()
    bad = copy.deepcopy(bundle["objects"][5])
    bad["id"] = "indicator--22222222-2222-4333-8444-555555555555"
    bad["pattern"] = "[cryptocurrency-wallet:value = 'unterminated"
    bundle["objects"].append(bad)
    with pytest.raises(InvalidInputError, match=r"objects\[8\] \(indicator--2222.*not valid STIX"):
        parse_stix(bundle)


def test_indicator_missing_a_required_property_is_refused() -> None:
    doc = indicator("[domain-name:value = 'a.example']")
    del doc["valid_from"]
    with pytest.raises(InvalidInputError, match="valid_from"):
        parse_stix(doc)


def test_conjunctive_and_non_value_patterns_are_skipped() -> None:
    both = indicator("[domain-name:value = 'a.example'] AND [ipv4-addr:value = '198.51.100.1']")
    hashes = indicator("[file:hashes.MD5 = '001dd76872d80801692ff942308c64e6']")
    hashes["id"] = "indicator--11111111-2222-4333-8444-555555555557"
    result = parse_stix([both, hashes])
    assert result.records == []
    assert result.skipped["indicator (AND/FOLLOWEDBY pattern)"] == 1
    assert sum(result.skipped.values()) == 2


def test_values_that_fail_validation_are_skipped_and_reported() -> None:
    doc = indicator("[ipv4-addr:value = '10.0.0.0/8' OR domain-name:value = 'good.example']")
    result = parse_stix(doc)
    assert [r.value for r in result.records] == ["good.example"]
    assert result.skipped["value refused"] == 1
    assert "10.0.0.0/8" in result.problems[0]


def test_bad_wallet_checksum_is_refused_not_stored() -> None:
    doc = indicator("[cryptocurrency-wallet:value = '1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN3']")
    result = parse_stix(doc)
    assert result.records == [] and result.skipped["value refused"] == 1


def test_script_and_javascript_values_never_become_records() -> None:
    doc = indicator(
        "[url:value = 'javascript:alert(1)' OR domain-name:value = '<script>x</script>.example']"
    )
    result = parse_stix(doc)
    assert result.records == [] and result.skipped["value refused"] == 2


def test_chain_guess() -> None:
    assert guess_chain("1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2") == "BTC"
    assert guess_chain("0xd882cfc20f52f2599d84b8e8d58c7fb62cfe344b") == "ETH"
    assert guess_chain("TLsV52sRDL79HXGGm9yzwKibb6BeruhUzy") == "TRX"
    assert guess_chain("not-an-address") is None


# file -> records it yields (poisonivy: 43 distinct domains and IPs, one malformed domain)
EXAMPLES = {
    "apt1.json": 3,
    "indicator-for-c2-ip-address.json": 1,
    "indicator-to-campaign-relationship.json": 1,
    "indicators-for-C2-with-COA.json": 1,
    "infrastructure.json": 2,
    "interop-objectmarking-test.json": 0,
    "malicious-email-indicator-with-attachment.json": 0,
    "poisonivy.json": 42,
}


@pytest.mark.realdata
@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_every_oasis_example_imports(shared_data: Path, name: str) -> None:
    raw = (shared_data / "stix-examples" / name).read_bytes()
    result = parse_stix(raw)
    doc = json.loads(raw)
    n_objects = len(doc["objects"]) if "objects" in doc else 1
    assert len(result.records) == EXAMPLES[name]
    # every object is accounted for: stored (maybe several values), skipped or consumed
    assert sum(result.skipped.values()) <= n_objects


@pytest.mark.realdata
def test_oasis_poisonivy_gives_domains_and_ips(shared_data: Path) -> None:
    result = parse_stix((shared_data / "stix-examples" / "poisonivy.json").read_bytes())
    values = by_value(result)
    assert values["www.webserver.dynssl.com"].type is IndicatorType.DOMAIN
    assert values["219.76.208.163"].type is IndicatorType.IP
    assert result.skipped["malware (not stored)"] == 25
    assert result.skipped["relationship (not stored)"] == 90


@pytest.mark.realdata
def test_oasis_apt1_skips_cidr_ranges_and_certificates(shared_data: Path) -> None:
    result = parse_stix((shared_data / "stix-examples" / "apt1.json").read_bytes())
    assert sorted(r.value for r in result.records) == [
        "arrowservice.net",
        "hugesoft.org",
        "msnhome.org",
    ]
    assert result.skipped["value refused"] == 4  # four /15 ranges
    assert result.skipped["indicator (AND/FOLLOWEDBY pattern)"] == 2  # x509 issuer AND serial
