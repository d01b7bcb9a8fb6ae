"""The decision log: a screening answer goes out only once its decision is on local disk.

**Guarantee.** A decision that was answered is on disk. Each request's decisions are
appended to this process's segment file as one frame, and the answer waits until an
``fdatasync`` covering that frame has returned. Concurrent requests share one write and
one ``fdatasync`` (group commit): a burst of single screens pays one disk flush, not one
each. If the write or the flush fails the request fails (HTTP 503): nothing is answered
that is not logged.

**Drain.** A background thread copies flushed frames into the intel store
(``screen_decisions``, plus one audit row per caller per drained batch, with the SHA-256 of
the frames it covers) and records how far it got, in the same transaction, under
``store_meta`` key ``screenlog:<segment>``. After a crash the next drainer resumes exactly
there. Decision ids are the table's primary key and inserts skip ids already present, so
a frame drained twice is stored once.

**Segments.** ``<home>/screen/decisions/<segment>.log``, frames of
``b"FTD1" | u32 length | u32 crc32(payload) | payload (JSON)``. A process holds an
exclusive ``flock`` on the segments it writes; a segment nobody holds belongs to a
process that ended or was killed, and whoever finds it drains it to its last whole frame
(a torn tail is a frame that was never acknowledged), then deletes it. A segment over
``ROTATE_BYTES`` is retired once drained and a new one started.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import hashlib
import logging
import os
import struct
import threading
import time
import uuid
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import orjson
import sqlalchemy as sa
from sqlalchemy.orm import Session

from fundtrail.errors import UnavailableError
from fundtrail.intelstore.audit import record
from fundtrail.intelstore.db import IntelStore
from fundtrail.intelstore.models import Org, StoreMeta
from fundtrail.intelstore.screening import ScreenDecision

log = logging.getLogger(__name__)

MAGIC = b"FTD1"
HEADER = struct.Struct("<4sII")  # magic, payload length, crc32
ROTATE_BYTES = 64 * 1024 * 1024
DRAIN_INTERVAL_S = 0.2  # how soon a decision shows in GET /api/v1/screen/decisions
ORPHAN_SCAN_S = 5.0
ROWS_PER_TRANSACTION = 20_000
CHECKPOINT_PREFIX = "screenlog:"


class DecisionLogError(UnavailableError):
    """The decision could not be made durable, so the answer is not given."""


def decisions_folder(home: Path) -> Path:
    path = Path(home) / "screen" / "decisions"
    path.mkdir(parents=True, exist_ok=True)
    return path


def encode_request(
    rows: list[dict[str, Any]], *, org_id: str, key_id: str | None, remote: str | None
) -> bytes:
    """One request's decisions as a frame payload. Each row holds the columns of
    ``screen_decisions`` with ``created`` as Unix seconds."""
    return orjson.dumps({"org_id": org_id, "key_id": key_id, "remote": remote, "rows": rows})


def frame(payload: bytes) -> bytes:
    return HEADER.pack(MAGIC, len(payload), zlib.crc32(payload)) + payload


def read_frames(data: bytes, start: int = 0) -> Iterator[tuple[int, bytes]]:
    """(end offset, payload) of each whole frame from ``start``; stops at a torn tail."""
    pos, n = start, len(data)
    while pos + HEADER.size <= n:
        magic, length, crc = HEADER.unpack_from(data, pos)
        end = pos + HEADER.size + length
        if magic != MAGIC or end > n:
            return
        payload = data[pos + HEADER.size : end]
        if zlib.crc32(payload) != crc:
            return
        yield end, payload
        pos = end


@dataclass(slots=True, eq=False)
class _Pending:
    data: bytes
    done: threading.Event | None = None
    future: asyncio.Future[None] | None = None
    error: BaseException | None = None

    def resolve(self, error: BaseException | None) -> None:
        self.error = error
        if self.future is not None:
            fut = self.future
            loop = fut.get_loop()
            loop.call_soon_threadsafe(_settle, fut, error)
        elif self.done is not None:
            self.done.set()


def _settle(fut: asyncio.Future[None], error: BaseException | None) -> None:
    if fut.done():
        return
    if error is None:
        fut.set_result(None)
    else:
        fut.set_exception(error)


@dataclass(slots=True)
class _Segment:
    """A segment this process holds: its lock, how far it is flushed and drained."""

    path: Path
    fd: int
    synced: int = 0
    drained: int | None = None  # None: read the checkpoint first

    @property
    def name(self) -> str:
        return self.path.stem


def _open_segment(folder: Path) -> _Segment:
    name = f"{time.strftime('%Y%m%dT%H%M%S', time.gmtime())}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    path = folder / f"{name}.log"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_EXCL, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX)
    return _Segment(path, fd)


class DecisionLog:
    """One process's decision log over a workspace and an intel store."""

    def __init__(self, home: Path, store: IntelStore, *, background: bool = True) -> None:
        self.folder = decisions_folder(home)
        self.store = store
        self._cond = threading.Condition()
        self._queue: list[_Pending] = []
        self._closing = False
        self._segment = _open_segment(self.folder)
        self._retired: list[_Segment] = []
        self._drain_lock = threading.Lock()  # one drain at a time in this process
        self._poke = threading.Event()
        self._stop = threading.Event()
        self._writer = threading.Thread(target=self._write_loop, name="decision-log", daemon=True)
        self._writer.start()
        self._drainer: threading.Thread | None = None
        if background:
            self._drainer = threading.Thread(
                target=self._drain_loop, name="decision-drain", daemon=True
            )
            self._drainer.start()

    # -- writing -----------------------------------------------------------------------
    def _enqueue(self, pending: _Pending) -> None:
        with self._cond:
            if self._closing:
                raise DecisionLogError("the decision log is closed")
            self._queue.append(pending)
            self._cond.notify()

    def commit(self, payload: bytes) -> None:
        """Append one request's decisions; return once they are flushed to disk."""
        pending = _Pending(frame(payload), done=threading.Event())
        self._enqueue(pending)
        cast(threading.Event, pending.done).wait()
        if pending.error is not None:
            raise DecisionLogError(f"decision log write failed: {pending.error}")

    async def commit_async(self, payload: bytes) -> None:
        """As :meth:`commit`, awaiting the flush instead of blocking the event loop."""
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._enqueue(_Pending(frame(payload), future=fut))
        try:
            await fut
        except OSError as exc:
            raise DecisionLogError(f"decision log write failed: {exc}") from exc

    def _write_loop(self) -> None:
        while True:
            with self._cond:
                while not self._queue and not self._closing:
                    self._cond.wait()
                batch, self._queue = self._queue, []
                if not batch:
                    return  # closing and nothing left
            self._write(batch)

    def _write(self, batch: list[_Pending]) -> None:
        seg = self._segment
        data = b"".join(p.data for p in batch)
        error: BaseException | None = None
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(seg.fd, view) :]
            os.fdatasync(seg.fd)
            seg.synced += len(data)
        except OSError as exc:
            error = exc
            with contextlib.suppress(OSError):  # a torn frame would hide all after it
                os.ftruncate(seg.fd, seg.synced)
        for p in batch:
            p.resolve(error)
        if error is None and seg.synced > ROTATE_BYTES:
            self._rotate()
        self._poke.set()

    def _rotate(self) -> None:
        """Retire the full segment (still held until drained) and write a new one."""
        try:
            new = _open_segment(self.folder)
        except OSError as exc:
            log.warning("decision log: cannot start a new segment: %s", exc)
            return
        with self._drain_lock:
            self._retired.append(self._segment)
            self._segment = new

    # -- draining ----------------------------------------------------------------------
    def _drain_loop(self) -> None:
        backoff, next_scan = DRAIN_INTERVAL_S, 0.0
        while not self._stop.is_set():
            self._poke.wait(backoff)
            self._poke.clear()
            try:
                self.drain(orphans=time.monotonic() >= next_scan)
                if time.monotonic() >= next_scan:
                    next_scan = time.monotonic() + ORPHAN_SCAN_S
                backoff = DRAIN_INTERVAL_S
            except Exception as exc:  # the store is down: decisions wait on disk
                log.warning("decision log: drain failed (will retry): %s", exc)
                backoff = min(backoff * 2, 5.0)

    def drain(self, *, orphans: bool = True) -> int:
        """Copy every flushed decision into the intel store now; returns rows stored."""
        stored = 0
        with self._drain_lock:
            for seg in [*self._retired, self._segment]:
                stored += self._drain_held(seg)
            for seg in list(self._retired):
                if seg.drained == seg.synced:
                    self._retired.remove(seg)
                    self._finish(seg.path, seg.fd)
            if orphans:
                stored += self._drain_orphans()
        return stored

    def _drain_held(self, seg: _Segment) -> int:
        if seg.drained is None:
            seg.drained = _checkpoint(self.store, seg.name)
        if seg.drained >= seg.synced:
            return 0
        with open(seg.path, "rb") as fh:
            fh.seek(seg.drained)
            data = fh.read(seg.synced - seg.drained)
        stored, end = _store_frames(self.store, seg.name, data, seg.drained)
        seg.drained = end
        return stored

    def _drain_orphans(self) -> int:
        held = {self._segment.path, *(s.path for s in self._retired)}
        stored = 0
        for path in sorted(self.folder.glob("*.log")):
            if path in held:
                continue
            try:
                fd = os.open(path, os.O_RDWR)
            except FileNotFoundError:
                continue  # drained and deleted by another process meanwhile
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)  # its writer is alive
                continue
            if not path.exists():  # deleted between our open and our lock
                os.close(fd)
                continue
            start = _checkpoint(self.store, path.stem)
            with open(path, "rb") as fh:
                data = fh.read()
            n, _end = _store_frames(self.store, path.stem, data[start:], start)
            stored += n
            self._finish(path, fd)
        return stored

    def _finish(self, path: Path, fd: int) -> None:
        """A segment drained to its end: delete it, then its checkpoint."""
        path.unlink(missing_ok=True)
        os.close(fd)
        with self.store.session() as s:
            s.execute(sa.delete(StoreMeta).where(StoreMeta.key == CHECKPOINT_PREFIX + path.stem))

    def pending_bytes(self) -> int:
        """Flushed but not yet drained (for health checks and tests)."""
        segs = [*self._retired, self._segment]
        return sum(s.synced - (s.drained or 0) for s in segs)

    def close(self, *, drain: bool = True) -> None:
        """Flush what is queued and drain it, with any dead writer's segments (best
        effort: what cannot be drained now waits on disk for the next process)."""
        with self._cond:
            self._closing = True
            self._cond.notify_all()
        self._writer.join()
        self._stop.set()
        self._poke.set()
        if self._drainer is not None:
            self._drainer.join()
        if drain:
            try:
                self.drain()
            except Exception as exc:
                log.warning("decision log: left %s to drain later: %s", self._segment.path, exc)
        seg = self._segment
        if drain and seg.drained == seg.synced:
            self._finish(seg.path, seg.fd)
        else:
            os.close(seg.fd)  # the lock goes with it: the next process drains it


def _checkpoint(store: IntelStore, segment: str) -> int:
    with store.read_session() as s:
        row = s.get(StoreMeta, CHECKPOINT_PREFIX + segment)
        return int(row.value) if row else 0


def _insert_ignoring_known(dialect: str) -> Any:
    table = cast(sa.Table, ScreenDecision.__table__)
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(table).on_conflict_do_nothing(index_elements=["id"])
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(table).on_conflict_do_nothing(index_elements=["id"])


@dataclass(slots=True)
class _Caller:
    """Who screened (the audit row's actor): what the frame recorded of the key."""

    key_id: str
    org_id: str
    requests: int = 0
    items: int = 0
    risky: int = 0
    versions: set[str] = field(default_factory=set)
    remotes: set[str] = field(default_factory=set)
    first: str = ""
    last: str = ""
    digest: Any = field(default_factory=hashlib.sha256)


def _store_frames(store: IntelStore, segment: str, data: bytes, start: int) -> tuple[int, int]:
    """Store the whole frames of ``data`` (which begins at offset ``start``), in
    transactions of up to ``ROWS_PER_TRANSACTION`` rows. Returns (rows, end offset)."""
    stored, end = 0, start
    batch: list[_Frame] = []
    rows = 0
    for rel_end, payload in read_frames(data):
        f = _Frame(start + rel_end, payload, orjson.loads(payload))
        batch.append(f)
        rows += len(f.request["rows"])
        if rows >= ROWS_PER_TRANSACTION:
            stored += _commit_frames(store, segment, end, batch)
            end, batch, rows = batch[-1].end, [], 0
    if batch:
        stored += _commit_frames(store, segment, end, batch)
        end = batch[-1].end
    return stored, end


@dataclass(frozen=True, slots=True)
class _Frame:
    end: int  # offset just past it in its segment
    payload: bytes
    request: dict[str, Any]


def _commit_frames(store: IntelStore, segment: str, start: int, frames: list[_Frame]) -> int:
    """One transaction: the frames' decisions, an audit row per caller, the checkpoint."""
    rows: list[dict[str, Any]] = []
    callers: dict[tuple[str, str], _Caller] = {}
    for f in frames:
        req = f.request
        key = (req["key_id"] or "", req["org_id"])
        caller = callers.setdefault(key, _Caller(*key))
        caller.requests += 1
        caller.digest.update(f.payload)
        if req.get("remote"):
            caller.remotes.add(req["remote"])
        for r in req["rows"]:
            r["created"] = datetime.fromtimestamp(r["created"], UTC)
            caller.items += 1
            caller.risky += r["risk"] not in ("none", "invalid")
            caller.versions.add(r["index_version"])
            caller.first = caller.first or r["id"]
            caller.last = r["id"]
            rows.append(r)
    with store.session() as s:
        if _checkpoint_in(s, segment) != start:
            return 0  # another drainer got there first; the next pass re-reads
        org_ids = {r["org_id"] for r in rows}
        orgs = set(s.scalars(sa.select(Org.id).where(Org.id.in_(org_ids))))
        live = [r for r in rows if r["org_id"] in orgs]  # an org deleted since: cascade
        if live:
            s.connection().execute(_insert_ignoring_known(store.dialect), live)
        for c in callers.values():
            _audit(s, c, segment)
        _set_checkpoint(s, segment, frames[-1].end)
    return len(live)


def _audit(s: Session, c: _Caller, segment: str) -> None:
    record(
        s,
        _Actor(c.key_id, c.org_id) if c.key_id else "cli",
        "screen",
        "screen_decisions",
        None,
        {
            "requests": c.requests,
            "items": c.items,
            "risky": c.risky,
            "index_versions": sorted(c.versions),
            "first": c.first,
            "last": c.last,
            "remotes": sorted(c.remotes)[:20],
            "segment": segment,
            "sha256": c.digest.hexdigest(),
        },
        next(iter(c.remotes)) if len(c.remotes) == 1 else None,
    )


@dataclass(frozen=True, slots=True)
class _Actor:
    key_id: str
    org_id: str


def _checkpoint_in(s: Session, segment: str) -> int:
    q = sa.select(StoreMeta.value).where(StoreMeta.key == CHECKPOINT_PREFIX + segment)
    if s.get_bind().dialect.name == "postgresql":
        q = q.with_for_update()
    value = s.scalar(q)
    return int(value) if value is not None else 0


def _set_checkpoint(s: Session, segment: str, end: int) -> None:
    key = CHECKPOINT_PREFIX + segment
    moved = s.execute(sa.update(StoreMeta).where(StoreMeta.key == key).values(value=str(end)))
    if not getattr(moved, "rowcount", 0):
        s.execute(sa.insert(StoreMeta), [{"key": key, "value": str(end)}])
