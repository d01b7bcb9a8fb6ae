"""Bad input and other orgs at the TAXII door: a clear 4xx, nothing stored, nothing leaked."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from taxii_hub import MAX_BODY, N_GREEN, TAXII, LiveHub

from fundtrail.intel.records import IndicatorRecord
from fundtrail.intel.stix import to_stix_bundle
from fundtrail.intel.taxii import COLLECTIONS

ALL = next(c.id for c in COLLECTIONS if c.key == "all")
OWN = next(c.id for c in COLLECTIONS if c.key == "own")


def objects_url(hub: LiveHub, cid: str = ALL) -> str:
    return f"{hub.api_root}collections/{cid}/objects/"


def post(
    hub: LiveHub, who: str, body: bytes, content_type: str = TAXII, cid: str = OWN
) -> httpx.Response:
    headers = {**hub.bearer(who), "Content-Type": content_type}
    return httpx.post(objects_url(hub, cid), content=body, headers=headers, timeout=20)


def own_count(hub: LiveHub, who: str) -> int:
    r = httpx.get(objects_url(hub, OWN), params={"limit": 1000}, headers=hub.bearer(who))
    return len(r.json().get("objects", []))


def envelope(*records: IndicatorRecord, extra: list[dict[str, Any]] | None = None) -> bytes:
    objs = to_stix_bundle(list(records))["objects"] + (extra or [])
    return json.dumps({"objects": objs}).encode()


GOOD = IndicatorRecord.build("domain", "good.example", "scam", tlp="green")


def is_taxii_error(r: httpx.Response, status: int) -> bool:
    body = r.json()
    return (
        r.status_code == status
        and r.headers["content-type"] == TAXII
        and body["http_status"] == str(status)
        and body["description"]
    )


@pytest.fixture
def hub(live: LiveHub) -> Iterator[LiveHub]:
    """The module's hub: tests here that post as the exchange expect nothing stored, so
    the one test that does store posts as the police unit."""
    yield live


def test_unauthenticated_and_bad_keys_get_401(live: LiveHub) -> None:
    assert httpx.get(live.api_root, headers={"Accept": TAXII}).status_code == 401
    bad = {"Authorization": "Bearer ft_000000000000_nope", "Accept": TAXII}
    assert httpx.get(objects_url(live), headers=bad).status_code == 401
    assert httpx.get(live.discovery, headers={"Accept": TAXII}).status_code == 200


@pytest.mark.parametrize(
    "accept", ["application/json", "text/html", "application/taxii+json;version=2.0"]
)
def test_unsupported_accept_is_406(live: LiveHub, accept: str) -> None:
    r = httpx.get(objects_url(live), headers=live.bearer("police/analyst", accept=accept))
    assert is_taxii_error(r, 406)
    assert is_taxii_error(httpx.get(live.discovery, headers={"Accept": accept}), 406)


def test_unknown_collection_and_status_are_404(live: LiveHub) -> None:
    h = live.bearer("police/analyst")
    r = httpx.get(f"{live.api_root}collections/nope/objects/", headers=h)
    assert is_taxii_error(r, 404)
    assert is_taxii_error(httpx.get(f"{live.api_root}status/123/", headers=h), 404)


@pytest.mark.parametrize(
    "content_type", ["application/json", "text/plain", "", "application/taxii+json;version=2.0"]
)
def test_wrong_media_type_is_415_and_stores_nothing(hub: LiveHub, content_type: str) -> None:
    r = post(hub, "exchange/analyst", envelope(GOOD), content_type=content_type)
    assert is_taxii_error(r, 415)
    assert own_count(hub, "exchange/analyst") == 0


def test_oversized_body_is_refused_before_it_is_read(hub: LiveHub) -> None:
    # headers only, announcing more than the limit: the answer must come without a body
    parts = urlsplit(hub.url)
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
        sock.sendall(
            f"POST /taxii2/api/collections/{OWN}/objects/ HTTP/1.1\r\nHost: x\r\n"
            f"Authorization: Bearer {hub.keys['exchange/analyst']}\r\n"
            f"Content-Type: {TAXII}\r\nAccept: {TAXII}\r\n"
            f"Content-Length: {MAX_BODY * 10}\r\n\r\n".encode()
        )
        head = sock.recv(4096).decode(errors="replace")
    assert head.startswith("HTTP/1.1 413")
    assert own_count(hub, "exchange/analyst") == 0


def test_oversized_chunked_body_is_cut_off(hub: LiveHub) -> None:
    many = [IndicatorRecord.build("domain", f"d{i}.example", "scam") for i in range(2000)]
    body = envelope(*many)
    assert len(body) > MAX_BODY

    def chunks() -> Iterator[bytes]:
        for i in range(0, len(body), 8192):
            yield body[i : i + 8192]

    headers = {**hub.bearer("exchange/analyst"), "Content-Type": TAXII}
    r = httpx.post(objects_url(hub, OWN), content=chunks(), headers=headers, timeout=20)
    assert r.status_code == 413
    assert own_count(hub, "exchange/analyst") == 0


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        (b"{not json", "not valid JSON"),
        (b'{"objects": {"a": 1}}', "must be a list"),
        (b'{"objects": [{"type": "indicator"}]}', "needs string 'type' and 'id'"),
    ],
)
def test_malformed_envelopes_are_422(hub: LiveHub, body: bytes, needle: str) -> None:
    r = post(hub, "exchange/analyst", body)
    assert is_taxii_error(r, 422) and needle in r.json()["description"]


def test_one_malformed_object_stores_nothing(hub: LiveHub) -> None:
    bad = {
        "type": "indicator",
        "spec_version": "2.1",
        "id": "indicator--7e0c1a3b-2d4f-4a6b-8c9d-0e1f2a3b4c5d",
        "created": "2026-01-01T00:00:00.000Z",
        "modified": "2026-01-01T00:00:00.000Z",
        "pattern": "[domain-name:value = 'unterminated",
        "pattern_type": "stix",
        "valid_from": "2026-01-01T00:00:00Z",
    }
    r = post(hub, "exchange/analyst", envelope(GOOD, extra=[bad]))
    assert is_taxii_error(r, 422) and "indicator--7e0c1a3b" in r.json()["description"]
    assert own_count(hub, "exchange/analyst") == 0


def test_unknown_tlp_like_marking_stores_nothing(hub: LiveHub) -> None:
    pink = {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": "marking-definition--0f4b8d3a-6c2e-4f1a-9b7d-3e5c1a2b4d6f",
        "created": "2026-01-01T00:00:00.000Z",
        "name": "TLP:PINK",
        "definition_type": "statement",
        "definition": {"statement": "pink"},
    }
    r = post(hub, "exchange/analyst", envelope(GOOD, extra=[pink]))
    assert is_taxii_error(r, 422) and "looks like a TLP marking" in r.json()["description"]
    assert own_count(hub, "exchange/analyst") == 0


def test_script_and_javascript_values_are_failures_not_stored(hub: LiveHub) -> None:
    evil = {
        "type": "indicator",
        "spec_version": "2.1",
        "id": "indicator--5a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
        "created": "2026-01-01T00:00:00.000Z",
        "modified": "2026-01-01T00:00:00.000Z",
        "pattern": "[url:value = 'javascript:alert(1)' OR "
        "domain-name:value = '<script>alert(1)</script>']",
        "pattern_type": "stix",
        "valid_from": "2026-01-01T00:00:00Z",
    }
    r = post(hub, "exchange/analyst", json.dumps({"objects": [evil]}).encode())
    assert r.status_code == 202
    status = r.json()
    assert status["success_count"] == 0 and status["failures"][0]["id"] == evil["id"]
    assert own_count(hub, "exchange/analyst") == 0


def test_next_token_replayed_by_another_org_is_refused(live: LiveHub) -> None:
    first = httpx.get(
        objects_url(live), params={"limit": 3}, headers=live.bearer("exchange/analyst")
    ).json()
    assert first["more"] is True
    token = first["next"]
    mine = httpx.get(
        objects_url(live),
        params={"limit": 3, "next": token},
        headers=live.bearer("exchange/analyst"),
    )
    assert mine.status_code == 200
    stolen = httpx.get(
        objects_url(live), params={"limit": 3, "next": token}, headers=live.bearer("bank/reader")
    )
    assert is_taxii_error(stolen, 400)
    # nor with another query, nor tampered with
    other = httpx.get(
        objects_url(live),
        params={"limit": 3, "next": token, "match[type]": "indicator"},
        headers=live.bearer("exchange/analyst"),
    )
    assert is_taxii_error(other, 400)
    forged = httpx.get(
        objects_url(live),
        params={"next": token[:-2] + "AA"},
        headers=live.bearer("exchange/analyst"),
    )
    assert is_taxii_error(forged, 400)


def test_status_of_another_org_is_404(hub: LiveHub) -> None:
    private = IndicatorRecord.build("domain", "status.example", "scam", tlp="amber+strict")
    r = post(hub, "police/analyst", envelope(private))
    assert r.status_code == 202
    url = f"{hub.api_root}status/{r.json()['id']}/"
    assert httpx.get(url, headers=hub.bearer("police/analyst")).status_code == 200
    assert is_taxii_error(httpx.get(url, headers=hub.bearer("exchange/analyst")), 404)


def test_bad_filters_are_4xx(live: LiveHub) -> None:
    h = live.bearer("police/analyst")
    r = httpx.get(objects_url(live), params={"added_after": "yesterday"}, headers=h)
    assert r.status_code in (400, 422) and "added_after" in r.json()["description"]
    r = httpx.get(objects_url(live), params={"limit": "ten"}, headers=h)
    assert is_taxii_error(r, 400)


def test_counts_leak_nothing(live: LiveHub) -> None:
    """Manifest and objects agree, page by page, for the partner that sees least."""
    h = live.bearer("bank/reader")
    seen = 0
    params: dict[str, Any] = {"limit": 10}
    while True:
        r = httpx.get(f"{live.api_root}collections/{ALL}/manifest/", params=params, headers=h)
        body = r.json()
        seen += len(body.get("objects", []))
        if not body.get("more"):
            break
        params["next"] = body["next"]
    assert seen == N_GREEN


def test_reads_of_red_data_are_audited(hub: LiveHub) -> None:
    import sqlalchemy as sa

    from fundtrail.intelstore.audit import AuditEntry

    red = next(c.id for c in COLLECTIONS if c.key == "tlp-red")
    r = httpx.get(objects_url(hub, red), headers=hub.bearer("exchange/analyst"))
    assert r.status_code == 200 and len(r.json()["objects"]) == 1
    with hub.store.read_session() as s:
        last = s.scalars(sa.select(AuditEntry).order_by(AuditEntry.id.desc())).first()
    assert last is not None and last.action == "taxii.objects"
    assert last.remote == "127.0.0.1"
