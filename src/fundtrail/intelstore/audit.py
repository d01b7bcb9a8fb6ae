"""The append-only, keyed hash chain of the audit log.

Every write and every read of AMBER/RED data calls :func:`record`. Each row keeps
the hash of the row before it and its own hash = HMAC-SHA256(audit key, previous
hash + canonical JSON of its content). The audit key is derived from the workspace's
master key (:mod:`fundtrail.secretkey`: ``FUNDTRAIL_SECRET_KEY`` or the key file),
which is never in the database: someone holding only the database can neither edit a
row and recompute the later hashes nor move the (equally keyed) head marker back after
cutting the newest rows. Against a restored old copy of the database, signed
checkpoints (:func:`checkpoint`, Ed25519 with a key derived the same way) held outside
it (a file, a partner) pin rows that must still be there. Rows written before the
chain was keyed (SHA-256) are verified as such up to a keyed marker.
Writers are serialised while they append (an advisory lock on PostgreSQL, SQLite's
single writer) so the chain never forks.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, Session, mapped_column

from fundtrail.intelstore.base import Base, UTCDateTime, utcnow
from fundtrail.intelstore.models import StoreMeta
from fundtrail.model.identity import Identity

if TYPE_CHECKING:
    from fundtrail.intelstore.db import IntelStore

GENESIS = "0" * 64
HEAD_KEY = "audit_head"  # "id:hash:mac" of the last row: catches deleting the newest rows
KEYED_KEY = "audit_keyed_from"  # "id:mac": the first row of the keyed chain
CHECKPOINTS = "audit-checkpoints.jsonl"  # in the workspace, outside the database
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


def chain_hash(prev_hash: str, entry: AuditEntry, key: bytes | None = None) -> str:
    """The row's hash: keyed (HMAC-SHA256) with ``key``; plain SHA-256 for legacy rows."""
    data = prev_hash.encode() + canonical(entry)
    if key is None:
        return hashlib.sha256(data).hexdigest()
    return hmac.new(key, data, hashlib.sha256).hexdigest()


def _mac(key: bytes, label: str, value: str) -> str:
    return hmac.new(key, f"{label}:{value}".encode(), hashlib.sha256).hexdigest()


def _engine_of(bind: Any) -> sa.Engine:
    return getattr(bind, "engine", bind)


@lru_cache(maxsize=32)
def _key_for(url: str, secret: str | None, home: str | None, purpose: bytes) -> bytes:
    from fundtrail.secretkey import derive, derived_key

    if secret:
        return derived_key(purpose)
    if home is None:  # an in-memory SQLite database: it dies with this process
        return derive(_PROCESS_SECRET, purpose)
    return derived_key(purpose, Path(home))


_PROCESS_SECRET = os.urandom(32)


def _key_home(engine: sa.Engine) -> str | None:
    """Where the key file is: beside a SQLite database file (its workspace), else the
    workspace of the settings (PostgreSQL)."""
    from fundtrail.settings import get_settings

    url = engine.url
    if url.get_backend_name() == "sqlite":
        db = url.database
        if not db or db == ":memory:" or db.startswith("file::memory:"):
            return None
        return str(Path(db).resolve().parent)
    return str(get_settings().home.resolve())


def audit_key(bind: Any, purpose: bytes = b"audit-chain") -> bytes:
    """The audit chain's key for the store behind ``bind`` (an engine, connection or
    session's bind); never stored in the database."""
    from fundtrail.settings import get_settings

    engine = _engine_of(bind)
    return _key_for(str(engine.url), get_settings().secret_key, _key_home(engine), purpose)


_KEYED_SEEN: set[str] = set()  # engines whose keyed marker is known to exist


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
    bind = session.get_bind()
    key = audit_key(bind)
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
    entry.hash = chain_hash(entry.prev_hash, entry, key)
    # core statements, not the unit of work: this runs on every audited read
    row = {c.key: getattr(entry, c.key) for c in AuditEntry.__table__.columns}
    session.execute(sa.insert(AuditEntry), [row])
    _mark_keyed(session, bind, key, entry.id)
    head = f"{entry.id}:{entry.hash}:{_mac(key, 'head', f'{entry.id}:{entry.hash}')}"
    moved = session.execute(_MOVE_HEAD, {"head": head})
    if moved.rowcount == 0:  # type: ignore[attr-defined]
        session.execute(sa.insert(StoreMeta), [{"key": HEAD_KEY, "value": head}])
    return entry


def _mark_keyed(session: Session, bind: Any, key: bytes, first_id: int) -> None:
    """Record (once) the first row of the keyed chain; rows before it are legacy SHA-256."""
    name = str(_engine_of(bind).url)
    if name in _KEYED_SEEN:
        return
    if session.get(StoreMeta, KEYED_KEY) is None:
        value = f"{first_id}:{_mac(key, 'keyed', str(first_id))}"
        session.execute(sa.insert(StoreMeta), [{"key": KEYED_KEY, "value": value}])
    else:
        _KEYED_SEEN.add(name)


def _keyed_from(s: Session, key: bytes, problems: list[str]) -> int:
    """The first keyed row (1 when the marker is missing: every row must be keyed)."""
    row = s.get(StoreMeta, KEYED_KEY)
    if row is None:
        return 1
    first, _, mac = row.value.partition(":")
    if not first.isdigit() or not hmac.compare_digest(mac, _mac(key, "keyed", first)):
        problems.append("the keyed-chain marker was forged or changed")
        return 1
    return int(first)


@dataclass(frozen=True, slots=True)
class VerifyResult:
    rows: int
    problems: list[str]

    @property
    def ok(self) -> bool:
        return not self.problems


def verify(store: IntelStore, checkpoints: list[Path] | None = None) -> VerifyResult:
    """Walk the chain from the first row; name every row that was changed or removed,
    a head marker moved or missing, and every checkpoint the log no longer matches
    (``checkpoints``: files of signed checkpoints; the workspace's own file is always read
    when it exists)."""
    problems: list[str] = []
    key = audit_key(store.engine)
    prev, expected_id, rows = GENESIS, 1, 0
    hashes: dict[int, str] = {}
    pins = _load_checkpoints(store, checkpoints, problems)
    pinned = {p[0] for p in pins}
    with store.read_session() as s:
        keyed_from = _keyed_from(s, key, problems)
        for entry in s.execute(sa.select(AuditEntry).order_by(AuditEntry.id)).scalars():
            rows += 1
            if entry.id != expected_id:
                problems.append(f"rows {expected_id}..{entry.id - 1} are missing (deleted)")
            if entry.prev_hash != prev:
                problems.append(
                    f"row {entry.id}: previous-hash link broken (a row before it "
                    "was changed or deleted)"
                )
            row_key = key if entry.id >= keyed_from else None
            if not hmac.compare_digest(chain_hash(entry.prev_hash, entry, row_key), entry.hash):
                problems.append(f"row {entry.id}: content does not match its hash (changed)")
            if entry.id in pinned:
                hashes[entry.id] = entry.hash
            prev, expected_id = entry.hash, entry.id + 1
            s.expunge(entry)
        last = expected_id - 1
        head = s.get(StoreMeta, HEAD_KEY)
        if head is None:
            if rows:
                problems.append(
                    f"the head marker is missing (the log ends at row {last}; its newest "
                    "rows may have been deleted)"
                )
        else:
            hid, hhash, hmac_ = [*head.value.split(":"), "", "", ""][:3]
            if last >= keyed_from and not hmac.compare_digest(
                hmac_, _mac(key, "head", f"{hid}:{hhash}")
            ):
                problems.append("the head marker was forged or changed")
            elif head.value.split(":")[:2] != [str(last), prev]:
                problems.append(
                    f"the log ends at row {last} but its recorded head is row {hid} "
                    "(newest rows deleted or changed)"
                )
    for cid, chash, where in pins:
        if cid not in hashes:
            problems.append(
                f"row {cid}, pinned by the checkpoint {where}, is gone (the log was cut "
                "or replaced)"
            )
        elif not hmac.compare_digest(hashes[cid], chash):
            problems.append(
                f"row {cid} differs from the checkpoint {where} (the log was rewritten)"
            )
    return VerifyResult(rows=rows, problems=problems)


# ---- signed checkpoints -------------------------------------------------------------


def _signing_key(store: IntelStore) -> Any:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    return Ed25519PrivateKey.from_private_bytes(audit_key(store.engine, b"audit-checkpoint"))


def public_key(store: IntelStore) -> str:
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    raw = _signing_key(store).public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return raw.hex()


def _signed_part(cp: dict[str, Any]) -> bytes:
    body = {k: cp[k] for k in ("v", "id", "hash", "rows", "at", "key")}
    return json.dumps(body, sort_keys=True, separators=(",", ":")).encode()


def checkpoint(store: IntelStore, out: Path | None = None) -> dict[str, Any]:
    """Sign the newest row (id, hash, row count): a line a partner or a file outside the
    database keeps. Appended to ``out`` (default: the workspace's checkpoint file)."""
    with store.read_session() as s:
        last = s.execute(_LAST).first()
        rows = s.scalar(sa.select(sa.func.count()).select_from(AuditEntry)) or 0
    if last is None:
        from fundtrail.errors import InvalidInputError

        raise InvalidInputError("the audit log is empty: nothing to checkpoint")
    cp: dict[str, Any] = {
        "v": 1, "id": int(last.id), "hash": last.hash, "rows": int(rows),
        "at": utcnow().isoformat(timespec="seconds"), "key": public_key(store),
    }  # fmt: skip
    cp["sig"] = _signing_key(store).sign(_signed_part(cp)).hex()
    path = out or checkpoint_file(store)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(cp, sort_keys=True) + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    return cp


def checkpoint_file(store: IntelStore) -> Path:
    home = _key_home(store.engine)
    from fundtrail.settings import get_settings

    return Path(home or get_settings().home) / CHECKPOINTS


def check_signature(cp: dict[str, Any], expected_key: str | None = None) -> str | None:
    """None if ``cp`` is a well-signed checkpoint (by ``expected_key`` when given), else why not."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    try:
        if expected_key is not None and cp["key"] != expected_key:
            return "signed by another key"
        pub = Ed25519PublicKey.from_public_bytes(bytes.fromhex(cp["key"]))
        pub.verify(bytes.fromhex(cp["sig"]), _signed_part(cp))
    except InvalidSignature:
        return "bad signature"
    except (KeyError, TypeError, ValueError):
        return "not a checkpoint"
    return None


def _load_checkpoints(
    store: IntelStore, files: list[Path] | None, problems: list[str]
) -> list[tuple[int, str, str]]:
    """[(row id, hash, where)] from every well-signed checkpoint; bad ones are problems."""
    paths = list(files or [])
    own = checkpoint_file(store)
    if own.is_file() and own not in paths:
        paths.append(own)
    mine = public_key(store) if paths else None
    pins: list[tuple[int, str, str]] = []
    for path in paths:
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            problems.append(f"cannot read checkpoints {path}: {exc}")
            continue
        for n, line in enumerate(lines, 1):
            if not line.strip():
                continue
            where = f"{path.name}:{n}"
            try:
                cp = json.loads(line)
            except ValueError:
                problems.append(f"checkpoint {where}: not JSON")
                continue
            why = check_signature(cp, mine) if isinstance(cp, dict) else "not a checkpoint"
            if why:
                problems.append(f"checkpoint {where}: {why}")
                continue
            pins.append((int(cp["id"]), str(cp["hash"]), f"{where} of {cp['at']}"))
    return pins
