"""Group commit of read audit rows: concurrent AMBER/RED reads share one transaction.

Every such read must append an audit row before it answers. Appends are serialised
(the chain must not fork), so under concurrent load each read waited for the others'
whole transactions. Here the first reader to arrive writes every row queued so far
in one transaction (one BEGIN, one lock, one COMMIT) while the others wait; each
read still returns only after its own row is committed, and fails if it was not.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from fundtrail.errors import StorageError
from fundtrail.intelstore import audit
from fundtrail.intelstore.db import IntelStore

MAX_BATCH = 200  # rows per transaction: bounds the leader's own wait


@dataclass(slots=True, eq=False)
class _Pending:
    args: tuple[Any, ...]
    done: threading.Event = field(default_factory=threading.Event)
    lead: bool = False  # woken to write the next batch
    error: BaseException | None = None


class ReadAuditor:
    def __init__(self, store: IntelStore, prepare: Callable[[Session], None]) -> None:
        self.store = store
        self.prepare = prepare  # run first in each transaction (e.g. commit settings)
        self._lock = threading.Lock()
        self._queue: list[_Pending] = []
        self._writing = False

    def record(
        self,
        who: audit.Actor,
        action: str,
        object_id: str | None,
        details: dict[str, Any],
        remote: str | None,
    ) -> None:
        """Append one row (as :func:`audit.record` would); return once it is committed."""
        me = _Pending((who, action, "indicator", object_id, details, remote))
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
            me.done.clear()  # woken to lead: my row is still queued
        self._write_batches(me)
        if me.error is not None:
            raise me.error

    def _write_batches(self, me: _Pending) -> None:
        """Write batches until mine is written, then hand the lead to the next in line."""
        while True:
            with self._lock:
                batch, self._queue = self._queue[:MAX_BATCH], self._queue[MAX_BATCH:]
            error: BaseException | None = None
            try:
                with self.store.session() as s:
                    self.prepare(s)
                    for p in batch:
                        audit.record(s, *p.args)
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
