"""A request with its answer as one JSON document, for a partner's own case tool.

``export_request`` writes what the caller may see of a request (schema
``docs/requests.schema.json``, ``"schema": "fundtrail.request/1"``); an exchange's tool
reads it, fills in ``deposits[].answer`` and the hub takes the answer back with
``import_answer`` (the same checks as an answer given in the hub). Attachments are
listed (name, size, SHA-256), not embedded: they are fetched with the API.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from fundtrail.cases.requests.service import answer_request, show_request
from fundtrail.errors import InvalidInputError
from fundtrail.intelstore.db import IntelStore
from fundtrail.model.identity import Identity

SCHEMA = "fundtrail.request/1"
MAX_DOCUMENT = 5 * 1024 * 1024
_REQUEST_FIELDS = (
    "id",
    "kind",
    "state",
    "from",
    "from_kind",
    "to",
    "campaign",
    "case_reference",
    "exchange",
    "reference",
    "legal_basis",
    "contact",
    "note",
    "deadline",
    "created",
    "sent",
    "received",
    "acknowledged",
    "answered",
    "closed",
    "withdrawn",
    "declined",
    "decline_reason",
    "follows",
    "answer_note",
)
_ANSWER_FIELDS = ("outcome", "frozen_amount", "frozen_asset", "frozen_at", "moved_to", "note")


def document(view: dict[str, Any]) -> dict[str, Any]:
    """The exported document of a request as :func:`show_request` returned it."""
    return {
        "schema": SCHEMA,
        "request": {k: view.get(k) for k in _REQUEST_FIELDS},
        "totals": view["totals"],
        "deposits": [
            {
                "chain": d["chain"],
                "address": d["address"],
                "asset": d["asset"],
                "amount": str(d["amount"]),
                "share": d["share"],
                "txids": d["txids"],
                "answer": {
                    k: (str(v) if k == "frozen_amount" and v is not None else v)
                    for k, v in d["answer"].items()
                    if k in _ANSWER_FIELDS
                }
                if d["answer"]
                else None,
            }
            for d in view["deposits"]
        ],
        "attachments": [
            {k: a[k] for k in ("name", "media_type", "size", "sha256", "side", "sealed")}
            for a in view["attachments"]
        ],
    }


def export_request(
    store: IntelStore, who: Identity, request_id: str, *, home: Path | None = None
) -> dict[str, Any]:
    """The request as a document (a read: audited, and the addressee's first read)."""
    return document(show_request(store, who, request_id, home=home))


def parse_document(text: str | bytes) -> dict[str, Any]:
    """A document read back: the right schema, a request id, a list of deposits."""
    if len(text) > MAX_DOCUMENT:
        raise InvalidInputError(f"request document over {MAX_DOCUMENT:,} bytes", field="file")
    try:
        doc = json.loads(text)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidInputError(f"request document is not JSON: {exc}", field="file") from None
    if not isinstance(doc, dict) or doc.get("schema") != SCHEMA:
        raise InvalidInputError(f'request document must say "schema": "{SCHEMA}"', field="schema")
    req = doc.get("request")
    if not isinstance(req, dict) or not isinstance(req.get("id"), str):
        raise InvalidInputError("request document has no request.id", field="request")
    if not isinstance(doc.get("deposits"), list):
        raise InvalidInputError("request document has no deposits list", field="deposits")
    return doc


def answers_of(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """The answers a document carries, in the form :func:`answer_request` takes."""
    out = []
    for i, d in enumerate(doc["deposits"]):
        if not isinstance(d, dict):
            raise InvalidInputError(f"deposits[{i}] must be an object", field="deposits")
        a = d.get("answer")
        if not a:
            continue
        if not isinstance(a, dict):
            raise InvalidInputError(f"deposits[{i}].answer must be an object", field="deposits")
        out.append(
            {
                "address": d.get("address"),
                "asset": a.get("frozen_asset") or d.get("asset"),
                "outcome": a.get("outcome"),
                "amount": a.get("frozen_amount"),
                "at": a.get("frozen_at"),
                "moved_to": a.get("moved_to"),
                "note": a.get("note"),
            }
        )
    return out


def import_answer(
    store: IntelStore,
    who: Identity,
    text: str | bytes,
    *,
    home: Path | None = None,
    now: datetime | None = None,
    background: bool = False,
) -> dict[str, Any]:
    """Answer the request a document names with the answers it carries."""
    doc = parse_document(text)
    answers = answers_of(doc)
    if not answers:
        raise InvalidInputError(
            "the document answers no deposit (deposits[].answer)", field="deposits"
        )
    note = str(doc["request"].get("answer_note") or "")
    return answer_request(
        store,
        who,
        doc["request"]["id"],
        answers,
        note=note,
        home=home,
        now=now,
        background=background,
    )
