"""POST/GET /api/v1/requests with three organisations: each sees only its own."""

from __future__ import annotations

import base64

from requests_world import CAMPAIGN, DEPOSITS_A, DEPOSITS_B, Api, Partners, Receiver


def _send(api: Api, to: str, deposits: list[dict], **extra: object) -> dict:
    body = {
        "to": to,
        "campaign": CAMPAIGN,
        "deposits": deposits,
        "legal_basis": "Art. 12",
        "reference": "R-9",
        "deadline": "2030-01-31T12:00:00Z",
        "send": True,
        **extra,
    }
    r = api.client.post("/api/v1/requests", json=body, headers=api.auth("police"))
    assert r.status_code == 201, r.text
    return dict(r.json())


def test_each_org_sees_only_its_own_and_others_get_404_like_missing(
    partners: Partners, api: Api
) -> None:
    a = _send(api, "ex-a", DEPOSITS_A)
    b = _send(api, "ex-b", DEPOSITS_B)
    c = api.client
    inbox = c.get("/api/v1/requests", params={"box": "inbox"}, headers=api.auth("ex-a")).json()
    assert [r["id"] for r in inbox] == [a["id"]]
    assert c.get("/api/v1/requests", headers=api.auth("bank")).json() == []
    outbox = c.get("/api/v1/requests?box=outbox", headers=api.auth("police")).json()
    assert {r["id"] for r in outbox} == {a["id"], b["id"]}
    missing = c.get(
        "/api/v1/requests/00000000-0000-4000-8000-000000000000", headers=api.auth("ex-b")
    )
    hidden = c.get(f"/api/v1/requests/{a['id']}", headers=api.auth("ex-b"))
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json()["error"] == missing.json()["error"] == "NotFoundError"
    for org in ("ex-b", "bank"):
        for path, body in (
            (f"/api/v1/requests/{a['id']}/withdraw", {}),
            (f"/api/v1/requests/{a['id']}/acknowledge", {}),
            (f"/api/v1/requests/{a['id']}/export", None),
        ):
            r = (
                c.post(path, json=body, headers=api.auth(org))
                if body is not None
                else c.get(path, headers=api.auth(org))
            )
            assert r.status_code == 404, (org, path, r.text)
    r = c.post(
        f"/api/v1/requests/{a['id']}/answer",
        headers=api.auth("ex-b"),
        json={"answers": [{"address": DEPOSITS_A[0]["address"], "outcome": "moved"}]},
    )
    assert r.status_code == 404
    assert c.get("/api/v1/requests", headers={}).status_code == 401


def test_an_exchange_answers_and_the_police_sees_frozen_amounts(
    partners: Partners, api: Api, receiver: Receiver
) -> None:
    c = api.client
    hook = {"url": receiver.url, "secret": "a-long-shared-secret-for-tests"}
    assert (
        c.post("/api/v1/webhooks", json=hook, headers=api.auth("police/admin")).status_code == 201
    )
    a = _send(
        api,
        "ex-a",
        DEPOSITS_A,
        attachments=[
            {
                "name": "order.pdf",
                "media_type": "application/pdf",
                "content_base64": base64.b64encode(b"%PDF-1.4 order").decode(),
            }
        ],
    )
    read = c.get(f"/api/v1/requests/{a['id']}", headers=api.auth("ex-a")).json()
    assert read["state"] == "received" and read["actions"] == ["acknowledge", "answer", "decline"]
    att = read["attachments"][0]
    got = c.get(f"/api/v1/requests/{a['id']}/attachments/{att['id']}", headers=api.auth("ex-a"))
    assert got.status_code == 200 and got.content == b"%PDF-1.4 order"
    reader = c.post(
        f"/api/v1/requests/{a['id']}/acknowledge", json={}, headers=api.auth("ex-a/reader")
    )
    assert reader.status_code == 403
    assert (
        c.post(f"/api/v1/requests/{a['id']}/acknowledge", json={}, headers=api.auth("ex-a")).json()[
            "state"
        ]
        == "acknowledged"
    )
    answer = {
        "answers": [
            {
                "address": DEPOSITS_A[0]["address"],
                "outcome": "frozen",
                "amount": "140000000",
                "at": "2026-03-02T09:00:00Z",
            },
            {"address": DEPOSITS_A[1]["address"], "outcome": "not-customer"},
        ],
        "note": "account closed",
        "attachments": [
            {
                "name": "subscriber.txt",
                "content_base64": base64.b64encode(b"J. Roe").decode(),
                "sealed": True,
            }
        ],
    }
    r = c.post(f"/api/v1/requests/{a['id']}/answer", json=answer, headers=api.auth("ex-a"))
    assert r.status_code == 200, r.text
    sealed = next(x for x in r.json()["attachments"] if x["sealed"])
    url = f"/api/v1/requests/{a['id']}/attachments/{sealed['id']}"
    assert c.get(url, headers=api.auth("ex-a")).status_code == 404
    assert c.get(url, headers=api.auth("police")).content == b"J. Roe"
    seen = c.get(f"/api/v1/requests/{a['id']}", headers=api.auth("police")).json()
    assert seen["totals"]["frozen"] == {"BTC": 140_000_000}
    assert seen["deposits"][0]["answer"]["frozen_at"] == "2026-03-02T09:00:00Z"
    bodies = receiver.wait(1)
    assert [(x["type"], x["request"]["state"]) for x in bodies] == [
        ("fundtrail.request.answered", "answered")
    ]
    assert (
        c.post(f"/api/v1/requests/{a['id']}/close", headers=api.auth("police")).json()["state"]
        == "closed"
    )


def test_drafts_are_edited_sent_requests_never(partners: Partners, api: Api) -> None:
    c = api.client
    body = {"to": "ex-a", "deposits": DEPOSITS_A, "kind": "preserve"}
    d = c.post("/api/v1/requests", json=body, headers=api.auth("police")).json()
    r = c.patch(
        f"/api/v1/requests/{d['id']}",
        json={"deposits": DEPOSITS_A[:1], "deadline": "2030-02-01"},
        headers=api.auth("police"),
    )
    assert r.status_code == 200 and r.json()["deposits_count"] == 1
    assert r.json()["deadline"] == "2030-02-01T23:59:59Z"
    assert c.get(f"/api/v1/requests/{d['id']}", headers=api.auth("ex-a")).status_code == 404
    assert (
        c.post(f"/api/v1/requests/{d['id']}/send", headers=api.auth("police")).json()["state"]
        == "sent"
    )
    r = c.patch(f"/api/v1/requests/{d['id']}", json={"note": "x"}, headers=api.auth("police"))
    assert r.status_code == 409 and "cannot be edited after sending" in r.json()["message"]
    r = c.post(f"/api/v1/requests/{d['id']}/decline", json={"reason": ""}, headers=api.auth("ex-a"))
    assert r.status_code == 422
    r = c.post(
        f"/api/v1/requests/{d['id']}/decline",
        json={"reason": "no court order"},
        headers=api.auth("ex-a"),
    )
    assert r.json()["state"] == "declined"
    seen = c.get(f"/api/v1/requests/{d['id']}", headers=api.auth("police")).json()
    assert seen["decline_reason"] == "no court order"
    r = c.post(
        "/api/v1/requests", json={"to": "ex-b", "deposits": DEPOSITS_B}, headers=api.auth("bank")
    )
    assert r.status_code == 403
