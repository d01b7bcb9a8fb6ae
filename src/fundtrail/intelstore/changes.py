"""The change journal: which indicators (and screening rules) changed, in commit order.

Derived views that cannot read the database on every request (the screening index, its
current-rights overlay) must still follow every change at once. So every transaction
that adds, edits, re-shares or deletes an indicator (or an org's screening rules) appends
``(seq, kind, ref)`` rows to ``intel_changes`` in the same transaction, from one session
hook (no writer has to remember), and after the commit raises a **change signal**: an
8-byte counter file holding the newest committed ``seq``. Readers map that file and
compare one integer per request (no system call, no database); only when it moved do they
read the journal rows after the ``seq`` they have applied.

``seq`` order is commit order: on SQLite writers are serialised anyway; on PostgreSQL the
hook takes a transaction-level advisory lock before its insert, so a reader that has seen
``seq`` N never later meets a smaller one committing.

The signal file lives next to a SQLite database (``intel.sqlite.changes``) and, for a
server database, in the temporary folder under a hash of its URL: every process on this
machine that uses the same store sees it. A writer on another machine is not signalled;
readers also poll the journal in the background (see ``screen``) to catch it.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import mmap
import os
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from fundtrail.intelstore.base import Base, UTCDateTime, utcnow
from fundtrail.intelstore.models import Indicator, IndicatorShare, Org

_PG_LOCK_KEY = 0x63686E67  # "chng": serialises journal appends on PostgreSQL
_INFO_KEY = "fundtrail_changes"


class IntelChange(Base):
    """One changed object: ``kind`` indicator (ref = its id), rules or org (ref = org id)."""

    __tablename__ = "intel_changes"
    __table_args__ = {"sqlite_autoincrement": True}  # never reuse a seq, even after pruning

    seq: Mapped[int] = mapped_column(
        sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True, autoincrement=True
    )
    kind: Mapped[str] = mapped_column(sa.String(16))
    ref: Mapped[str] = mapped_column(sa.String(36))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)


_WATCHED: list[tuple[type[Any], str, str]] = []  # (model, kind, attribute naming the ref)


def watch(model: type[Any], kind: str, ref_attribute: str) -> None:
    """Journal every change to ``model`` rows as ``(kind, row.<ref_attribute>)``."""
    _WATCHED.append((model, kind, ref_attribute))


watch(Indicator, "indicator", "id")
watch(IndicatorShare, "indicator", "indicator_id")
watch(Org, "org", "id")


def _changed_refs(session: Session) -> set[tuple[str, str]]:
    refs: set[tuple[str, str]] = set()
    for obj in (*session.new, *session.dirty, *session.deleted):
        for model, kind, attribute in _WATCHED:
            if isinstance(obj, model) and (
                obj in session.new or obj in session.deleted or session.is_modified(obj)
            ):
                ref = getattr(obj, attribute, None)
                if ref is not None:
                    refs.add((kind, str(ref)))
    return refs


def _after_flush(session: Session, _context: Any) -> None:
    """Journal what this flush wrote (ids are known now), in the same transaction."""
    refs = _changed_refs(session)  # new/dirty/deleted still show what was flushed
    if not refs:
        return
    if session.get_bind().dialect.name == "postgresql":
        session.execute(sa.select(sa.func.pg_advisory_xact_lock(_PG_LOCK_KEY)))
    now = utcnow()
    session.execute(
        sa.insert(IntelChange), [{"kind": k, "ref": r, "at": now} for k, r in sorted(refs)]
    )
    seq = int(session.scalar(sa.select(sa.func.max(IntelChange.seq))) or 0)
    session.info[_INFO_KEY] = max(seq, session.info.get(_INFO_KEY, 0))


def _after_commit(session: Session) -> None:
    seq = session.info.pop(_INFO_KEY, None)
    signal = session.info.get("fundtrail_signal")
    if seq and isinstance(signal, ChangeSignal):
        signal.raise_to(seq)


def _after_rollback(session: Session) -> None:
    session.info.pop(_INFO_KEY, None)


def install(factory: sessionmaker[Session], signal: ChangeSignal) -> None:
    """Journal the changes of every session ``factory`` makes, signalling after commit."""
    factory.configure(info={"fundtrail_signal": signal})
    event.listen(factory, "after_flush", _after_flush)
    event.listen(factory, "after_commit", _after_commit)
    event.listen(factory, "after_soft_rollback", lambda s, _t: _after_rollback(s))


def signal_path(url: sa.URL) -> Path | None:
    """Where the change signal of the store at ``url`` lives (None: in-memory SQLite)."""
    if url.get_backend_name() == "sqlite":
        if not url.database or url.database == ":memory:":
            return None
        db = Path(url.database)
        return db.with_name(db.name + ".changes")
    ident = hashlib.sha256(url.render_as_string(hide_password=True).encode()).hexdigest()
    return Path(tempfile.gettempdir()) / f"fundtrail-{ident[:16]}.changes"


class ChangeSignal:
    """The newest committed journal ``seq``, shared by every process through a mapped file."""

    SIZE = 8

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._local = 0  # in-memory stores: this process only
        self._map: mmap.mmap | None = None
        if path is not None:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                if os.fstat(fd).st_size < self.SIZE:
                    with _locked(fd):
                        if os.fstat(fd).st_size < self.SIZE:
                            os.ftruncate(fd, self.SIZE)
                self._map = mmap.mmap(fd, self.SIZE)
            finally:
                os.close(fd)

    def latest(self) -> int:
        """The newest committed seq any process has signalled (one memory read)."""
        if self._map is None:
            return self._local
        return int.from_bytes(self._map[: self.SIZE], "little")

    def raise_to(self, seq: int) -> None:
        """Record that ``seq`` is committed (never lowers the value)."""
        if self._map is None or self.path is None:
            self._local = max(self._local, seq)
            return
        with open(self.path, "rb+") as fh, _locked(fh.fileno()):
            if seq > self.latest():
                self._map[: self.SIZE] = seq.to_bytes(self.SIZE, "little")

    def close(self) -> None:
        if self._map is not None:
            with contextlib.suppress(BufferError, ValueError):
                self._map.close()
            self._map = None


@contextlib.contextmanager
def _locked(fd: int) -> Any:
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)


def latest_seq(session: Session) -> int:
    """The newest journal seq committed so far (0 for an empty journal)."""
    return int(session.scalar(sa.select(sa.func.max(IntelChange.seq))) or 0)


def changes_since(session: Session, seq: int, limit: int = 50_000) -> list[tuple[int, str, str]]:
    """(seq, kind, ref) after ``seq``, oldest first."""
    q = (
        sa.select(IntelChange.seq, IntelChange.kind, IntelChange.ref)
        .where(IntelChange.seq > seq)
        .order_by(IntelChange.seq)
        .limit(limit)
    )
    return [(int(r.seq), str(r.kind), str(r.ref)) for r in session.execute(q)]
