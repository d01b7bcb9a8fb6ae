"""The TAXII server driven by the real taxii2-client: discovery, paging, filters, writes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import requests
from requests.exceptions import HTTPError
from taxii2client.v21 import ApiRoot, Server, as_pages
from taxii_hub import N_GREEN, LiveHub, all_objects, collection

from fundtrail.intel.records import IndicatorRecord
from fundtrail.intel.stix import TLP2_MARKINGS, to_stix_bundle
from fundtrail.model.tlp import TLP


def test_discovery_needs_no_key_and_names_the_api_root(live: LiveHub) -> None:
    server = Server(live.discovery)
    assert server.title == "fundtrail intel hub"
    assert [r.url for r in server.api_roots] == [live.api_root]
    assert server.default.url == live.api_root


def test_api_root_and_collections_reflect_the_callers_rights(live: LiveHub) -> None:
    user, key = live.creds("police/analyst")
    root = ApiRoot(live.api_root, user=user, password=key)
    assert root.versions == ["application/taxii+json;version=2.1"]
    assert root.max_content_length > 0
    titles = {c.title: c for c in root.collections}
    assert {"Shared with you", "Shared by you", "TLP:RED"} <= set(titles)
    assert all(c.can_read and c.can_write for c in titles.values())
    user, key = live.creds("bank/reader")
    reader = ApiRoot(live.api_root, user=user, password=key)
    assert all(c.can_read and not c.can_write for c in reader.collections)


def test_paging_with_as_pages_returns_every_visible_object_once(live: LiveHub) -> None:
    objects = all_objects(collection(live, "exchange/analyst", "Shared with you"), 5)
    ids = [o["id"] for o in objects]
    assert len(ids) == len(set(ids)) == N_GREEN + 3  # GREEN + AMBER, AMBER+STRICT, RED shared
    patterns = " ".join(o["pattern"] for o in objects)
    assert "amber-shared.example" in patterns and "red-shared.example" in patterns
    assert not any(v in patterns for v in live.hidden_from_exchange)


def test_a_partner_never_sees_what_it_may_not(live: LiveHub) -> None:
    for title in ("Shared with you", "TLP:AMBER", "TLP:AMBER+STRICT", "TLP:RED"):
        coll = collection(live, "bank/reader", title)
        patterns = " ".join(o["pattern"] for o in all_objects(coll, 7))
        assert not any(v in patterns for v in live.hidden_from_bank), title
        manifest = [
            e for env in as_pages(coll.get_manifest, per_request=7) for e in env.get("objects", [])
        ]
        assert len(manifest) == (N_GREEN if title == "Shared with you" else 0)


def test_added_after_continues_from_the_last_date_added_header(live: LiveHub) -> None:
    coll = collection(live, "police/analyst", "Shared with you")
    first = coll.get_objects(limit=10)
    resp = coll._conn.session.get(  # the header, as a client resuming later would keep it
        coll.objects_url,
        params={"limit": 10},
        headers={"Accept": "application/taxii+json;version=2.1"},
        auth=(live.creds("police/analyst")),
    )
    last = resp.headers["X-TAXII-Date-Added-Last"]
    assert resp.headers["X-TAXII-Date-Added-First"] <= last
    rest = all_objects(coll, 50, added_after=last)
    seen = {o["id"] for o in first["objects"]}
    assert not seen & {o["id"] for o in rest}
    assert len(seen) + len(rest) == N_GREEN + 5


def test_match_filters(live: LiveHub) -> None:
    coll = collection(live, "police/analyst", "Shared with you")
    one = coll.get_objects(limit=1)["objects"][0]
    by_id = coll.get_objects(id=one["id"])
    assert [o["id"] for o in by_id["objects"]] == [one["id"]]
    assert coll.get_objects(type="malware").get("objects", []) == []
    assert len(coll.get_objects(type="indicator", limit=3)["objects"]) == 3
    assert coll.get_objects(id=one["id"], version=one["modified"])["objects"][0] == one
    assert (
        coll.get_objects(id=one["id"], version="2000-01-01T00:00:00.000Z").get("objects", []) == []
    )
    assert coll.get_objects(spec_version="2.0").get("objects", []) == []
    assert coll.get_object(one["id"])["objects"] == [one]
    assert coll.object_versions(one["id"])["versions"] == [one["modified"]]


def test_hidden_object_by_id_is_404_like_a_missing_one(live: LiveHub) -> None:
    police = collection(live, "police/analyst", "TLP:RED")
    hidden = next(o for o in police.get_objects()["objects"] if "unshared" in o["pattern"])
    bank = collection(live, "bank/reader", "TLP:RED")
    for call in (bank.get_object, bank.object_versions):
        with pytest.raises(HTTPError) as err:
            call(hidden["id"])
        assert err.value.response.status_code == 404
    with pytest.raises(HTTPError) as missing:
        bank.get_object("indicator--00000000-0000-4000-8000-000000000000")
    assert missing.value.response.status_code == 404
    assert bank.get_objects(id=hidden["id"]).get("objects", []) == []


def test_add_objects_and_status_with_the_client(fresh: LiveHub) -> None:
    coll = collection(fresh, "exchange/analyst", "TLP:GREEN")
    records = [
        IndicatorRecord.build(
            "crypto-address",
            "12t9YDPgwueZ9NyMgw519p7AA8isjr6SMw",
            "ransomware",
            chain="BTC",
            tlp="clear",
        ),
        IndicatorRecord.build("domain", "pig-butcher.example", "pig-butchering", tlp="red"),
    ]
    bundle = to_stix_bundle(records, now=datetime(2026, 3, 1, tzinfo=UTC))
    malware = {
        "type": "malware",
        "spec_version": "2.1",
        "id": "malware--31b940d4-6f7f-459a-80ea-9c1f17b5891b",
        "created": "2026-03-01T00:00:00.000Z",
        "modified": "2026-03-01T00:00:00.000Z",
        "name": "WannaCry",
        "is_family": True,
    }
    status = coll.add_objects({"objects": [*bundle["objects"], malware]})
    assert status.status == "complete"
    assert status.total_count == len(bundle["objects"]) + 1
    assert status.failure_count == 1 and status.failures[0]["id"] == malware["id"]
    assert status.success_count == len(bundle["objects"])
    status.refresh()  # GET /status/{id}/ through the client
    assert status.success_count == len(bundle["objects"])
    own = collection(fresh, "exchange/analyst", "Shared by you").get_objects()["objects"]
    marks = {o["pattern"].split("'")[1]: o["object_marking_refs"] for o in own}
    # the TLP:GREEN collection raised the CLEAR address to GREEN; RED stays RED
    assert marks == {
        "12t9YDPgwueZ9NyMgw519p7AA8isjr6SMw": [TLP2_MARKINGS[TLP.GREEN]],
        "pig-butcher.example": [TLP2_MARKINGS[TLP.RED]],
    }
    # police does not see exchange's RED indicator
    police_red = collection(fresh, "police/analyst", "TLP:RED").get_objects()["objects"]
    assert "pig-butcher" not in str(police_red)


def test_delete_by_owner_only(fresh: LiveHub) -> None:
    police = collection(fresh, "police/analyst", "Shared by you")
    target = police.get_objects(limit=1)["objects"][0]
    exchange = collection(fresh, "exchange/analyst", "Shared with you")
    with pytest.raises(HTTPError) as err:
        exchange.delete_object(target["id"])
    assert err.value.response.status_code == 403
    police.delete_object(target["id"])
    with pytest.raises(HTTPError) as gone:
        police.get_object(target["id"])
    assert gone.value.response.status_code == 404


def test_reader_cannot_add(fresh: LiveHub) -> None:
    coll = collection(fresh, "bank/reader", "Shared by you")
    assert not coll.can_write  # the client refuses by itself; a rogue client would not
    bundle = to_stix_bundle([IndicatorRecord.build("domain", "x.example", "scam")])
    resp = requests.post(
        coll.objects_url,
        json={"objects": bundle["objects"]},
        auth=fresh.creds("bank/reader"),
        headers={
            "Content-Type": "application/taxii+json;version=2.1",
            "Accept": "application/taxii+json;version=2.1",
        },
        timeout=10,
    )
    assert resp.status_code == 403 and resp.json()["http_status"] == "403"
    assert "x.example" not in str(
        collection(fresh, "bank/reader", "Shared with you").get_objects().get("objects", [])
    )
