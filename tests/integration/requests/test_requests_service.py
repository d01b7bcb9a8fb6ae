"""Requests between partners through the service: isolation, states, answers, audit, webhooks."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from requests_world import CAMPAIGN, DEPOSITS_A, DEPOSITS_B, LOSS, Partners, Receiver

from fundtrail.cases.requests import service as rq
from fundtrail.cases.requests.transfer import export_request, import_answer
from fundtrail.errors import ConflictError, NotFoundError, PermissionDeniedError
from fundtrail.intelstore.audit import AuditEntry, verify
from fundtrail.intelstore.requests import RequestAttachment

ROOT = Path(__file__).resolve().parents[3]


def _send(p: Partners, to: str, deposits: list[dict], **kw: Any) -> dict:
    return rq.create_request(
        p.store,
        p.police,
        to=to,
        campaign=CAMPAIGN,
        deposits=deposits,
        legal_basis="Art. 12 test",
        reference="R-1",
        send=True,
        **kw,
    )


def _audit(p: Partners, object_id: str) -> list[AuditEntry]:
    with p.store.read_session() as s:
        return list(
            s.scalars(
                sa.select(AuditEntry)
                .where(AuditEntry.object_id == object_id)
                .order_by(AuditEntry.id)
            )
        )


def test_each_exchange_sees_only_the_request_addressed_to_it(partners: Partners) -> None:
    p = partners
    a = _send(p, "ex-a", DEPOSITS_A)
    b = _send(p, "ex-b", DEPOSITS_B)
    assert [r["id"] for r in rq.list_requests(p.store, p.ex_a, box="inbox")] == [a["id"]]
    assert [r["id"] for r in rq.list_requests(p.store, p.ex_b, box="all")] == [b["id"]]
    assert {r["id"] for r in rq.list_requests(p.store, p.police, box="outbox")} == {
        a["id"],
        b["id"],
    }
    assert rq.list_requests(p.store, p.bank) == []  # not even a count
    assert rq.list_requests(p.store, p.ex_a, box="outbox") == []
    missing = "00000000-0000-4000-8000-000000000000"
    for who, rid in ((p.ex_b, a["id"]), (p.bank, a["id"]), (p.ex_a, b["id"]), (p.ex_a, missing)):
        with pytest.raises(NotFoundError) as err:
            rq.show_request(p.store, who, rid)
        assert err.value.message == f"no request {rid!r}"  # same words as for a missing one
        with pytest.raises(NotFoundError):
            rq.answer_request(p.store, who, rid, [{"address": "x", "outcome": "moved"}])
        with pytest.raises(NotFoundError):
            rq.transition(p.store, who, rid, "withdraw")
    shown = rq.show_request(p.store, p.ex_a, a["id"])
    assert shown["from"] == "police" and len(shown["deposits"]) == 2
    assert shown["case_reference"] == "FT-2026-REQTEST001"


def test_a_draft_is_the_requesters_alone_and_never_edited_after_sending(partners: Partners) -> None:
    p = partners
    d = rq.create_request(p.store, p.police, to="ex-a", campaign=CAMPAIGN, deposits=DEPOSITS_A)
    assert d["state"] == "draft" and d["actions"] == ["send", "withdraw"]
    assert rq.list_requests(p.store, p.ex_a) == []
    with pytest.raises(NotFoundError):
        rq.show_request(p.store, p.ex_a, d["id"])
    edited = rq.edit_request(
        p.store, p.police, d["id"], {"deposits": DEPOSITS_A[:1], "reference": "R-2"}
    )
    assert edited["deposits_count"] == 1 and edited["reference"] == "R-2"
    rq.transition(p.store, p.police, d["id"], "send")
    with pytest.raises(ConflictError, match="cannot be edited after sending"):
        rq.edit_request(p.store, p.police, d["id"], {"reference": "R-3"})
    follow = rq.create_request(
        p.store,
        p.police,
        to="ex-a",
        campaign=CAMPAIGN,
        deposits=DEPOSITS_A,
        follows=d["id"],
        send=True,
    )
    assert follow["follows"] == d["id"]
    with pytest.raises(
        ConflictError,
        match=r"sent cannot be acknowledged \(the requester may "
        "now: withdraw",
    ):
        rq.transition(p.store, p.police, d["id"], "acknowledge")


def test_the_addressees_first_read_is_recorded_and_every_read_audited(partners: Partners) -> None:
    p = partners
    a = _send(p, "ex-a", DEPOSITS_A)
    assert rq.show_request(p.store, p.police, a["id"])["state"] == "sent"  # not by the requester
    rq.list_requests(p.store, p.ex_a)  # a list is not opening it
    assert rq.show_request(p.store, p.police, a["id"])["received"] is None
    first = rq.show_request(p.store, p.ex_a, a["id"])
    assert first["state"] == "received" and first["received"]
    again = rq.show_request(p.store, p.police, a["id"])
    assert again["received"] == first["received"]
    rq.transition(p.store, p.ex_a, a["id"], "acknowledge")
    actions = [r.action for r in _audit(p, a["id"])]
    assert actions == [
        "request.create",
        "request.send",
        "request.read",
        "request.read",
        "request.receive",
        "request.read",
        "request.read",
        "request.acknowledge",
    ]
    orgs = {r.action: r.org_id for r in _audit(p, a["id"])}
    assert orgs["request.receive"] == p.ex_a.org_id and orgs["request.send"] == p.police.org_id
    assert verify(p.store).ok


def test_answers_per_address_come_back_into_the_case(partners: Partners) -> None:
    p = partners
    a = _send(p, "ex-a", DEPOSITS_A)
    b = _send(p, "ex-b", DEPOSITS_B)
    rq.show_request(p.store, p.ex_a, a["id"])
    got = rq.answer_request(
        p.store,
        p.ex_a,
        a["id"],
        [
            {"address": DEPOSITS_A[0]["address"], "outcome": "frozen", "amount_units": "1.2"},
            {"address": DEPOSITS_A[1]["address"], "outcome": "moved", "moved_to": "bc1q... (ours)"},
        ],
        note="frozen on 1 Mar",
    )
    assert got["state"] == "answered"
    assert got["totals"]["frozen"] == {"BTC": 120_000_000}
    assert got["deposits"][0]["answer"]["frozen_text"] == "1.2 BTC"
    assert got["deposits"][1]["answer"]["text"] == "already moved"
    rq.answer_request(
        p.store,
        p.ex_b,
        b["id"],
        [  # answering is reading it
            {"address": DEPOSITS_B[0]["address"], "outcome": "frozen", "amount": 30_000_000},
        ],
    )
    with pytest.raises(ConflictError, match="that is answered cannot be answered"):
        rq.answer_request(
            p.store,
            p.ex_b,
            b["id"],
            [{"address": DEPOSITS_B[0]["address"], "outcome": "not-customer"}],
        )
    with p.store.read_session() as s:
        back = rq.campaign_requests(s, p.police, CAMPAIGN, LOSS)
        seen_by_a = rq.campaign_requests(s, p.ex_a, CAMPAIGN, LOSS)
    assert [(e["org"], e["requested"], e["frozen"]) for e in back["exchanges"]] == [
        ("ex-a", {"BTC": 152_500_000}, {"BTC": 120_000_000}),
        ("ex-b", {"BTC": 100_000_000}, {"BTC": 30_000_000}),
    ]
    assert back["frozen_total"] == {"BTC": 150_000_000}
    assert back["frozen_share"] == {"BTC": 0.3}
    assert seen_by_a["exchanges"] == []  # the case's totals are the requester's
    closed = rq.transition(p.store, p.police, a["id"], "close")
    assert closed["state"] == "closed" and closed["actions"] == []


def test_attachments_are_sealed_at_rest_and_a_sealed_answer_is_the_requesters(
    partners: Partners,
) -> None:
    p = partners
    a = _send(
        p,
        "ex-a",
        DEPOSITS_A,
        attachments=[rq.Attachment("order.txt", b"COURT ORDER 42", "text/plain")],
    )
    rq.show_request(p.store, p.ex_a, a["id"])
    got = rq.answer_request(
        p.store,
        p.ex_a,
        a["id"],
        [{"address": DEPOSITS_A[0]["address"], "outcome": "legal-process"}],
        attachments=[rq.Attachment("kyc.txt", b"Jane Roe, passport X123", "text/plain", True)],
    )
    sealed = next(x for x in got["attachments"] if x["sealed"])
    assert sealed["may_open"] is False
    with pytest.raises(NotFoundError):
        rq.open_attachment(p.store, p.ex_a, a["id"], sealed["id"])
    with pytest.raises(NotFoundError):
        rq.open_attachment(p.store, p.bank, a["id"], sealed["id"])
    assert rq.open_attachment(p.store, p.police, a["id"], sealed["id"]).body == (
        b"Jane Roe, passport X123"
    )
    order = next(x for x in got["attachments"] if x["name"] == "order.txt")
    assert rq.open_attachment(p.store, p.ex_a, a["id"], order["id"]).body == b"COURT ORDER 42"
    with p.store.read_session() as s:
        stored = " ".join(s.scalars(sa.select(RequestAttachment.body_enc)))
    assert "Jane" not in stored and "COURT" not in stored and stored.startswith("v1:")
    raw = (p.home / "intel.sqlite").read_bytes()
    assert b"Jane Roe" not in raw and b"COURT ORDER" not in raw
    assert [r.action for r in _audit(p, a["id"])].count("request.attachment.read") == 2


def test_only_law_enforcement_sends_requests_unless_the_alliance_allows_more(
    partners: Partners, monkeypatch: pytest.MonkeyPatch
) -> None:
    p = partners
    with pytest.raises(PermissionDeniedError, match="may not send requests"):
        rq.create_request(p.store, p.bank, to="ex-a", deposits=DEPOSITS_A)
    from fundtrail.settings import reset_settings

    monkeypatch.setenv("FUNDTRAIL_REQUEST_KINDS", "law-enforcement,bank")
    reset_settings()
    made = rq.create_request(p.store, p.bank, to="ex-a", deposits=DEPOSITS_A, kind="preserve")
    assert made["from"] == "bank" and made["kind"] == "preserve"
    with pytest.raises(NotFoundError):  # the bank cannot see the police's campaign
        rq.create_request(p.store, p.bank, to="ex-a", campaign=CAMPAIGN, deposits=DEPOSITS_A)


def test_webhooks_tell_the_addressee_of_new_and_withdrawn_and_the_requester_of_answers(
    partners: Partners, receiver: Receiver
) -> None:
    from fundtrail.screen.alerts import add_webhook
    from fundtrail.screen.webhooks import SIGNATURE_HEADER, verify

    p = partners
    secret = "a-long-shared-secret-for-tests"
    add_webhook(p.store, p.ex_a.org_id, receiver.url + "/ex-a", secret, actor=p.ex_a)
    add_webhook(p.store, p.police.org_id, receiver.url + "/police", secret, actor=p.police)
    a = _send(p, "ex-a", DEPOSITS_A)
    _send(p, "ex-b", DEPOSITS_B)  # ex-b has no webhook: nothing goes anywhere
    rq.answer_request(
        p.store, p.ex_a, a["id"], [{"address": DEPOSITS_A[0]["address"], "outcome": "not-customer"}]
    )
    b2 = _send(p, "ex-a", DEPOSITS_A[:1])
    rq.transition(p.store, p.police, b2["id"], "withdraw", background=True)
    bodies = receiver.wait(4)
    assert [(b["type"], b["request"]["id"]) for b in bodies] == [
        ("fundtrail.request.new", a["id"]),
        ("fundtrail.request.answered", a["id"]),
        ("fundtrail.request.new", b2["id"]),
        ("fundtrail.request.withdrawn", b2["id"]),
    ]
    for headers, body in receiver.got:
        assert verify(body, secret, headers[SIGNATURE_HEADER])
    assert "deposits" not in bodies[0]["request"]  # the receiver reads them with its key
    notes = [r for r in _audit(p, a["id"]) if r.action == "request.notify"]
    assert [n.details["ok"] for n in notes] == [True, True]


def test_export_and_import_carry_a_request_and_its_answer(partners: Partners) -> None:
    import jsonschema

    p = partners
    a = _send(p, "ex-a", DEPOSITS_A)
    doc = export_request(p.store, p.ex_a, a["id"])
    schema = json.loads((ROOT / "docs" / "requests.schema.json").read_text())
    jsonschema.validate(doc, schema)
    assert doc["request"]["state"] == "received" and doc["deposits"][0]["answer"] is None
    doc["deposits"][0]["answer"] = {
        "outcome": "frozen",
        "frozen_amount": "99000000",
        "frozen_asset": "BTC",
        "frozen_at": "2026-03-01T10:00:00Z",
    }
    doc["request"]["answer_note"] = "from our case tool"
    got = import_answer(p.store, p.ex_a, json.dumps(doc))
    assert got["state"] == "answered" and got["totals"]["frozen"] == {"BTC": 99_000_000}
    assert got["deposits"][0]["answer"]["frozen_at"] == "2026-03-01T10:00:00Z"
    back = export_request(p.store, p.police, a["id"])
    jsonschema.validate(back, schema)
    assert back["deposits"][0]["answer"]["frozen_amount"] == "99000000"
    with pytest.raises(NotFoundError):  # the document names a request the bank cannot see
        import_answer(p.store, p.bank, json.dumps(doc))


def test_a_retrace_marks_each_frozen_deposit_with_its_whole_frozen_amount(
    partners: Partners,
) -> None:
    from dataclasses import dataclass, field

    from fundtrail.cases.views import CashoutView

    @dataclass
    class View:  # what mark_frozen reads of a CampaignView
        id: str
        cashouts: list[CashoutView] = field(default_factory=list)

    p = partners
    addr, other = str(DEPOSITS_A[0]["address"]), str(DEPOSITS_A[1]["address"])

    def row(address: str, amount: int, identified: bool = True) -> CashoutView:
        return CashoutView("ExA", "exchange", address, "hot", amount, "BTC", "ab" * 32, None,
                           deposit_identified=identified)  # fmt: skip

    first = _send(p, "ex-a", DEPOSITS_A)
    rq.answer_request(p.store, p.ex_a, first["id"],
                      [{"address": addr, "outcome": "frozen", "amount": 100_000_000}])  # fmt: skip
    again = _send(p, "ex-a", DEPOSITS_A[:1], follows=first["id"])  # what arrived since
    rq.answer_request(p.store, p.ex_a, again["id"],
                      [{"address": addr, "outcome": "frozen", "amount": 5_000_000}])  # fmt: skip
    view = View(CAMPAIGN, [row(addr, 90_000_000), row(addr, 60_000_000), row(other, 2_500_000),
                           row(addr, 1, identified=False)])  # fmt: skip
    with p.store.read_session() as s:
        rq.mark_frozen(s, p.police, view)
    marks = [c.frozen for c in view.cashouts]
    assert marks[0] == marks[1] and marks[2] is None and marks[3] is None
    assert marks[0] is not None
    assert (marks[0]["by"], marks[0]["amount"], marks[0]["asset"]) == ("ex-a", 105_000_000, "BTC")
    assert marks[0]["requests"] == [first["id"], again["id"]]
    for who in (p.ex_a, p.bank):  # only the requester's own answers mark its view
        unmarked = View(CAMPAIGN, [row(addr, 90_000_000)])
        with p.store.read_session() as s:
            rq.mark_frozen(s, who, unmarked)
        assert unmarked.cashouts[0].frozen is None
