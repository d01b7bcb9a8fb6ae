"""The life of a request between partners, as one table (pure: no store, no clock).

    draft --send--> sent --(first read by the addressee)--> received --acknowledge-->
    acknowledged --answer--> answered --close--> closed

An addressee may answer or decline (with a reason) once it has received the request;
the requester may withdraw it until it is answered, and closes it once answered or
declined. A request is edited only as a draft: after sending, the requester withdraws
it or sends another that follows it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

from fundtrail.errors import ConflictError, InvalidInputError

KINDS = ("freeze", "preserve", "identify", "release")
STATES = (
    "draft",
    "sent",
    "received",
    "acknowledged",
    "answered",
    "closed",
    "withdrawn",
    "declined",
)
OPEN = frozenset({"sent", "received", "acknowledged"})  # waiting for the addressee
FINAL = frozenset({"closed", "withdrawn"})
OUTCOMES = ("frozen", "moved", "not-customer", "legal-process")
OUTCOME_TEXT = {
    "frozen": "frozen",
    "moved": "already moved",
    "not-customer": "not a customer address",
    "legal-process": "subscriber data available through legal process",
}
DUE_SOON = timedelta(days=2)

Side = Literal["requester", "addressee"]

# (state, action) -> (new state, who may do it)
TRANSITIONS: dict[tuple[str, str], tuple[str, Side]] = {
    ("draft", "send"): ("sent", "requester"),
    ("draft", "withdraw"): ("withdrawn", "requester"),
    ("sent", "receive"): ("received", "addressee"),
    ("sent", "withdraw"): ("withdrawn", "requester"),
    ("received", "acknowledge"): ("acknowledged", "addressee"),
    ("received", "answer"): ("answered", "addressee"),
    ("received", "decline"): ("declined", "addressee"),
    ("received", "withdraw"): ("withdrawn", "requester"),
    ("acknowledged", "answer"): ("answered", "addressee"),
    ("acknowledged", "decline"): ("declined", "addressee"),
    ("acknowledged", "withdraw"): ("withdrawn", "requester"),
    ("answered", "close"): ("closed", "requester"),
    ("declined", "close"): ("closed", "requester"),
}
ACTIONS = tuple(dict.fromkeys(a for _s, a in TRANSITIONS))


def parse_kind(kind: str) -> str:
    k = (kind or "").strip().lower()
    if k not in KINDS:
        raise InvalidInputError(
            f"unknown request kind {kind!r}; use {', '.join(KINDS)}", field="kind"
        )
    return k


def parse_outcome(outcome: str) -> str:
    o = (outcome or "").strip().lower()
    if o not in OUTCOMES:
        raise InvalidInputError(
            f"unknown answer {outcome!r}; use {', '.join(OUTCOMES)}", field="outcome"
        )
    return o


def step(state: str, action: str, side: str) -> str:
    """The state after ``action`` by ``side``; a clear ConflictError when not allowed."""
    if action not in ACTIONS:
        raise InvalidInputError(f"unknown action {action!r}", field="action")
    found = TRANSITIONS.get((state, action))
    if found is None:
        allowed = allowed_actions(state, side)
        hint = f" (the {side} may now: {', '.join(allowed)})" if allowed else ""
        raise ConflictError(f"a request that is {state} cannot be {_past(action)}{hint}")
    new, who = found
    if who != side:
        raise ConflictError(f"only the {who} may {action} a request")
    return new


def allowed_actions(state: str, side: str) -> list[str]:
    """What ``side`` may do now (``receive`` happens by reading, so it is not listed)."""
    return [
        a
        for (s, a), (_n, who) in TRANSITIONS.items()
        if s == state and who == side and a != "receive"
    ]


def _past(action: str) -> str:
    return {
        "send": "sent",
        "withdraw": "withdrawn",
        "receive": "received",
        "acknowledge": "acknowledged",
        "answer": "answered",
        "decline": "declined",
        "close": "closed",
    }[action]


def due_status(state: str, deadline: datetime | None, now: datetime) -> str | None:
    """``overdue`` / ``due`` (within two days) while the addressee still owes an answer."""
    if deadline is None or state not in OPEN:
        return None
    if now > deadline:
        return "overdue"
    if deadline - now <= DUE_SOON:
        return "due"
    return None
