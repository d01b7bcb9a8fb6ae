"""The state machine of requests between partners: every allowed step, every refusal."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from fundtrail.cases.requests import states
from fundtrail.errors import ConflictError, InvalidInputError

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)


def test_the_happy_path_from_draft_to_closed() -> None:
    path = [("send", "requester"), ("receive", "addressee"), ("acknowledge", "addressee"),
            ("answer", "addressee"), ("close", "requester")]  # fmt: skip
    state = "draft"
    seen = [state]
    for action, side in path:
        state = states.step(state, action, side)
        seen.append(state)
    assert seen == ["draft", "sent", "received", "acknowledged", "answered", "closed"]


@pytest.mark.parametrize("state", ["draft", "sent", "received", "acknowledged"])
def test_the_requester_may_withdraw_until_answered(state: str) -> None:
    assert states.step(state, "withdraw", "requester") == "withdrawn"


@pytest.mark.parametrize("state", ["answered", "closed", "declined", "withdrawn"])
def test_no_withdrawal_once_answered_or_over(state: str) -> None:
    with pytest.raises(ConflictError, match=f"that is {state} cannot be withdrawn"):
        states.step(state, "withdraw", "requester")


def test_the_addressee_may_decline_or_answer_without_acknowledging() -> None:
    assert states.step("received", "decline", "addressee") == "declined"
    assert states.step("received", "answer", "addressee") == "answered"
    assert states.step("declined", "close", "requester") == "closed"


def test_nobody_answers_a_request_not_yet_received() -> None:
    with pytest.raises(ConflictError, match="that is sent cannot be answered"):
        states.step("sent", "answer", "addressee")


@pytest.mark.parametrize(
    ("state", "action", "side"),
    [
        ("draft", "send", "addressee"),
        ("sent", "withdraw", "addressee"),
        ("received", "answer", "requester"),
        ("received", "acknowledge", "requester"),
        ("answered", "close", "addressee"),
    ],
)
def test_each_step_belongs_to_one_side(state: str, action: str, side: str) -> None:
    with pytest.raises(ConflictError, match="only the"):
        states.step(state, action, side)


def test_a_closed_request_moves_no_more_and_says_so() -> None:
    for action in states.ACTIONS:
        with pytest.raises(ConflictError):
            states.step("closed", action, "requester")
    assert states.allowed_actions("closed", "requester") == []
    assert states.allowed_actions("received", "addressee") == ["acknowledge", "answer", "decline"]
    assert states.allowed_actions("sent", "addressee") == []  # it is received by reading it


def test_unknown_kind_action_and_outcome_are_named() -> None:
    with pytest.raises(InvalidInputError, match="use freeze, preserve, identify, release"):
        states.parse_kind("seize")
    with pytest.raises(InvalidInputError, match="unknown action"):
        states.step("draft", "edit", "requester")
    with pytest.raises(InvalidInputError, match="use frozen, moved"):
        states.parse_outcome("gone")
    assert states.parse_kind(" Freeze ") == "freeze"


def test_due_and_overdue_only_while_the_addressee_owes_an_answer() -> None:
    later = NOW + timedelta(days=10)
    assert states.due_status("sent", later, NOW) is None
    assert states.due_status("received", NOW + timedelta(days=1), NOW) == "due"
    assert states.due_status("acknowledged", NOW - timedelta(seconds=1), NOW) == "overdue"
    assert states.due_status("answered", NOW - timedelta(days=1), NOW) is None
    assert states.due_status("draft", NOW - timedelta(days=1), NOW) is None
    assert states.due_status("sent", None, NOW) is None
