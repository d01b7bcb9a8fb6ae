"""`fundtrail request create|edit|list|show|send|ack|decline|withdraw|answer|close|export|import`.

Every command acts for one organisation (``--org NAME``; reads also ``--operator``).
Amounts an exchange types in ``answer --frozen ADDR=AMOUNT`` are in the asset's units
(``0.5``); JSON (``--deposits``, ``import``) carries exact base units.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import typer

from fundtrail.cli.common import JsonOpt, OperatorOpt, console, emit, kv_table, table
from fundtrail.errors import InvalidInputError
from fundtrail.model import display

request_app = typer.Typer(
    help="Requests between partners: freeze, preserve, identify, release.", no_args_is_help=True
)
OrgOpt = typer.Option(..., "--org", help="The organisation acting.")
ReadOrgOpt = typer.Option(None, "--org", help="Read with this organisation's rights.")


@contextmanager
def _acting(org: str | None, operator: bool = False) -> Iterator[tuple[Any, Any]]:
    from fundtrail.cases.service import _viewer
    from fundtrail.intelstore.db import open_store

    store = open_store()
    try:
        yield store, _viewer(store, org, operator)
    finally:
        store.close()


def _files(paths: list[Path], sealed: bool = False) -> list[Any]:
    from fundtrail.cases.requests.service import Attachment

    out = []
    for p in paths:
        if not p.is_file():
            raise InvalidInputError(f"no file {p}", field="attach")
        media = {
            ".pdf": "application/pdf",
            ".json": "application/json",
            ".csv": "text/csv",
            ".txt": "text/plain",
        }.get(p.suffix.lower(), "application/octet-stream")
        out.append(Attachment(p.name, p.read_bytes(), media, sealed))
    return out


def _deposits(path: Path) -> list[Any]:
    try:
        given = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise InvalidInputError(f"--deposits {path}: {exc}", field="deposits") from None
    if not isinstance(given, list):
        raise InvalidInputError("--deposits must hold a JSON list", field="deposits")
    return given


def _render(d: dict[str, Any]) -> None:
    due = f" ({d['due']})" if d.get("due") else ""
    rows = [
        ("id", d["id"]),
        ("kind", d["kind"]),
        ("state", d["state"] + due),
        ("from", d["from"]),
        ("to", d["to"]),
        ("campaign", d["campaign"] or "-"),
        ("case", d["case_reference"] or "-"),
        ("reference", d["reference"] or "-"),
        ("legal basis", d.get("legal_basis") or "-"),
        ("contact", d.get("contact") or "-"),
        ("deadline", d["deadline"] or "-"),
    ]
    for label, key in (
        ("sent", "sent"),
        ("received", "received"),
        ("acknowledged", "acknowledged"),
        ("answered", "answered"),
        ("declined", "declined"),
        ("withdrawn", "withdrawn"),
        ("closed", "closed"),
    ):
        if d.get(key):
            rows.append((label, d[key]))
    if d.get("decline_reason"):
        rows.append(("reason", d["decline_reason"]))
    console.print(kv_table(f"{d['kind']} request {d['id']}", rows))
    t = table("chain", "deposit address", "traced", "share of loss", "answer")
    for dep in d.get("deposits", []):
        a = dep["answer"]
        said = "-"
        if a:
            said = a["text"]
            if a["frozen_text"]:
                said += f": {a['frozen_text']} at {a['frozen_at']}"
            if a["moved_to"]:
                said += f" to {a['moved_to']}"
        t.add_row(dep["chain"], dep["address"], dep["amount_text"], f"{dep['share']:.2%}", said)
    console.print(t)
    totals = d.get("totals") or {}
    if totals.get("requested"):
        frozen = display.amounts(totals.get("frozen") or {})
        console.print(f"requested {display.amounts(totals['requested'])}; frozen {frozen}")
    for a in d.get("attachments", []):
        lock = " (sealed)" if a["sealed"] else ""
        console.print(f"  attachment {a['id']}: {a['name']} {a['size']:,} bytes{lock}")
    if d.get("actions"):
        console.print(f"next: {', '.join(d['actions'])}")


@request_app.command("create")
def create(
    org: str = OrgOpt,
    to: str = typer.Option(..., "--to", help="The partner organisation it goes to."),
    campaign: str | None = typer.Option(None, "--campaign", help="Campaign it belongs to."),
    kind: str = typer.Option("freeze", "--kind", help="freeze, preserve, identify or release."),
    exchange: str | None = typer.Option(
        None, "--exchange", help="The exchange as the trace names it (default: --to)."
    ),
    deposits: Path | None = typer.Option(
        None, "--deposits", help="JSON list of deposits instead of the freeze plan's."
    ),
    legal_basis: str = typer.Option("", "--legal-basis", help="Legal basis cited."),
    reference: str = typer.Option("", "--reference", help="Your reference number."),
    contact: str = typer.Option("", "--contact", help="Who to contact about it."),
    deadline: str | None = typer.Option(None, "--deadline", help="YYYY-MM-DD, ISO time or 7d."),
    note: str = typer.Option("", "--note", help="Free text for the addressee."),
    attach: list[Path] = typer.Option([], "--attach", help="A file to send with it."),
    follows: str | None = typer.Option(None, "--follows", help="The request this one follows."),
    send: bool = typer.Option(False, "--send", help="Send at once (else a draft)."),
    as_json: bool = JsonOpt,
) -> None:
    """A new request (draft unless --send); deposits from the campaign's freeze plan."""
    from fundtrail.cases.requests.service import create_request, parse_deadline

    given = _deposits(deposits) if deposits is not None else None
    with _acting(org) as (store, who):
        data = create_request(
            store,
            who,
            to=to,
            kind=kind,
            campaign=campaign,
            exchange=exchange,
            deposits=given,
            legal_basis=legal_basis,
            reference=reference,
            contact=contact,
            note=note,
            deadline=parse_deadline(deadline),
            follows=follows,
            attachments=_files(attach),
            send=send,
        )
    emit(data, as_json, _render)


@request_app.command("edit")
def edit(
    request_id: str,
    org: str = OrgOpt,
    deposits: Path | None = typer.Option(
        None, "--deposits", help="JSON list of deposits replacing the draft's."
    ),
    legal_basis: str | None = typer.Option(None, "--legal-basis", help="Legal basis cited."),
    reference: str | None = typer.Option(None, "--reference", help="Your reference number."),
    contact: str | None = typer.Option(None, "--contact", help="Who to contact about it."),
    deadline: str | None = typer.Option(None, "--deadline", help="YYYY-MM-DD, ISO time or 7d."),
    note: str | None = typer.Option(None, "--note", help="Free text for the addressee."),
    as_json: bool = JsonOpt,
) -> None:
    """Change a draft; a sent request is never edited (withdraw it, or create another
    with --follows)."""
    from fundtrail.cases.requests.service import edit_request

    given = {"legal_basis": legal_basis, "reference": reference, "contact": contact,
             "deadline": deadline, "note": note}  # fmt: skip
    changes: dict[str, Any] = {k: v for k, v in given.items() if v is not None}
    if deposits is not None:
        changes["deposits"] = _deposits(deposits)
    if not changes:
        raise InvalidInputError(
            "nothing to change: give --deposits, --legal-basis, --reference, --contact, "
            "--deadline or --note",
            field="request",
        )
    with _acting(org) as (store, who):
        emit(edit_request(store, who, request_id, changes), as_json, _render)


@request_app.command("list")
def list_(
    org: str | None = ReadOrgOpt,
    operator: bool = OperatorOpt,
    inbox: bool = typer.Option(False, "--inbox", help="Only requests addressed to --org."),
    outbox: bool = typer.Option(False, "--outbox", help="Only requests --org sent."),
    state: str | None = typer.Option(None, "--state", help="Only requests in this state."),
    campaign: str | None = typer.Option(None, "--campaign", help="Only this campaign's."),
    as_json: bool = JsonOpt,
) -> None:
    """Requests the organisation may see (inbox and outbox), newest first."""
    from fundtrail.cases.requests.service import list_requests

    box = "inbox" if inbox and not outbox else "outbox" if outbox and not inbox else "all"
    with _acting(org, operator) as (store, who):
        rows = list_requests(store, who, box=box, state=state, campaign=campaign)

    def render(rs: list[dict[str, Any]]) -> None:
        t = table("id", "kind", "from → to", "state", "deadline", "deposits", "campaign")
        t.columns[0].no_wrap = True  # an id is copied whole
        for r in rs:
            due = f" ({r['due']})" if r["due"] else ""
            t.add_row(
                r["id"],
                r["kind"],
                f"{r['from']} → {r['to']}",
                r["state"] + due,
                (r["deadline"] or "-")[:10],
                str(r["deposits_count"]),
                r["campaign"] or "-",
            )
        console.print(t)

    emit(rows, as_json, render)


@request_app.command("show")
def show(
    request_id: str,
    org: str | None = ReadOrgOpt,
    operator: bool = OperatorOpt,
    as_json: bool = JsonOpt,
) -> None:
    """One request with its deposits and answers (the addressee's first read is recorded)."""
    from fundtrail.cases.requests.service import show_request

    with _acting(org, operator) as (store, who):
        emit(show_request(store, who, request_id), as_json, _render)


def _move(action: str, request_id: str, org: str, reason: str, as_json: bool) -> None:
    from fundtrail.cases.requests.service import transition

    with _acting(org) as (store, who):
        emit(transition(store, who, request_id, action, reason=reason), as_json, _render)


@request_app.command("send")
def send(request_id: str, org: str = OrgOpt, as_json: bool = JsonOpt) -> None:
    """Send a draft (it can no longer be edited, only withdrawn or followed)."""
    _move("send", request_id, org, "", as_json)


@request_app.command("ack")
def ack(request_id: str, org: str = OrgOpt, as_json: bool = JsonOpt) -> None:
    """Acknowledge a request addressed to the organisation."""
    _move("acknowledge", request_id, org, "", as_json)


@request_app.command("decline")
def decline(
    request_id: str,
    org: str = OrgOpt,
    reason: str = typer.Option(..., "--reason", help="Why (the requester reads it)."),
    as_json: bool = JsonOpt,
) -> None:
    """Decline a request addressed to the organisation, with the reason."""
    _move("decline", request_id, org, reason, as_json)


@request_app.command("withdraw")
def withdraw(request_id: str, org: str = OrgOpt, as_json: bool = JsonOpt) -> None:
    """Withdraw the organisation's own request (until it is answered)."""
    _move("withdraw", request_id, org, "", as_json)


@request_app.command("close")
def close(request_id: str, org: str = OrgOpt, as_json: bool = JsonOpt) -> None:
    """Close an answered or declined request the organisation sent."""
    _move("close", request_id, org, "", as_json)


def _pairs(items: list[str], flag: str) -> list[tuple[str, str]]:
    out = []
    for item in items:
        address, sep, value = item.partition("=")
        if not address.strip() or (flag in ("--frozen", "--moved") and not sep):
            raise InvalidInputError(f"{flag} takes ADDRESS=VALUE, not {item!r}", field=flag)
        out.append((address.strip(), value.strip()))
    return out


@request_app.command("answer")
def answer(
    request_id: str,
    org: str = OrgOpt,
    frozen: list[str] = typer.Option(
        [], "--frozen", help="ADDRESS=AMOUNT frozen, in the asset's units (0.5)."
    ),
    moved: list[str] = typer.Option([], "--moved", help="ADDRESS=WHERE: already moved on."),
    not_customer: list[str] = typer.Option([], "--not-customer", help="Not our customer's."),
    legal_process: list[str] = typer.Option(
        [], "--legal-process", help="Subscriber data available through legal process."
    ),
    note: str = typer.Option("", "--note", help="A note for the requester."),
    attach: list[Path] = typer.Option([], "--attach", help="A file with the answer."),
    sealed: list[Path] = typer.Option(
        [], "--sealed", help="A file only the requesting organisation may open."
    ),
    as_json: bool = JsonOpt,
) -> None:
    """Answer a request addressed to the organisation, per deposit address."""
    from fundtrail.cases.requests.service import answer_request

    answers: list[dict[str, Any]] = []
    answers += [
        {"address": a, "outcome": "frozen", "amount_units": v}
        for a, v in _pairs(frozen, "--frozen")
    ]
    answers += [
        {"address": a, "outcome": "moved", "moved_to": v} for a, v in _pairs(moved, "--moved")
    ]
    answers += [{"address": a, "outcome": "not-customer"} for a in not_customer]
    answers += [{"address": a, "outcome": "legal-process"} for a in legal_process]
    with _acting(org) as (store, who):
        data = answer_request(
            store,
            who,
            request_id,
            answers,
            note=note,
            attachments=_files(attach) + _files(sealed, sealed=True),
        )
    emit(data, as_json, _render)


@request_app.command("export")
def export(
    request_id: str,
    out: Path | None = typer.Option(None, "-o", "--out", help="File (default: standard output)."),
    org: str | None = ReadOrgOpt,
    operator: bool = OperatorOpt,
) -> None:
    """The request with its answer as JSON (docs/requests.schema.json)."""
    from fundtrail.cases.requests.transfer import export_request

    with _acting(org, operator) as (store, who):
        text = json.dumps(export_request(store, who, request_id), indent=2) + "\n"
    if out is None:
        typer.echo(text, nl=False)
    else:
        out.write_text(text)
        console.print(f"wrote {out}")


@request_app.command("import")
def import_(path: Path, org: str = OrgOpt, as_json: bool = JsonOpt) -> None:
    """Take in an answer from an exported request whose deposits[].answer are filled in."""
    from fundtrail.cases.requests.transfer import import_answer

    if not path.is_file():
        raise InvalidInputError(f"no file {path}", field="file")
    with _acting(org) as (store, who):
        emit(import_answer(store, who, path.read_bytes()), as_json, _render)


@request_app.command("attachment")
def attachment(
    request_id: str,
    attachment_id: str,
    out: Path = typer.Option(..., "-o", "--out", help="Where to write the file."),
    org: str | None = ReadOrgOpt,
    operator: bool = OperatorOpt,
) -> None:
    """Write one attachment of a request to a file (a sealed one: the requester only)."""
    from fundtrail.cases.requests.service import open_attachment

    with _acting(org, operator) as (store, who):
        att = open_attachment(store, who, request_id, attachment_id)
    out.write_bytes(att.body)
    console.print(f"wrote {out} ({len(att.body):,} bytes)")


def register(app: typer.Typer) -> None:
    app.add_typer(request_app, name="request")
