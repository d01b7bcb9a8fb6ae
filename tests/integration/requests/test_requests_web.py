"""The Requests pages with three organisations signed in: inbox, outbox, answer form."""

from __future__ import annotations

import re
from typing import Any

from fastapi.testclient import TestClient
from requests_world import CAMPAIGN, DEPOSITS_A, DEPOSITS_B, Api, Partners

from fundtrail.cases.requests import service as rq
from fundtrail.testing import web_sign_in


def _signed_in(api: Api, org: str) -> Any:
    client = TestClient(api.client.app, follow_redirects=False)
    r = web_sign_in(client, api.keys[org])
    assert r.status_code == 303, r.text
    return client


def _csrf(client: Any, url: str = "/ui/requests") -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', client.get(url).text)
    assert found
    return found.group(1)


def test_each_exchange_sees_its_own_inbox_and_answers_with_the_form(
    partners: Partners, api: Api
) -> None:
    p = partners
    a = rq.create_request(
        p.store,
        p.police,
        to="ex-a",
        campaign=CAMPAIGN,
        deposits=DEPOSITS_A,
        send=True,
        reference="R-A",
    )
    b = rq.create_request(
        p.store,
        p.police,
        to="ex-b",
        campaign=CAMPAIGN,
        deposits=DEPOSITS_B,
        send=True,
        reference="R-B",
    )
    ex_a, ex_b, bank = (_signed_in(api, o) for o in ("ex-a", "ex-b", "bank"))
    inbox = ex_a.get("/ui/requests").text
    assert a["id"] in inbox and b["id"] not in inbox and "Inbox: addressed to ex-a (1)" in inbox
    assert a["id"] not in ex_b.get("/ui/requests").text
    assert "(0)" in bank.get("/ui/requests").text and a["id"] not in bank.get("/ui/requests").text
    for c in (ex_b, bank):
        hidden = c.get(f"/ui/requests/{a['id']}")
        missing = c.get("/ui/requests/00000000-0000-4000-8000-000000000000")
        assert hidden.status_code == missing.status_code == 404
        assert "R-A" not in hidden.text
    page = ex_a.get(f"/ui/requests/{a['id']}").text
    assert "received" in page and 'id="answer-form"' in page and "1.5 BTC" in page
    form = {
        "csrf": _csrf(ex_a),
        "address_1": DEPOSITS_A[0]["address"],
        "outcome_1": "frozen",
        "amount_1": "1.4",
        "address_2": DEPOSITS_A[1]["address"],
        "outcome_2": "moved",
        "moved_2": "an OTC desk",
        "note": "frozen today",
    }
    files = {"sealed": ("kyc.txt", b"Jane Roe", "text/plain")}
    r = ex_a.post(f"/ui/requests/{a['id']}/answer", data=form, files=files)
    assert r.status_code == 303, r.text
    shown = ex_a.get(r.headers["location"]).text
    assert "answered" in shown and "sealed: only police opens it" in shown
    assert "kyc.txt</a>" not in shown  # the exchange cannot open what it sealed
    police = _signed_in(api, "police")
    mine = police.get(f"/ui/requests/{a['id']}").text
    assert "1.4 BTC" in mine and "already moved" in mine and "kyc.txt</a>" in mine
    link = re.search(r'href="(/ui/requests/[^"]+/attachments/[^"]+)"', mine)
    assert link and police.get(link.group(1)).content == b"Jane Roe"
    assert ex_b.get(link.group(1)).status_code == 404
    r = police.post(
        f"/ui/requests/{a['id']}/action", data={"csrf": _csrf(police), "action": "close"}
    )
    assert r.status_code == 303
    assert "closed" in police.get(r.headers["location"]).text
    case = police.get(f"/ui/campaigns/{CAMPAIGN}").text
    assert 'id="requests-per-exchange"' in case and 'id="request-form"' in case
    frozen = re.search(r'id="frozen-vs-loss">(.*?)</td>', case, re.S)
    assert frozen and frozen.group(1).strip() == "1.4 BTC"  # no complaints here: no loss
    assert "freeze: closed" in case and "freeze: sent" in case  # ex-a's and ex-b's


def test_forms_without_the_csrf_token_are_refused(partners: Partners, api: Api) -> None:
    p = partners
    a = rq.create_request(p.store, p.police, to="ex-a", deposits=DEPOSITS_A, send=True)
    ex_a = _signed_in(api, "ex-a")
    r = ex_a.post(f"/ui/requests/{a['id']}/action", data={"action": "acknowledge"})
    assert r.status_code == 403
    assert rq.show_request(p.store, p.police, a["id"])["state"] == "sent"
