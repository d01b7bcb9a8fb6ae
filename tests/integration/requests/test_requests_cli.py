"""`fundtrail request ...` as a police unit and two exchanges use it; failures exit non-zero."""

from __future__ import annotations

import json
from pathlib import Path

from requests_world import CAMPAIGN, DEPOSITS_A, Partners
from typer.testing import CliRunner

from fundtrail.cli.main import app


def run(*args: str, code: int = 0) -> str:
    """Output of the command; with ``code`` it must fail, and its error is returned."""
    result = CliRunner().invoke(app, list(args))
    if code:
        assert result.exit_code != 0, f"fundtrail {' '.join(args)} succeeded: {result.output}"
        return str(result.exception)
    assert result.exit_code == 0, f"fundtrail {' '.join(args)}: {result.output}"
    return result.output


def test_a_request_from_draft_to_closed_on_the_command_line(
    partners: Partners, tmp_path: Path
) -> None:
    deps = tmp_path / "deposits.json"
    deps.write_text(json.dumps(DEPOSITS_A))
    made = json.loads(
        run(
            "request",
            "create",
            "--org",
            "police",
            "--to",
            "ex-a",
            "--campaign",
            CAMPAIGN,
            "--deposits",
            str(deps),
            "--legal-basis",
            "Art. 12",
            "--deadline",
            "7d",
            "--json",
        )
    )
    rid = made["id"]
    assert made["state"] == "draft" and made["deposits_count"] == 2
    assert json.loads(run("request", "list", "--org", "ex-a", "--json")) == []
    one = tmp_path / "one.json"
    one.write_text(json.dumps(DEPOSITS_A[:1]))
    edited = json.loads(
        run("request", "edit", rid, "--org", "police", "--reference", "R-7",
            "--deadline", "2031-01-31", "--deposits", str(one), "--json")
    )  # fmt: skip
    assert edited["reference"] == "R-7" and edited["deposits_count"] == 1
    assert edited["deadline"].startswith("2031-01-31") and edited["state"] == "draft"
    assert "nothing to change" in run("request", "edit", rid, "--org", "police", code=2)
    assert f"no request '{rid}'" in run(
        "request", "edit", rid, "--org", "ex-a", "--note", "x", code=2
    )
    run("request", "edit", rid, "--org", "police", "--deposits", str(deps))  # both again
    run("request", "send", rid, "--org", "police")
    refused = run("request", "edit", rid, "--org", "police", "--reference", "R-8", code=2)
    assert "cannot be edited after sending" in refused and "--follows" in refused
    assert json.loads(run("request", "show", rid, "--org", "police", "--json"))["reference"] == (
        "R-7"
    )
    inbox = json.loads(run("request", "list", "--org", "ex-a", "--inbox", "--json"))
    assert [r["id"] for r in inbox] == [rid]
    assert json.loads(run("request", "list", "--org", "ex-b", "--json")) == []
    out = run("request", "show", rid, "--org", "ex-b", code=2)
    assert f"no request '{rid}'" in out
    shown = run("request", "show", rid, "--org", "ex-a")
    assert (
        "received" in shown and "1.5 BTC" in shown and "next: acknowledge, answer, decline" in shown
    )
    run("request", "ack", rid, "--org", "ex-a")
    addr0, addr1 = DEPOSITS_A[0]["address"], DEPOSITS_A[1]["address"]
    answered = json.loads(
        run(
            "request",
            "answer",
            rid,
            "--org",
            "ex-a",
            "--frozen",
            f"{addr0}=1.25",
            "--legal-process",
            str(addr1),
            "--json",
        )
    )
    assert answered["totals"]["frozen"] == {"BTC": 125_000_000}
    seen = json.loads(run("request", "show", rid, "--org", "police", "--json"))
    answers = [d["answer"] for d in seen["deposits"]]
    assert answers[0]["frozen_text"] == "1.25 BTC"
    assert answers[1]["text"] == "subscriber data available through legal process"
    assert "next: close" in run("request", "show", rid, "--org", "police")
    assert "only the requester may close" in run("request", "close", rid, "--org", "ex-a", code=2)
    assert (
        json.loads(run("request", "close", rid, "--org", "police", "--json"))["state"] == "closed"
    )
    doc = tmp_path / "request.json"
    run("request", "export", rid, "--org", "police", "-o", str(doc))
    assert json.loads(doc.read_text())["schema"] == "fundtrail.request/1"


def test_bad_input_is_one_clear_line_and_a_non_zero_exit(
    partners: Partners, tmp_path: Path
) -> None:
    deps = tmp_path / "deposits.json"
    deps.write_text(json.dumps([{"chain": "BTC", "address": "not-an-address", "amount": 1}]))
    out = run(
        "request", "create", "--org", "police", "--to", "ex-a", "--deposits", str(deps), code=2
    )
    assert "not-an-address" in out
    assert "no organisation named 'nobody'" in run(
        "request", "create", "--org", "police", "--to", "nobody", "--deposits", str(deps), code=2
    )
    assert "may not send requests" in run(
        "request", "create", "--org", "ex-a", "--to", "ex-b", "--campaign", CAMPAIGN, code=2
    )
    made = json.loads(
        run(
            "request",
            "create",
            "--org",
            "police",
            "--to",
            "ex-a",
            "--deposits",
            _good(tmp_path),
            "--send",
            "--json",
        )
    )
    assert "takes ADDRESS=VALUE" in run(
        "request", "answer", made["id"], "--org", "ex-a", "--frozen", "oops", code=2
    )
    assert "is not a deposit of this request" in run(
        "request", "answer", made["id"], "--org", "ex-a", "--not-customer", "1Nope", code=2
    )
    assert "say why" in run(
        "request", "decline", made["id"], "--org", "ex-a", "--reason", " ", code=2
    )
    bad = tmp_path / "bad.json"
    bad.write_text('{"schema": "other"}')
    assert "schema" in run("request", "import", str(bad), "--org", "ex-a", code=2)


def _good(tmp: Path) -> str:
    p = tmp / "good.json"
    p.write_text(json.dumps(DEPOSITS_A[:1]))
    return str(p)
