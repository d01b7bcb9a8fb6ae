"""The decision log: a screening answer goes out only once its decision is on local disk.

**Guarantee.** A decision that was answered is on disk. Each request's decisions are
appended to this process's segment file as one frame, and the answer waits until an
``fdatasync`` covering that frame has returned. Concurrent requests share one write and
one ``fdatasync`` (group commit): a burst of single screens pays one disk flush, not one
each. If the write or the flush fails the request fails (HTTP 503): nothing is answered
that is not logged.

**Two modes** (``FUNDTRAIL_SCREEN_DURABILITY``):

- ``fsync`` (the default): as above, the answer waits for the ``fdatasync``. Nothing
  answered is lost to a crash of the server or of the machine.
- ``write``: the answer waits for the ``write`` of its frame into the kernel (a few
  microseconds), and a flush thread runs ``fdatasync`` as soon as frames are waiting
  (group commit again, off the request path). Nothing answered is lost when the server
  process dies (``kill -9``, out of memory: the kernel holds the bytes); a power loss
  or kernel crash can lose the decisions answered during the last flush, about one
  ``fdatasync`` (milliseconds; ``flush_lag`` is the age of the oldest unflushed frame).
  If a flush fails, answers stop (503) until one succeeds.

**Segments.** ``<home>/screen/decisions/<segment>.log``, frames of
``b"FTD1" | u32 length | u32 crc32(payload) | payload (JSON)``. A process holds an
exclusive ``flock`` on the segment it writes; a segment nobody holds belongs to a
process that ended or was killed (or was retired after ``ROTATE_BYTES``). Copying frames
into the intel store is :mod:`fundtrail.screen.drain`'s job, in a process of its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import struct
import threading
import time
import uuid
import weakref
import zlib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from fundtrail.errors import UnavailableError

MAGIC = b"FTD1"
HEADER = struct.Struct("<4sII")  # magic, payload length, crc32
ROTATE_BYTES = 64 * 1024 * 1024


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


# per decision; the org, the key and the time are the request's
COLUMNS = (
    "id", "chain", "address", "direction", "amount", "asset", "txid", "risk", "score",
    "reasons", "index_version",
)  # fmt: skip


def encode_columns(
    columns: dict[str, list[Any]],
    *,
    org_id: str,
    key_id: str | None,
    remote: str | None,
    created: float,
) -> bytes:
    """As :func:`encode_request`, as columns (``COLUMNS``, one list each, one entry per
    decision): what the answer path writes. No dict per decision is built while the
    caller waits, the frame does not repeat every key name per decision, and the
    drainer (:func:`request_rows`) turns it into rows in its own process."""
    return orjson.dumps(
        {
            "org_id": org_id,
            "key_id": key_id,
            "remote": remote,
            "created": created,
            "columns": columns,
        }
    )


def request_rows(request: dict[str, Any]) -> list[dict[str, Any]]:
    """The decisions of a decoded frame as ``screen_decisions`` rows, whichever form
    (rows or columns) it was written in."""
    rows = request.get("rows")
    if rows is not None:
        return list(rows)
    cols = request["columns"]
    common = {"org_id": request["org_id"], "key_id": request["key_id"]}
    created = request["created"]
    names = [c for c in COLUMNS if c in cols]
    return [
        {**common, **dict(zip(names, values, strict=True)), "created": created}
        for values in zip(*(cols[c] for c in names), strict=True)
    ]


def frame(payload: bytes) -> bytes:
    return HEADER.pack(MAGIC, len(payload), zlib.crc32(payload)) + payload


def read_frames(data: bytes, start: int = 0) -> Iterator[tuple[int, bytes]]:
    """(end offset, payload) of each whole frame from ``start``; stops at a torn or
    still unwritten tail."""
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
class _LoopQueue:
    """Frames waiting on one event loop for the next flush."""

    frames: list[bytes] = field(default_factory=list)
    futures: list[asyncio.Future[None]] = field(default_factory=list)
    flushing: bool = False
    task: asyncio.Task[None] | None = None  # held: the loop keeps only weak references


@dataclass(slots=True, eq=False)
class _Pending:
    """A synchronous caller's frame, waiting for the writer thread."""

    data: bytes
    done: threading.Event = field(default_factory=threading.Event)
    error: BaseException | None = None


@dataclass(slots=True)
class _Segment:
    path: Path
    fd: int
    synced: int = 0
    written: int = 0  # write mode: bytes handed to the kernel


def _open_segment(folder: Path) -> _Segment:
    """A new segment, locked *before* it gets its ``.log`` name: a drainer never sees
    it unlocked (and so never takes it for a dead writer's)."""
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
    name = f"{stamp}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    tmp = folder / f".{name}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_EXCL, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX)
    path = folder / f"{name}.log"
    os.rename(tmp, path)
    return _Segment(path, fd)


MODES = ("fsync", "write")


class DecisionLog:
    """This process's writer of decision frames (one segment at a time)."""

    def __init__(self, home: Path, mode: str = "fsync") -> None:
        if mode not in MODES:
            raise ValueError(f"decision log mode must be one of {MODES}, not {mode!r}")
        self.mode = mode
        self.home = Path(home)
        self.folder = decisions_folder(home)
        self._segment: _Segment | None = None
        self._io = threading.Lock()  # one append + flush at a time
        self._closing = False
        self._cond = threading.Condition()
        self._queue: list[_Pending] = []
        self._writer: threading.Thread | None = None
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="decision-flush")
        self._loop_queues: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _LoopQueue] = (
            weakref.WeakKeyDictionary()
        )
        self.after_flush: list[Any] = []  # callbacks (the drainer keeper) run after a flush
        # write mode: frames go to the kernel on the caller's thread, the flusher syncs
        self._append = threading.Lock()
        self._dirty = threading.Event()
        self._retired: list[_Segment] = []  # full segments the flusher syncs and closes
        self._sync_error: BaseException | None = None
        self._unsynced_since: float | None = None
        self._flusher: threading.Thread | None = None

    @property
    def segment(self) -> Path | None:
        return self._segment.path if self._segment else None

    # -- synchronous callers (command line, pages, tests) ---------------------------
    def commit(self, payload: bytes) -> None:
        """Append one request's decisions; return once they are durable (flushed to
        disk, or in write mode written to the kernel)."""
        if self.mode == "write":
            self._write_through(frame(payload))
            return
        pending = _Pending(frame(payload))
        with self._cond:
            if self._closing:
                raise DecisionLogError("the decision log is closed")
            self._queue.append(pending)
            if self._writer is None:
                self._writer = threading.Thread(
                    target=self._write_loop, name="decision-log", daemon=True
                )
                self._writer.start()
            self._cond.notify()
        pending.done.wait()
        if pending.error is not None:
            raise DecisionLogError(f"decision log write failed: {pending.error}")

    def _write_loop(self) -> None:
        while True:
            with self._cond:
                while not self._queue and not self._closing:
                    self._cond.wait()
                batch, self._queue = self._queue, []
                if not batch:
                    return
            error = self._write_data(b"".join(p.data for p in batch))
            for p in batch:
                p.error = error
                p.done.set()

    # -- the event loop (the HTTP route) ------------------------------------------------
    async def commit_async(self, payload: bytes) -> None:
        """As :meth:`commit`, awaiting the flush instead of blocking the event loop.

        The group is formed on the loop itself: requests that arrive while a flush is
        in flight join the next one, which goes to the flush thread as one write; no
        lock or thread wake-up per request.
        """
        if self._closing:
            raise DecisionLogError("the decision log is closed")
        if self.mode == "write":
            self._write_through(frame(payload))  # microseconds: no thread hop, no await
            return
        loop = asyncio.get_running_loop()
        queue = self._loop_queues.setdefault(loop, _LoopQueue())
        fut: asyncio.Future[None] = loop.create_future()
        queue.frames.append(frame(payload))
        queue.futures.append(fut)
        if not queue.flushing:
            queue.flushing = True
            queue.task = loop.create_task(self._flush_loop_queue(loop, queue))
        await fut

    async def _flush_loop_queue(self, loop: asyncio.AbstractEventLoop, queue: _LoopQueue) -> None:
        try:
            while queue.frames:
                data, futures = b"".join(queue.frames), queue.futures
                queue.frames, queue.futures = [], []
                error = await loop.run_in_executor(self._executor, self._write_data, data)
                for fut in futures:
                    if fut.done():
                        continue
                    if error is None:
                        fut.set_result(None)
                    else:
                        fut.set_exception(DecisionLogError(f"decision log write failed: {error}"))
        finally:
            queue.flushing = False

    # -- the disk ------------------------------------------------------------------------
    def _write_data(self, data: bytes) -> BaseException | None:
        """Append and flush; on failure cut the torn tail (it would hide later frames)."""
        with self._io:
            try:
                if self._segment is None:
                    self._segment = _open_segment(self.folder)
                seg = self._segment
                view = memoryview(data)
                while view:
                    view = view[os.write(seg.fd, view) :]
                os.fdatasync(seg.fd)
                seg.synced += len(data)
            except OSError as exc:
                if self._segment is not None:
                    with contextlib.suppress(OSError):
                        os.ftruncate(self._segment.fd, self._segment.synced)
                return exc
            if seg.synced > ROTATE_BYTES:  # retire it: unlocked, the drainer finishes it
                os.close(seg.fd)
                self._segment = None
        for callback in self.after_flush:
            callback()
        return None

    # -- write mode ---------------------------------------------------------------------
    def _write_through(self, data: bytes) -> None:
        """Write one frame into the kernel; the flusher makes it reach the disk."""
        if self._closing:
            raise DecisionLogError("the decision log is closed")
        if self._sync_error is not None:
            raise DecisionLogError(f"decision log flush failed: {self._sync_error}")
        with self._append:
            try:
                if self._segment is None:
                    self._segment = _open_segment(self.folder)
                seg = self._segment
                view = memoryview(data)
                while view:
                    view = view[os.write(seg.fd, view) :]
            except OSError as exc:
                if self._segment is not None:  # cut the torn tail: it would hide later frames
                    with contextlib.suppress(OSError):
                        os.ftruncate(self._segment.fd, self._segment.written)
                raise DecisionLogError(f"decision log write failed: {exc}") from None
            seg.written += len(data)
            if self._unsynced_since is None:
                self._unsynced_since = time.monotonic()
            if seg.written > ROTATE_BYTES:
                self._retired.append(seg)
                self._segment = None
            if self._flusher is None:
                self._flusher = threading.Thread(
                    target=self._flush_loop, name="decision-flush", daemon=True
                )
                self._flusher.start()
        self._dirty.set()

    @property
    def flush_lag(self) -> float:
        """Seconds the oldest frame not yet on disk has waited (0 when all are)."""
        since = self._unsynced_since
        return 0.0 if since is None else time.monotonic() - since

    def _flush_loop(self) -> None:
        while True:
            self._dirty.wait()
            self._dirty.clear()
            closing = self._closing
            self._sync_once()
            if closing:
                return

    def _sync_once(self) -> None:
        with self._append:
            seg, upto = self._segment, self._segment.written if self._segment else 0
            retired = list(self._retired)
            since, self._unsynced_since = self._unsynced_since, None
        try:
            for old in retired:
                os.fdatasync(old.fd)
                os.close(old.fd)  # unlocked: the drainer finishes it
                with self._append:
                    self._retired.remove(old)
            if seg is not None and upto > seg.synced:
                os.fdatasync(seg.fd)
                seg.synced = upto
        except OSError as exc:
            self._sync_error = exc  # answers stop until a flush succeeds
            with self._append:
                if since is not None:
                    self._unsynced_since = min(since, self._unsynced_since or since)
            time.sleep(0.05)
            self._dirty.set()  # retry
            return
        self._sync_error = None
        for callback in self.after_flush:
            callback()

    def close(self) -> None:
        """Flush what is queued and release the segment (a drainer takes it from there)."""
        with self._cond:
            self._closing = True
            self._cond.notify_all()
        if self._writer is not None:
            self._writer.join()
        if self._flusher is not None:
            self._dirty.set()
            self._flusher.join(timeout=30)
        self._executor.shutdown(wait=True)
        with self._io, self._append:
            if self._segment is not None:
                os.close(self._segment.fd)
                self._segment = None
