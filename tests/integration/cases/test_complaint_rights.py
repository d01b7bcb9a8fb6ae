"""What one organisation's complaints may tell or change for another (issue 15 rows 6, 7).

Row 6, the attack: posting ``/api/v1/complaints/bulk`` with another org's reported
payments (amounts off by one) answered "already reported by another organisation" for
exactly those. Now a payment another org reported is answered exactly like one nobody
reported: refused by the chain for a wrong amount, stored for the right one.

Row 7, the attack: another org's complaints joined the police's campaign after the
police opened its case and raised the case's total loss, without the police accepting
them. Now they are *pending*: listed to the case and to their reporter, counted nowhere
(complaints, total, victims, cash-outs) until the lead accepts them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cases_world import World
from fastapi.testclient import TestClient
from test_cases_api import body, scam_rows

from fundtrail.intelstore.audit import AuditEntry
from fundtrail.intelstore.db import IntelStore, open_store
from fundtrail.intelstore.keys import create_key
from fundtrail.intelstore.orgs import add_org
from fundtrail.server.app import create_app
from fundtrail.settings import Settings

ORGS = {"police": "law-enforcement", "bank": "bank", "exchange": "exchange", "other": "exchange"}


@dataclass
class Api:
    client: TestClient
    store: IntelStore
    keys: dict[str, str]

    def post(self, who: str, path: str, json: Any) -> Any:
        h = {"Authorization": f"Bearer {self.keys[who]}"}
        return self.client.post(f"/api/v1{path}", json=json, headers=h)

    def get(self, who: str, path: str) -> Any:
        h = {"Authorization": f"Bearer {self.keys[who]}"}
        return self.client.get(f"/api/v1{path}", headers=h)


@pytest.fixture
def api(ws: Path) -> Iterator[Api]:
    store = open_store(f"sqlite:///{ws / 'intel.sqlite'}")
    keys = {}
    with store.session() as s:
        for name, kind in ORGS.items():
            add_org(s, name, kind)
            keys[name] = create_key(s, name, "analyst").key
    yield Api(TestClient(create_app(store, Settings(home=ws)), raise_server_exceptions=False),
              store, keys)  # fmt: skip
    store.close()


def _shape(err: dict[str, Any]) -> tuple[str, str]:
    """An error without the numbers that differ from row to row."""
    return err["field"], "".join(ch for ch in err["message"] if not ch.isdigit())


def test_bulk_answer_does_not_say_what_others_reported(world: World, api: Api) -> None:
    rows = scam_rows(world)[:6]
    for r in rows[:3]:
        assert api.post("police", "/complaints", body(r)).status_code == 201
    # the probe: every payment, amounts off by one; the first three are the police's
    probe = [body(r, amount=str(int(r["amount"]) + 1), complaint_id=f"P{i}")
             for i, r in enumerate(rows)]  # fmt: skip
    got = api.post("bank", "/complaints/bulk", {"complaints": probe})
    assert got.status_code == 200, got.text
    rep = got.json()
    assert rep["imported"] == 0 and rep["rejected"] == 6
    assert "reported" not in got.text and "organisation" not in got.text
    reported = {_shape(e) for e in rep["errors"] if e["line"] <= 3}
    unreported = {_shape(e) for e in rep["errors"] if e["line"] > 3}
    assert reported == unreported and len(reported) == 1  # the same answer for both
    # the right amounts: a payment the police reported is stored like one nobody did
    exact = [body(rows[0], complaint_id="B0"), body(rows[3], complaint_id="B3")]
    rep = api.post("bank", "/complaints/bulk", {"complaints": exact}).json()
    assert (rep["imported"], rep["rejected"]) == (2, 0)
    # the police's own second report of its payment is a conflict naming its complaint
    again = api.post("police", "/complaints", body(rows[0]))
    assert again.status_code == 409 and rows[0]["complaint_id"] in again.json()["message"]
    # the police's campaign counts each payment once, however many orgs reported it
    (camp,) = api.get("police", "/campaigns").json()
    assert camp["total_loss"] == {"BTC": sum(int(r["amount"]) for r in (*rows[:3], rows[3]))}
    assert camp["victims"] == 4


def test_complaints_of_orgs_off_the_case_wait_for_the_lead(world: World, api: Api) -> None:
    rows = scam_rows(world)
    for r in rows[:4]:
        assert api.post("police", "/complaints", body(r)).status_code == 201
    (camp,) = api.get("police", "/campaigns").json()
    cid = camp["id"]
    assert api.post("police", f"/campaigns/{cid}/case", {}).status_code == 201
    before = api.get("police", f"/campaigns/{cid}").json()

    # the exchange's customers' complaints join the campaign after the case was opened
    for r in rows[4:6]:
        assert api.post("exchange", "/complaints", body(r)).status_code == 201
    after = api.get("police", f"/campaigns/{cid}").json()
    for key in ("complaints", "victims", "total_loss", "payments", "cashouts"):
        assert after[key] == before[key], key
    assert sorted(p["ref"] for p in after["pending"]) == sorted(
        r["complaint_id"] for r in rows[4:6]
    )
    assert {p["org"] for p in after["pending"]} == {"exchange"}
    # not part of the case yet: the case's orgs do not read its victims
    assert {p["victim"] for p in after["pending"]} == {"[withheld]"}
    for p in after["pending"]:
        assert api.get("police", f"/complaints/{p['id']}").status_code == 404
    # the exchange sees its own complaints pending, and nobody else's pending ones
    ex = api.get("exchange", f"/campaigns/{cid}").json()
    assert sorted(p["ref"] for p in ex["pending"]) == sorted(r["complaint_id"] for r in rows[4:6])
    assert ex["total_loss"] == before["total_loss"]
    assert sorted(p["victim"] for p in ex["pending"]) == sorted(r["victim"] for r in rows[4:6])
    assert api.get("other", f"/campaigns/{cid}").status_code == 404

    # only the lead accepts; an id that is not pending is named
    pending = {p["ref"]: p["id"] for p in after["pending"]}
    first = pending[rows[4]["complaint_id"]]
    assert api.post("exchange", f"/campaigns/{cid}/case", {"accept": [first]}).status_code == 403
    bad = api.post("police", f"/campaigns/{cid}/case", {"accept": ["nope"]})
    assert bad.status_code == 404 and "nope" in bad.json()["message"]
    ok = api.post("police", f"/campaigns/{cid}/case", {"accept": [first]})
    assert ok.status_code == 201, ok.text
    now = api.get("police", f"/campaigns/{cid}").json()
    assert now["complaints"] == before["complaints"] + 1
    assert now["total_loss"] == {"BTC": before["total_loss"]["BTC"] + int(rows[4]["amount"])}
    assert [p["ref"] for p in now["pending"]] == [rows[5]["complaint_id"]]
    accepted = next(p for p in now["payments"] if p["id"] == first)
    assert accepted["victim"] == rows[4]["victim"]  # accepted: the case reads it now
    with api.store.read_session() as s:
        audit = s.query(AuditEntry).filter(AuditEntry.action == "case.accept").all()
    assert [a.details for a in audit] == [{"complaints": [first]}]

    # the lead accepts the other one from the command line, and a non-lead cannot
    from typer.testing import CliRunner

    from fundtrail.cli.main import app

    second = pending[rows[5]["complaint_id"]]
    denied = CliRunner().invoke(app, ["campaign", "accept", cid, second, "--org", "exchange"])
    assert denied.exit_code != 0
    assert "only the organisation leading" in str(denied.exception) + denied.output
    done = CliRunner().invoke(app, ["campaign", "accept", cid, second, "--org", "police"])
    assert done.exit_code == 0, done.output
    assert "1 complaint(s) accepted" in done.output and "0 still pending" in done.output
    assert api.get("police", f"/campaigns/{cid}").json()["pending"] == []

    # putting the exchange on the case is trusting its complaints: they count
    assert (
        api.post("police", f"/campaigns/{cid}/case", {"share_with": ["exchange"]}).status_code
        == 201
    )
    shared = api.get("police", f"/campaigns/{cid}").json()
    assert shared["pending"] == [] and shared["complaints"] == before["complaints"] + 2
