"""Private lookups: prefix buckets and the Bloom filter see exactly what the caller may see."""

from __future__ import annotations

import hashlib
import json
import struct
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from fundtrail.errors import InvalidInputError
from fundtrail.intel.indicators import IndicatorService
from fundtrail.intel.lookup import BloomFilter, LookupService, lookup_hash, parse_prefix
from fundtrail.intel.records import IndicatorRecord
from fundtrail.intelstore.audit import AuditEntry
from fundtrail.intelstore.db import IntelStore, open_store
from fundtrail.intelstore.keys import create_key
from fundtrail.intelstore.orgs import add_org, org_identity
from fundtrail.model.identity import Identity

POLICE_ONLY = "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2"  # RED, shared with nobody
PUBLIC = "0x8589427373d6d84e98730d7795d8f6f8731fda16"  # GREEN


@pytest.fixture
def store(tmp_path: Path) -> Iterator[IntelStore]:
    st = open_store(f"sqlite:///{tmp_path / 'intel.sqlite'}")
    with st.session() as s:
        add_org(s, "police", "law-enforcement")
        add_org(s, "exchange", "exchange")
    svc = IndicatorService(st)
    svc.import_records(
        who(st, "police"),
        [
            IndicatorRecord.build(
                "crypto-address", POLICE_ONLY, "ransomware", chain="BTC", tlp="red"
            ),
            IndicatorRecord.build("crypto-address", PUBLIC, "sanctions", chain="ETH", tlp="green"),
            IndicatorRecord.build(
                "domain", "evil.example", "phishing", tlp="amber", share_with=["exchange"]
            ),
        ],
    )
    yield st
    st.close()


def who(store: IntelStore, org: str) -> Identity:
    with store.read_session() as s:
        return org_identity(s, org, "analyst")


def test_hash_is_sha256_of_the_normalised_value() -> None:
    evm = "0x8589427373D6D84E98730D7795D8f6f8731FDA16"
    assert (
        lookup_hash("crypto-address", evm, "ETH")
        == hashlib.sha256(evm.lower().encode()).hexdigest()
    )
    assert (
        lookup_hash("crypto-address", POLICE_ONLY, "BTC")
        == hashlib.sha256(POLICE_ONLY.encode()).hexdigest()
    )


@pytest.mark.parametrize("bad", ["abcd", "abcdef", "xyz12", "", "../..", "a3f9c%"])
def test_prefix_must_be_five_hex_digits(bad: str) -> None:
    with pytest.raises(InvalidInputError, match="exactly 5 hex digits"):
        parse_prefix(bad)


def test_bucket_holds_only_what_the_caller_may_see(store: IntelStore) -> None:
    svc = LookupService(store)
    red = lookup_hash("crypto-address", POLICE_ONLY, "BTC")
    green = lookup_hash("crypto-address", PUBLIC, "ETH")
    mine = svc.by_prefix(who(store, "police"), red[:5])
    assert {"hash": red, "categories": ["ransomware"]} in mine["matches"]
    theirs = svc.by_prefix(who(store, "exchange"), red[:5])
    assert red not in {m["hash"] for m in theirs["matches"]}
    assert theirs["count"] == len(theirs["matches"])
    shared = svc.by_prefix(who(store, "exchange"), green[:5])
    assert {"hash": green, "categories": ["sanctions"]} in shared["matches"]


def test_restricted_bucket_reads_are_audited(store: IntelStore) -> None:
    red = lookup_hash("crypto-address", POLICE_ONLY, "BTC")
    LookupService(store).by_prefix(who(store, "police"), red[:5], remote="10.9.8.7")
    with store.read_session() as s:
        last = s.scalars(sa.select(AuditEntry).order_by(AuditEntry.id.desc())).first()
    assert last is not None and last.action == "lookup.prefix" and last.remote == "10.9.8.7"


def test_bloom_of_a_partner_omits_hidden_values(store: IntelStore) -> None:
    svc = LookupService(store)
    red = lookup_hash("crypto-address", POLICE_ONLY, "BTC")
    amber = lookup_hash("domain", "evil.example")
    assert red in svc.bloom(who(store, "police"))
    partner = svc.bloom(who(store, "exchange"))
    assert partner.n == 2 and amber in partner  # GREEN + AMBER shared with it
    assert red not in partner  # tiny filter, fp ~1e-3: a false positive would be a fluke


def test_bloom_has_no_false_negatives_and_states_its_fp_rate() -> None:
    members = [hashlib.sha256(f"m{i}".encode()).hexdigest() for i in range(5000)]
    bloom = BloomFilter.build(members, fp_rate=0.01)
    assert all(h in bloom for h in members)
    probes = [hashlib.sha256(f"x{i}".encode()).hexdigest() for i in range(20000)]
    measured = sum(h in bloom for h in probes) / len(probes)
    assert 0.004 < measured < 0.02  # stated ~0.01; 20k probes
    assert bloom.fp_rate == pytest.approx(0.01, rel=0.15)


def test_bloom_file_format_is_as_documented() -> None:
    members = [hashlib.sha256(f"m{i}".encode()).hexdigest() for i in range(300)]
    data = BloomFilter.build(members, fp_rate=0.001).to_bytes()
    assert data[:8] == b"FTBLOOM1"
    (hlen,) = struct.unpack("<I", data[8:12])
    head = json.loads(data[12 : 12 + hlen])
    bits = data[12 + hlen :]
    assert len(bits) == (head["m"] + 7) // 8

    # an independent reader written from the docstring alone
    def maybe(digest_hex: str) -> bool:
        d = bytes.fromhex(digest_hex)
        h1, h2 = struct.unpack("<Q", d[0:8])[0], struct.unpack("<Q", d[8:16])[0]
        for j in range(head["k"]):
            bit = ((h1 + j * h2) % 2**64) % head["m"]
            if not bits[bit // 8] >> (bit % 8) & 1:
                return False
        return True

    assert all(maybe(h) for h in members)
    again = BloomFilter.from_bytes(data)
    assert (again.m, again.k, again.n) == (head["m"], head["k"], 300)


def test_broken_bloom_file_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="bad magic"):
        BloomFilter.from_bytes(b"GIF89a" + b"\0" * 20)


def test_lookup_over_http(store: IntelStore, tmp_path: Path) -> None:
    from fundtrail.server.app import create_app
    from fundtrail.settings import Settings

    with store.session() as s:
        key = create_key(s, "exchange", "reader").key
    app = create_app(store, Settings(home=tmp_path))
    client = TestClient(app)
    auth = {"Authorization": f"Bearer {key}"}
    green = lookup_hash("crypto-address", PUBLIC, "ETH")
    red = lookup_hash("crypto-address", POLICE_ONLY, "BTC")
    r = client.get(f"/api/v1/lookup/{green[:5]}", headers=auth)
    assert r.status_code == 200 and green in {m["hash"] for m in r.json()["matches"]}
    r = client.get(f"/api/v1/lookup/{red[:5]}", headers=auth)
    assert r.status_code == 200 and red not in r.text
    assert client.get(f"/api/v1/lookup/{green[:5]}").status_code == 401
    bad = client.get("/api/v1/lookup/zzzzz", headers=auth)
    assert bad.status_code == 422 and "5 hex digits" in bad.json()["message"]
    r = client.get("/api/v1/lookup/bloom?fp_rate=0.0001", headers=auth)
    assert r.status_code == 200 and r.headers["content-type"] == "application/octet-stream"
    bloom = BloomFilter.from_bytes(r.content)
    assert (
        bloom.n == 2 and green in bloom and float(r.headers["X-Bloom-False-Positive-Rate"]) < 1e-3
    )
