"""Screening's background work stops with its store and says an outage once, not forever."""

from __future__ import annotations

import logging
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from fundtrail.errors import StorageError, UnavailableError
from fundtrail.intelstore.db import open_store
from fundtrail.screen import drain, rebuild, service
from fundtrail.screen.decisionlog import DecisionLog, encode_request


class _DownStore:
    """A store whose database is unreachable."""

    closed = False

    class changes:  # stands in for the store's ChangeSignal
        @staticmethod
        def latest() -> int:
            return 0

    @contextmanager
    def read_session(self) -> Any:
        raise StorageError("intel store error: OperationalError: connection refused")
        yield

    session = read_session


def _wait(cond: Any, timeout: float = 5.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.01)
    return cond()


def test_closing_the_store_stops_its_screeners_background_work(home: Path) -> None:
    store = open_store()
    s = service.screener(store, home, background=True)
    thread = s.rebuilder._thread
    assert thread.is_alive()
    store.close()
    assert _wait(lambda: not thread.is_alive())
    assert store not in service._SCREENERS  # the next store gets a screener of its own
    with pytest.raises(UnavailableError, match="closed"):
        service.screener(store, home, background=True)


def test_an_unreachable_journal_is_reported_once_per_outage(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    monkeypatch.setattr(rebuild, "POLL_S", 0.01)
    store = _DownStore()
    caplog.set_level(logging.INFO, logger=rebuild.__name__)
    r = rebuild.Rebuilder(tmp_path, store, lambda: False)  # type: ignore[arg-type]
    try:
        assert _wait(lambda: r.poll_error is not None)
        time.sleep(0.2)  # about twenty failed polls
        said = [m for m in caplog.messages if "cannot poll the intel journal" in m]
        assert len(said) == 1 and "connection refused" in said[0]
    finally:
        store.closed = True  # type: ignore[misc]
        r.close()
    assert not r._thread.is_alive()


def test_the_drainer_waits_quietly_while_the_store_is_down_then_exits(
    home: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    log = DecisionLog(home)
    row = {"id": "d1", "org_id": "o", "key_id": None, "risk": "none"}
    log.commit(encode_request([row], org_id="o", key_id=None, remote=None))
    log.close()
    monkeypatch.setattr(drain, "DRAIN_INTERVAL_S", 0.01)
    caplog.set_level(logging.INFO, logger=drain.__name__)
    t0 = time.monotonic()
    drain.run(home, _DownStore(), idle_exit_s=0.3)  # type: ignore[arg-type]
    assert time.monotonic() - t0 < 3
    said = [m for m in caplog.messages if "decision drain failed" in m]
    assert len(said) == 1 and "decisions wait on disk" in said[0]
    assert list((home / "screen" / "decisions").glob("*.log"))  # still there for the next


def test_the_drainer_ends_when_the_workspace_is_gone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(drain, "DRAIN_INTERVAL_S", 0.01)
    t0 = time.monotonic()
    drain.run(tmp_path / "deleted", _DownStore(), idle_exit_s=60)  # type: ignore[arg-type]
    assert time.monotonic() - t0 < 1


def test_draining_a_deleted_workspace_does_not_bring_it_back(tmp_path: Path) -> None:
    gone = tmp_path / "deleted"
    assert drain.drain_folder(gone, _DownStore()) == 0  # type: ignore[arg-type]
    assert drain.pending(gone, _DownStore()) == 0  # type: ignore[arg-type]
    assert not gone.exists()
