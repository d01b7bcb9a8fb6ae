"""The indicator REST API with two (three) orgs: TLP on every path, owner-only writes,
hostile values refused or stored inert, nothing half-stored."""

from __future__ import annotations

from typing import Any

import pytest

Hub = Any  # the `hub` / `any_hub` fixtures (conftest.py)
API = "/api/v1/indicators"
ETH = "0x19aa5fe80d33a56d56c78e82ea5e50e5d80b4dff"


def ids(hub: Hub, who: str, **params: Any) -> set[str]:
    r = hub.client.get(API, params={"limit": 1000, **params}, headers=hub.auth(who))
    assert r.status_code == 200, r.text
    return {item["id"] for item in r.json()["items"]}


def test_post_normalises_and_answers_201(hub: Hub) -> None:
    body = {
        "type": "crypto-address",
        "value": ETH.upper().replace("0X", "0x"),
        "chain": "eth",
        "category": "pig-butchering",
        "confidence": 90,
        "tlp": "amber",
        "share_with": ["exchange"],
        "description": "collection wallet",
        "references": ["https://example.org/report"],
    }
    r = hub.client.post(API, json=body, headers=hub.auth("police/analyst"))
    assert r.status_code == 201
    got = r.json()
    assert (got["value"], got["chain"], got["org"], got["share_with"]) == (
        ETH,
        "ETH",
        "police",
        ["exchange"],
    )
    assert hub.client.get(f"{API}/{got['id']}", headers=hub.auth("police/reader")).json() == got


def test_tlp_on_every_read_path(any_hub: Hub) -> None:
    hub = any_hub
    made = {
        tlp: hub.add(
            "police/analyst",
            value=f"{tlp.replace('+', '-')}.scam.example.com",
            tlp=tlp,
            share_with=["exchange"],
        )["id"]
        for tlp in ("clear", "green", "amber", "amber+strict", "red")
    }
    expected = {
        "police": set(made.values()),
        # TLP 2.0: AMBER+STRICT goes to the listed recipient org (for itself only)
        "exchange": set(made.values()),
        "bank": {made["clear"], made["green"]},
    }
    missing = hub.client.get(f"{API}/does-not-exist", headers=hub.auth("bank/reader"))
    for org, visible in expected.items():
        who = f"{org}/reader"
        assert ids(hub, who) == visible
        assert ids(hub, who, q="scam") == visible
        count = hub.client.get(API, params={"count": "true", "limit": 1}, headers=hub.auth(who))
        assert count.json()["total"] == len(visible)
        for tlp, iid in made.items():
            r = hub.client.get(f"{API}/{iid}", headers=hub.auth(who))
            s = hub.client.get(f"{API}/{iid}/sightings", headers=hub.auth(who))
            if iid in visible:
                assert (r.status_code, s.status_code) == (200, 200), (org, tlp)
            else:  # hidden answers exactly like missing
                assert r.status_code == s.status_code == missing.status_code == 404
                assert r.json() == {**missing.json(), "message": f"no indicator {iid!r}"}
                assert tlp not in r.text and "police" not in r.text


def test_value_lookup_and_filters(hub: Hub) -> None:
    hub.add(
        "police/analyst",
        type="crypto-address",
        value=ETH,
        chain="ETH",
        category="sanctions",
        tlp="clear",
    )
    hub.add("police/analyst", value="a.example.com", tlp="clear")
    assert len(ids(hub, "bank/reader", value=ETH.upper().replace("0X", "0x"))) == 1
    assert len(ids(hub, "bank/reader", category="sanctions")) == 1
    assert len(ids(hub, "bank/reader", type="domain")) == 1
    r = hub.client.get(API, params={"category": "nonsense"}, headers=hub.auth("bank/reader"))
    assert r.status_code == 422 and r.json()["field"] == "category"


def test_pagination_and_replay_by_another_org(hub: Hub) -> None:
    for i in range(5):
        hub.add("police/analyst", value=f"p{i}.example.com", tlp="green")
    first = hub.client.get(API, params={"limit": 2}, headers=hub.auth("police/reader")).json()
    assert len(first["items"]) == 2 and first["next"]
    seen = [i["id"] for i in first["items"]]
    token = first["next"]
    while token:
        page = hub.client.get(
            API, params={"limit": 2, "next": token}, headers=hub.auth("police/reader")
        ).json()
        seen += [i["id"] for i in page["items"]]
        token = page["next"]
    assert len(seen) == len(set(seen)) == 5
    r = hub.client.get(
        API, params={"limit": 2, "next": first["next"]}, headers=hub.auth("exchange/reader")
    )
    assert r.status_code == 422
    assert r.json()["field"] == "next" and "not valid for this caller" in r.json()["message"]


def test_only_owner_analysts_modify_and_delete(hub: Hub) -> None:
    item = hub.add("police/analyst", value="owned.example.com", tlp="green")
    url = f"{API}/{item['id']}"
    assert (
        hub.client.patch(
            url, json={"confidence": 10}, headers=hub.auth("police/reader")
        ).status_code
        == 403
    )
    assert (
        hub.client.patch(
            url, json={"confidence": 10}, headers=hub.auth("exchange/admin")
        ).status_code
        == 403
    )
    assert hub.client.delete(url, headers=hub.auth("exchange/admin")).status_code == 403
    r = hub.client.patch(
        url, json={"confidence": 10, "tlp": "amber+strict"}, headers=hub.auth("police/analyst")
    )
    assert r.status_code == 200 and r.json()["confidence"] == 10
    assert hub.client.delete(url, headers=hub.auth("exchange/admin")).status_code == 404
    assert (
        hub.client.patch(
            url, json={"value": "x.example.com"}, headers=hub.auth("police/analyst")
        ).status_code
        == 422
    )
    assert hub.client.delete(url, headers=hub.auth("police/admin")).status_code == 204
    assert hub.client.get(url, headers=hub.auth("police/admin")).status_code == 404
    r = hub.client.post(
        API,
        json={"type": "domain", "value": "r.example.com", "category": "scam"},
        headers=hub.auth("bank/reader"),
    )
    assert r.status_code == 403


def test_sightings_hide_who_saw_it(hub: Hub) -> None:
    item = hub.add("police/analyst", value="seen.example.com", tlp="green")
    url = f"{API}/{item['id']}/sightings"
    r = hub.client.post(
        url, json={"where": "deposit screening"}, headers=hub.auth("exchange/analyst")
    )
    assert r.status_code == 201 and r.json()["org"] == "exchange"
    assert hub.client.get(url, headers=hub.auth("police/reader")).json()[0]["org"] == "exchange"
    seen_by_bank = hub.client.get(url, headers=hub.auth("bank/reader")).json()
    assert seen_by_bank[0]["org"] is None and seen_by_bank[0]["where"] == "deposit screening"
    assert (
        hub.client.post(url, json={"kind": "maybe"}, headers=hub.auth("bank/analyst")).status_code
        == 422
    )


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (
            {"type": "domain", "value": "x.com'; DROP TABLE indicators;--", "category": "scam"},
            "value",
        ),
        (
            {"type": "url", "value": "javascript:alert(document.cookie)", "category": "phishing"},
            "value",
        ),
        ({"type": "url", "value": "https://a.example/<script>", "category": "phishing"}, "value"),
        (
            {
                "type": "crypto-address",
                "value": "0x19AA5FE80D33a56D56c78e82eA5E50E5d80b4dff",
                "chain": "ETH",
                "category": "scam",
            },
            "value",
        ),  # EIP-55 checksum broken: the request's own field, not "address"
        (
            {
                "type": "crypto-address",
                "value": "1BoatSLRHtKNngkdXEeobR76b53LETtpyU",
                "chain": "BTC",
                "category": "scam",
            },
            "value",
        ),  # base58 checksum broken
        ({"type": "crypto-address", "value": ETH, "category": "scam"}, "chain"),
        (
            {"type": "email", "value": "<img src=x onerror=alert(1)>@x.com", "category": "scam"},
            "value",
        ),
        (
            {"type": "domain", "value": "ok.example.com", "category": "scam", "confidence": 101},
            "confidence",
        ),
        ({"type": "domain", "value": "ok.example.com", "category": "scam", "tlp": "purple"}, "tlp"),
        ({"type": "domain", "value": "ok.example.com", "category": "scam", "extra": 1}, "extra"),
        (
            {
                "type": "domain",
                "value": "ok.example.com",
                "category": "scam",
                "share_with": ["nobody"],
            },
            "share_with",
        ),
        (
            {
                "type": "domain",
                "value": "ok.example.com",
                "category": "scam",
                "references": ["javascript:alert(1)"],
            },
            "references",
        ),
    ],
)
def test_hostile_or_invalid_values_are_refused_and_nothing_stored(
    hub: Hub, body: dict[str, Any], field: str | None
) -> None:
    r = hub.client.post(API, json=body, headers=hub.auth("police/analyst"))
    assert r.status_code == 422, r.text
    answer = r.json()
    assert answer["error"] == "InvalidInputError" and answer["message"]
    if field:
        assert answer.get("field", "").split(".")[0] == field
    assert ids(hub, "police/reader") == set()


def test_html_in_free_text_is_returned_as_inert_json(hub: Hub) -> None:
    item = hub.add(
        "police/analyst",
        value="xss.example.com",
        tlp="clear",
        description="<script>alert(1)</script>",
    )
    r = hub.client.get(f"{API}/{item['id']}", headers=hub.auth("bank/reader"))
    assert r.headers["content-type"] == "application/json"
    assert r.json()["description"] == "<script>alert(1)</script>"


def test_duplicate_is_409_and_writes_are_audited(hub: Hub) -> None:
    from fundtrail.intelstore.audit import verify

    hub.add("police/analyst", value="dup.example.com", tlp="red")
    r = hub.client.post(
        API,
        json={"type": "domain", "value": "DUP.example.com.", "category": "scam"},
        headers=hub.auth("police/analyst"),
    )
    assert r.status_code == 409
    assert verify(hub.store).ok and verify(hub.store).rows >= 12  # 3 orgs + 9 keys + 1 add
