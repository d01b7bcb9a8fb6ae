"""The index follows its inputs by itself: a background rebuilder for the server.

Every worker process runs one :class:`Rebuilder` thread. It wakes when an answer met
pending inputs (or every ``POLL_S`` seconds), and when the live index is behind its
inputs it takes ``<home>/screen/.build.lock`` without waiting (one build at a time
across all workers and processes) and runs ``python -m fundtrail.screen.rebuild`` as a
niced child process, so the build's Python work never holds a serving worker's GIL. The
new version is swapped in atomically; answers carry ``rebuild_pending`` until then.

It also polls the intel store's journal: a writer on another machine does not raise this
machine's change signal, so the poll raises it (within ``POLL_S``).
"""

from __future__ import annotations

import fcntl
import logging
import os
import subprocess
import sys
import threading
import time
import weakref
from collections.abc import Callable
from pathlib import Path

from fundtrail.intelstore.changes import latest_seq
from fundtrail.intelstore.db import IntelStore

log = logging.getLogger(__name__)

POLL_S = 2.0
QUIET_S = 0.3  # let a burst of changes (an import in batches) settle first
NICE = 10


class Rebuilder:
    """Runs a rebuild in a child process whenever ``stale()`` says inputs moved."""

    def __init__(self, home: Path, store: IntelStore, stale: Callable[[], bool]) -> None:
        self.home = Path(home)
        # weak: the thread must not keep a closed store (or its screener) alive
        self._store = weakref.ref(store)
        self._stale = weakref.WeakMethod(stale) if hasattr(stale, "__self__") else None
        self._plain = stale if self._stale is None else None
        self.builds = 0
        self.last_error: str | None = None
        self.poll_error: str | None = None  # set while the journal cannot be read
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="screen-rebuild", daemon=True)
        self._thread.start()

    def stale(self) -> bool:
        fn = self._stale() if self._stale is not None else self._plain
        return bool(fn()) if fn is not None else False

    @property
    def store(self) -> IntelStore:
        store = self._store()
        if store is None or store.closed:
            raise _Gone
        return store

    def request(self) -> None:
        self._wake.set()

    def close(self) -> None:
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout=5)

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(POLL_S)
            self._wake.clear()
            if self._stop.is_set():
                return
            try:
                self._poll_journal()
            except _Gone:
                return
            except Exception as exc:  # said once per outage, not every POLL_S
                if self.poll_error is None:
                    log.warning("screening: cannot poll the intel journal: %s", exc)
                self.poll_error = f"{type(exc).__name__}: {exc}"
            else:
                if self.poll_error is not None:
                    log.info("screening: polling the intel journal again")
                self.poll_error = None
            try:
                if self.stale():
                    time.sleep(QUIET_S)
                    self._build()
            except _Gone:
                return
            except Exception as exc:  # a failed build is retried on the next wake
                error = f"{type(exc).__name__}: {exc}"
                if error != self.last_error:  # the same failure again is not news
                    log.warning("screening index rebuild failed: %s", error)
                self.last_error = error

    def _poll_journal(self) -> None:
        with self.store.read_session() as s:
            newest = latest_seq(s)
        if newest > self.store.changes.latest():
            self.store.changes.raise_to(newest)

    def _build(self) -> None:
        lock = self.home / "screen" / ".build.lock"
        lock.parent.mkdir(parents=True, exist_ok=True)
        with open(lock, "w") as fh:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return  # another worker is building
            if not self.stale():  # built by someone else while we waited
                return
            env = {
                **os.environ,
                "FUNDTRAIL_HOME": str(self.home),
                "FUNDTRAIL_DATABASE_URL": self.store.engine.url.render_as_string(
                    hide_password=False
                ),
            }
            done = subprocess.run(
                [sys.executable, "-m", "fundtrail.screen.rebuild"],
                env=env,
                capture_output=True,
                text=True,
                check=False,
            )
            if done.returncode:
                raise RuntimeError(done.stderr.strip().splitlines()[-1] if done.stderr else "?")
            self.builds += 1
            self.last_error = None


class _Gone(Exception):
    """The store this rebuilder served was closed (or collected): the thread ends."""


def main() -> None:
    """The child process: build the index of FUNDTRAIL_HOME from FUNDTRAIL_DATABASE_URL."""
    os.nice(NICE)  # below the serving workers
    from fundtrail.screen.build import build_index
    from fundtrail.settings import get_settings

    build_index(get_settings().home)


if __name__ == "__main__":
    main()
