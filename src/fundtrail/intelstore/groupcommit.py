"""Group commit: concurrent requests that must each append audit rows share one transaction.

Audit appends are serialised (the chain must not fork), so under concurrent load each
request waited for the others' whole transactions. Here a request queues its work (a
function of the session: audit rows, screening decisions, ...) and the first to
arrive writes every job queued so far in one transaction (one BEGIN, one lock, one
COMMIT) while the others wait. Each request still returns only after its own work is
committed, and fails if it was not.

One writer per store and durability (:func:`group_writer`). ``durable=False`` is for
*read* audit rows: on PostgreSQL it skips the wait for the WAL flush (a crash of the
database server may drop the last <1 s of read records; never a write's, never
reordering the chain) unless ``FUNDTRAIL_DURABLE_READ_AUDIT`` is set.
``durable=True`` keeps full durability (writes, screening decisions).

Usage::

    group_writer(store).run(lambda s: audit.record(s, who, "screen", ...))
    group_writer(store, durable=False).record(who, "indicator.read", "indicator", iid)
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from fundtrail.errors import StorageError
from fundtrail.intelstore import audit

if TYPE_CHECKING:
    from fundtrail.intelstore.db import IntelStore
    from fundtrail.model.identity import Identity

MAX_BATCH = 200  # jobs per transaction: bounds the leader's own wait
_NO_FLUSH_WAIT = sa.text("SET LOCAL synchronous_commit TO OFF")

Job = Callable[[Session], object]  # its result is ignored


@dataclass(slots=True, eq=False)
class _Pending:
    work: Job
    done: threading.Event = field(default_factory=threading.Event)
    lead: bool = False  # woken to write the next batch
    error: BaseException | None = None


class GroupWriter:
    """Runs queued jobs in shared transactions; each caller waits for its own commit."""

    def __init__(self, store: IntelStore, *, durable: bool = True) -> None:
        self.store = store
        self.durable = durable
        self._lock = threading.Lock()
        self._queue: list[_Pending] = []
        self._writing = False

    def record(
        self,
        who: Identity | str | None,
        action: str,
        object_type: str,
        object_id: str | None,
        details: dict[str, Any] | None = None,
        remote: str | None = None,
    ) -> None:
        """Append one audit row (as :func:`audit.record` would); return once committed."""
        self.run(lambda s: audit.record(s, who, action, object_type, object_id, details, remote))

    def run(self, work: Job) -> None:
        """Run ``work(session)`` in a shared transaction; return once it is committed."""
        me = _Pending(work)
        with self._lock:
            self._queue.append(me)
            me.lead = not self._writing
            self._writing = True
        while not me.lead:
            me.done.wait()
            if me.error is not None:
                raise StorageError(f"audit write failed: {me.error}") from me.error
            if not me.lead:
                return
            me.done.clear()  # woken to lead: my job is still queued
        self._write_batches(me)
        if me.error is not None:
            raise me.error

    def _prepare(self, s: Session) -> None:
        if self.durable or self.store.dialect != "postgresql":
            return
        from fundtrail.settings import get_settings

        if not get_settings().durable_read_audit:
            s.execute(_NO_FLUSH_WAIT)

    def _write_batches(self, me: _Pending) -> None:
        """Write batches until mine is written, then hand the lead to the next in line."""
        while True:
            with self._lock:
                batch, self._queue = self._queue[:MAX_BATCH], self._queue[MAX_BATCH:]
            error: BaseException | None = None
            try:
                with self.store.session() as s:
                    self._prepare(s)
                    for p in batch:
                        p.work(s)
            except BaseException as exc:  # every waiter of this batch must learn of it
                error = exc
            for p in batch:
                if p is not me:
                    p.error = error
                    p.done.set()
            if any(p is me for p in batch):
                me.error = error
                break
        with self._lock:
            if self._queue:
                nxt = self._queue[0]
                nxt.lead = True
                nxt.done.set()
            else:
                self._writing = False


_WRITERS: weakref.WeakKeyDictionary[IntelStore, dict[bool, GroupWriter]] = (
    weakref.WeakKeyDictionary()
)
_WRITERS_LOCK = threading.Lock()


def group_writer(store: IntelStore, *, durable: bool = True) -> GroupWriter:
    """The one group writer of ``store`` for this durability (shared by every service)."""
    with _WRITERS_LOCK:
        per_store = _WRITERS.setdefault(store, {})
        writer = per_store.get(durable)
        if writer is None:
            writer = per_store[durable] = GroupWriter(store, durable=durable)
        return writer
