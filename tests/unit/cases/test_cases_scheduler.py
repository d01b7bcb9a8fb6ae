"""A burst of API writes re-links twice at most, never N times, and never loses a write.

"Not lost" means: every write that called the scheduler is seen by a link run that
started after it. The stand-in for ``link_campaigns`` records how many writes were
committed when each run started; threads are ordered with events, never with sleeps.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest

from fundtrail.cases import relink


class Writes:
    """Committed writes, and what each link run saw when it started."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.committed = 0
        self.seen: list[int] = []

    def commit(self) -> None:
        with self.lock:
            self.committed += 1

    def link(self) -> int:
        with self.lock:
            self.seen.append(self.committed)
            return len(self.seen)


def test_burst_coalesces_into_two_runs_and_the_second_sees_every_write(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    writes = Writes()
    first_started, release = threading.Event(), threading.Event()

    def link(store: Any, **kw: Any) -> None:
        if writes.link() == 1:
            first_started.set()
            assert release.wait(10), "the first run was never released"

    monkeypatch.setattr(relink, "link_campaigns", link)
    sched = relink.LinkScheduler()

    def write() -> None:
        writes.commit()
        sched.run(None)

    first = threading.Thread(target=write)
    first.start()
    assert first_started.wait(10)
    burst = [threading.Thread(target=write) for _ in range(5)]
    for t in burst:
        t.start()
    for t in burst:  # each returns at once: a run is going, it only asks for one more
        t.join(10)
        assert not t.is_alive()
    release.set()
    first.join(10)
    assert not first.is_alive()
    assert writes.seen == [1, 6]  # the running one, then one more that saw all six writes
    write()  # idle again: a new write runs at once and is seen
    assert writes.seen == [1, 6, 7]


@pytest.mark.parametrize("threads", [2, 8])
def test_no_write_is_lost_under_contention(monkeypatch: pytest.MonkeyPatch, threads: int) -> None:
    """Many writers at once: the last run starts after the last write, whatever the order."""
    writes = Writes()
    go = threading.Barrier(threads)

    active = [0, 0]  # running now, most ever at once

    def link(store: Any, **kw: Any) -> None:
        with writes.lock:
            active[0] += 1
            active[1] = max(active)
        writes.link()
        with writes.lock:
            active[0] -= 1

    monkeypatch.setattr(relink, "link_campaigns", link)
    sched = relink.LinkScheduler()
    per_thread = 200

    def writer() -> None:
        go.wait(10)
        for _ in range(per_thread):
            writes.commit()
            sched.run(None)

    pool = [threading.Thread(target=writer) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join(30)
        assert not t.is_alive()
    assert max(writes.seen) == threads * per_thread, "a write returned with no run after it"
    assert active[1] == 1, "two link runs overlapped"
    assert len(writes.seen) <= threads * per_thread


def test_failure_does_not_wedge_the_scheduler(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(store: Any, **kw: Any) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(relink, "link_campaigns", broken)
    sched = relink.LinkScheduler()
    with pytest.raises(RuntimeError):
        sched.run(None)
    with pytest.raises(RuntimeError):  # runs again rather than thinking one is running
        sched.run(None)
