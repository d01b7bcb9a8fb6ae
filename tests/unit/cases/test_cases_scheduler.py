"""A burst of API writes re-links twice at most, never N times, and never loses a write."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from fundtrail.cases import relink


def test_burst_coalesces_into_at_most_two_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[float] = []
    started = threading.Event()

    def slow_link(store: Any, **kw: Any) -> None:
        calls.append(time.monotonic())
        started.set()
        time.sleep(0.2)

    monkeypatch.setattr(relink, "link_campaigns", slow_link)
    sched = relink.LinkScheduler()
    first = threading.Thread(target=sched.run, args=(None,))
    first.start()
    started.wait(2)
    others = [threading.Thread(target=sched.run, args=(None,)) for _ in range(5)]
    for t in others:
        t.start()
    for t in [first, *others]:
        t.join(5)
    assert len(calls) == 2  # the running one, then one more for everything that arrived
    sched.run(None)  # idle again: a new write runs at once
    assert len(calls) == 3


def test_failure_does_not_wedge_the_scheduler(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(store: Any, **kw: Any) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(relink, "link_campaigns", broken)
    sched = relink.LinkScheduler()
    with pytest.raises(RuntimeError):
        sched.run(None)
    with pytest.raises(RuntimeError):  # runs again rather than thinking one is running
        sched.run(None)
