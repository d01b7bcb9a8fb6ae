"""Draining the decision log into the intel store, in a process of its own.

Frames that the writers flushed (:mod:`fundtrail.screen.decisionlog`) are copied into
``screen_decisions``, with one audit row per caller per drained batch (holding the
SHA-256 of the frames it covers), and the position reached is recorded under
``store_meta`` key ``screenlog:<segment>`` *in the same transaction*. After a crash the
next drainer resumes exactly there; decision ids are the table's primary key and the
insert skips ids already present, so a frame drained twice is stored once. Two drainers
of one segment are safe as well: a transaction that finds the checkpoint moved stores
nothing.

A live writer's segment is drained up to its last whole frame; a segment nobody holds
(its writer ended, was killed, or retired it) is drained to its end and deleted.

The server runs one drainer process per workspace (``python -m fundtrail.screen.drain``,
started on demand by :class:`DrainKeeper`, exclusive through ``.drain.lock``), so the
inserts never take a serving worker's GIL. It outlives a killed server long enough to
drain what that server answered, then exits when idle. Commands drain inline when
they end.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.orm import Session

from fundtrail.intelstore.audit import record
from fundtrail.intelstore.db import IntelStore
from fundtrail.intelstore.models import Org, StoreMeta
from fundtrail.screen.decisionlog import decisions_folder, read_frames, request_rows

log = logging.getLogger(__name__)

DRAIN_INTERVAL_S = 0.5  # how soon a decision shows in GET /api/v1/screen/decisions
IDLE_EXIT_S = 30.0  # a drainer with nothing to do for this long exits (restarted on demand)
ROWS_PER_TRANSACTION = 20_000
CHECKPOINT_PREFIX = "screenlog:"


def drain_folder(home: Path, store: IntelStore) -> int:
    """Copy every whole frame of every segment into the store; returns rows stored."""
    stored = 0
    for path in sorted(_folder(home).glob("*.log")):
        stored += _drain_segment(store, path)
    return stored


def _folder(home: Path) -> Path:
    """The decision log's folder, not created: a drainer must not bring back a
    workspace that was deleted under it."""
    return Path(home) / "screen" / "decisions"


def pending(home: Path, store: IntelStore) -> int:
    """Bytes of the log not drained yet (whole frames or not)."""
    total = 0
    for path in _folder(home).glob("*.log"):
        try:
            total += max(0, path.stat().st_size - _checkpoint(store, path.stem))
        except FileNotFoundError:
            continue
    return total


def _drain_segment(store: IntelStore, path: Path) -> int:
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return 0  # finished by another drainer meanwhile
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            dead = path.exists()  # nobody writes it any more (and it is still there)
        except BlockingIOError:
            dead = False  # its writer is alive: whole frames only, keep the file
        start = _checkpoint(store, path.stem)
        with os.fdopen(os.dup(fd), "rb") as fh:
            fh.seek(start)
            data = fh.read()
        stored, _end = _store_frames(store, path.stem, data, start)
        if dead:
            path.unlink(missing_ok=True)
            with store.session() as s:
                s.execute(
                    sa.delete(StoreMeta).where(StoreMeta.key == CHECKPOINT_PREFIX + path.stem)
                )
        return stored
    finally:
        os.close(fd)


def _checkpoint(store: IntelStore, segment: str) -> int:
    with store.read_session() as s:
        row = s.get(StoreMeta, CHECKPOINT_PREFIX + segment)
        return int(row.value) if row else 0


_COLUMNS = (
    "id", "org_id", "key_id", "chain", "address", "direction", "amount", "asset", "txid",
    "risk", "score", "reasons", "index_version", "created",
)  # fmt: skip


def _insert_sql(dialect: str) -> str:
    """One driver-level INSERT that skips ids already stored (a frame drained twice).

    The decisions go to the driver's ``executemany`` as plain tuples: the ORM's
    per-row processing cost more than the whole answer did.
    """
    cols = ", ".join(_COLUMNS)
    if dialect == "postgresql":
        values = ", ".join("%s::json" if c == "reasons" else "%s" for c in _COLUMNS)
        return (
            f"INSERT INTO screen_decisions ({cols}) VALUES ({values}) ON CONFLICT (id) DO NOTHING"
        )
    values = ", ".join("?" for _ in _COLUMNS)
    return f"INSERT OR IGNORE INTO screen_decisions ({cols}) VALUES ({values})"


def _driver_row(r: dict[str, Any], dialect: str) -> tuple[Any, ...]:
    created: Any = datetime.fromtimestamp(r["created"], UTC).replace(tzinfo=None)
    if dialect != "postgresql":  # the text form SQLAlchemy's SQLite DateTime stores
        created = created.strftime("%Y-%m-%d %H:%M:%S.%f")
    return (
        r["id"], r["org_id"], r["key_id"], r["chain"], r["address"], r["direction"],
        r["amount"], r["asset"], r["txid"], r["risk"], r["score"],
        orjson.dumps(r["reasons"]).decode(), r["index_version"], created,
    )  # fmt: skip


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
        request = orjson.loads(payload)
        f = _Frame(start + rel_end, payload, request, request_rows(request))
        batch.append(f)
        rows += len(f.rows)
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
    rows: list[dict[str, Any]]


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
        for r in f.rows:
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
            dialect = store.dialect
            s.connection().exec_driver_sql(
                _insert_sql(dialect), [_driver_row(r, dialect) for r in live]
            )
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


class DrainKeeper:
    """Keeps one drainer process running for a workspace while this process logs."""

    CHECK_S = 1.0

    def __init__(self, home: Path, store: IntelStore) -> None:
        self.home = Path(home)
        self.url = store.engine.url.render_as_string(hide_password=False)
        self._lock = decisions_folder(home).parent / ".drain.lock"
        self._child: subprocess.Popen[bytes] | None = None
        self._next = 0.0
        self._guard = threading.Lock()

    def ensure(self) -> None:
        """Called after each flush: start a drainer if none runs (checked once a second)."""
        now = time.monotonic()
        if now < self._next or not self._guard.acquire(blocking=False):
            return
        try:
            self._next = now + self.CHECK_S
            if self._child is not None and self._child.poll() is None:
                return
            if _locked(self._lock):
                return  # another process's drainer runs
            env = {
                **os.environ,
                "FUNDTRAIL_HOME": str(self.home),
                "FUNDTRAIL_DATABASE_URL": self.url,
            }
            self._child = subprocess.Popen(
                [sys.executable, "-m", "fundtrail.screen.drain"],
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                start_new_session=True,  # survives a kill of the server's process group
            )
        finally:
            self._guard.release()


def _locked(path: Path) -> bool:
    with open(path, "a") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(fh, fcntl.LOCK_UN)
    return False


def main() -> None:
    """The drainer process: drain until idle for ``IDLE_EXIT_S``, one per workspace."""
    from fundtrail.intelstore.db import open_store
    from fundtrail.settings import get_settings

    home = get_settings().home
    with open(decisions_folder(home).parent / ".drain.lock", "a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return  # another drainer has it
        store = open_store(migrate=False)
        import gc

        gc.collect()
        gc.freeze()  # full collections walked the start-up heap again and again (CPU the
        # serving workers share): see fundtrail.server.serving.serving_app
        run(home, store)
        store.close()


def run(home: Path, store: IntelStore, *, idle_exit_s: float = IDLE_EXIT_S) -> None:
    """Drain every ``DRAIN_INTERVAL_S`` until nothing moved for ``idle_exit_s``.

    With the store down the decisions wait on disk: the drainer says so once, retries
    quietly, and after ``idle_exit_s`` without progress it exits; the next flush of a
    serving process (or the next server start, or a command's end) starts another.
    It also ends when the workspace is gone.
    """
    folder = _folder(home)
    idle_since, down = time.monotonic(), False
    while time.monotonic() - idle_since < idle_exit_s and folder.is_dir():
        try:
            moved = drain_folder(home, store) or pending(home, store)
        except Exception as exc:
            if not down:
                log.warning("decision drain failed; decisions wait on disk, retrying: %s", exc)
            down = True
        else:
            if down:
                log.warning("decision drain resumed")
            down = False
            if moved:
                idle_since = time.monotonic()
        time.sleep(DRAIN_INTERVAL_S)


if __name__ == "__main__":
    main()
