"""The append-only, hash-chained audit log.

Every write and every read of AMBER/RED data calls :func:`record`. Each row keeps
the hash of the row before it and its own hash = SHA-256(previous hash + canonical
JSON of its content), so :func:`verify` finds a row that was changed or deleted.
Writers are serialised while they append (an advisory lock on PostgreSQL, SQLite's
single writer) so the chain never forks.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, Session, mapped_column

from fundtrail.intelstore.base import Base, UTCDateTime, utcnow
from fundtrail.intelstore.models import StoreMeta
from fundtrail.model.identity import Identity

if TYPE_CHECKING:
    from fundtrail.intelstore.db import IntelStore

GENESIS = "0" * 64
HEAD_KEY = "audit_head"  # "id:hash" of the last row: catches deleting the newest rows
_PG_LOCK_KEY = 0x66756E64  # "fund": advisory lock id serialising audit appends


class AuditEntry(Base):
    __tablename__ = "audit_log"

    # ids are assigned by record() as previous + 1 while it holds the append lock
    id: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    actor: Mapped[str] = mapped_column(sa.String(200))  # key id, user or "cli"
    org_id: Mapped[str | None] = mapped_column(sa.String(36), index=True)
    action: Mapped[str] = mapped_column(sa.String(64))
    object_type: Mapped[str] = mapped_column(sa.String(64))
    object_id: Mapped[str] = mapped_column(sa.String(200), default="")
    remote: Mapped[str | None] = mapped_column(sa.String(100))
    details: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    prev_hash: Mapped[str] = mapped_column(sa.String(64))
    hash: Mapped[str] = mapped_column(sa.String(64))


class KeyHolder(Protocol):
    """Anything with a key id and an org id: what older call sites pass (new code passes
    an :class:`Identity`)."""

    @property
    def key_id(self) -> str: ...

    @property
    def org_id(self) -> str: ...


Actor = Identity | KeyHolder  # who a row is recorded for


def canonical(entry: AuditEntry) -> bytes:
    """The content a row's hash covers, in one fixed byte form."""
    body = {
        "id": entry.id,
        "at": entry.at.isoformat(timespec="microseconds"),
        "actor": entry.actor,
        "org_id": entry.org_id,
        "action": entry.action,
        "object_type": entry.object_type,
        "object_id": entry.object_id,
        "remote": entry.remote,
        "details": entry.details,
    }
    return json.dumps(body, sort_keys=True, separators=(",", ":"), default=str).encode()


def chain_hash(prev_hash: str, entry: AuditEntry) -> str:
    return hashlib.sha256(prev_hash.encode() + canonical(entry)).hexdigest()


# built once: record() runs on every audited read
_LAST = sa.select(AuditEntry.id, AuditEntry.hash).order_by(AuditEntry.id.desc()).limit(1)
_MOVE_HEAD = (
    sa.update(StoreMeta)
    .where(StoreMeta.key == HEAD_KEY)
    .values(value=sa.bindparam("head"))
    .execution_options(synchronize_session=False)
)


def record(
    session: Session,
    who: Actor | str | None,
    action: str,
    object_type: str,
    object_id: str | None,
    details: dict[str, Any] | None = None,
    remote: str | None = None,
) -> AuditEntry:
    """Append one audit row in ``session``'s transaction (committed with the change it logs).

    ``who`` is the caller's :class:`Identity` (its actor, org and client address are
    recorded); a plain string names a system job (``"cli"``, ``"demo"``). ``remote``
    overrides the identity's address.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(sa.select(sa.func.pg_advisory_xact_lock(_PG_LOCK_KEY)))
    if who is None or isinstance(who, str):
        who = Identity.system(who or "system")
    if isinstance(who, Identity):
        actor_name, org_id = who.actor, who.org_id or None
        remote = remote or who.remote
    else:  # an older call site's object with a key id and an org id
        actor_name, org_id = f"key:{who.key_id}", who.org_id or None
    last = session.execute(_LAST).first()
    entry = AuditEntry(
        id=(last.id + 1) if last else 1,
        at=utcnow(),
        actor=actor_name,
        org_id=org_id,
        action=action,
        object_type=object_type,
        object_id=object_id or "",
        remote=remote,
        details=json.loads(json.dumps(details or {}, default=str)),
        prev_hash=last.hash if last else GENESIS,
    )
    entry.hash = chain_hash(entry.prev_hash, entry)
    # core statements, not the unit of work: this runs on every audited read
    row = {c.key: getattr(entry, c.key) for c in AuditEntry.__table__.columns}
    session.execute(sa.insert(AuditEntry), [row])
    head = f"{entry.id}:{entry.hash}"
    moved = session.execute(_MOVE_HEAD, {"head": head})
    if moved.rowcount == 0:  # type: ignore[attr-defined]
        session.execute(sa.insert(StoreMeta), [{"key": HEAD_KEY, "value": head}])
    return entry


@dataclass(frozen=True, slots=True)
class VerifyResult:
    rows: int
    problems: list[str]

    @property
    def ok(self) -> bool:
        return not self.problems


def verify(store: IntelStore) -> VerifyResult:
    """Walk the chain from the first row; name every row that was changed or removed."""
    problems: list[str] = []
    prev, expected_id, rows = GENESIS, 1, 0
    with store.read_session() as s:
        for entry in s.execute(sa.select(AuditEntry).order_by(AuditEntry.id)).scalars():
            rows += 1
            if entry.id != expected_id:
                problems.append(f"rows {expected_id}..{entry.id - 1} are missing (deleted)")
            if entry.prev_hash != prev:
                problems.append(
                    f"row {entry.id}: previous-hash link broken (a row before it "
                    "was changed or deleted)"
                )
            if chain_hash(entry.prev_hash, entry) != entry.hash:
                problems.append(f"row {entry.id}: content does not match its hash (changed)")
            prev, expected_id = entry.hash, entry.id + 1
            s.expunge(entry)
        head = s.get(StoreMeta, HEAD_KEY)
        if head is not None and head.value != f"{expected_id - 1}:{prev}":
            problems.append(
                f"the log ends at row {expected_id - 1} but its recorded head is "
                f"row {head.value.split(':')[0]} (newest rows deleted or changed)"
            )
    return VerifyResult(rows=rows, problems=problems)
