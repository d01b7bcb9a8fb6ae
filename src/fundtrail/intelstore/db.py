"""Open the intel store: engine, sessions, and migrations applied on open.

``open_store()`` is the one door: it builds the engine for the configured URL
(SQLite in the workspace by default, PostgreSQL via ``FUNDTRAIL_DATABASE_URL``),
runs ``alembic upgrade head`` and hands back an :class:`IntelStore`.

Sessions: ``store.session()`` is for work that writes (on SQLite it begins
``IMMEDIATE`` so concurrent writers queue instead of failing on a stale
snapshot); ``store.read_session()`` is for pure reads. Both commit on success and
roll back on error.
"""

from __future__ import annotations

import importlib
import logging
import pkgutil
import secrets
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from fundtrail.errors import StorageError
from fundtrail.intelstore import changes
from fundtrail.intelstore.base import metadata

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
_WRITE_OPTION = "fundtrail_write"


def load_models() -> sa.MetaData:
    """Import every model module of this package so ``metadata`` knows every table."""
    import fundtrail.intelstore as pkg

    for info in pkgutil.iter_modules(pkg.__path__):
        if info.name not in {"migrations", "db"}:
            importlib.import_module(f"fundtrail.intelstore.{info.name}")
    return metadata


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    dbapi_conn.isolation_level = None  # we emit BEGIN ourselves (see _sqlite_begin)
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=15000")
    cur.close()


def _sqlite_begin(conn: sa.Connection) -> None:
    write = conn.get_execution_options().get(_WRITE_OPTION, False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


def make_engine(url: str) -> Engine:
    """An engine for ``url`` with the per-database settings the store relies on."""
    try:
        u = sa.make_url(url)
    except sa.exc.ArgumentError as exc:
        raise StorageError(f"invalid database URL {url!r}: {exc}") from exc
    if u.get_backend_name() == "sqlite":
        if u.database and u.database != ":memory:":
            Path(u.database).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(u, connect_args={"check_same_thread": False, "timeout": 15})
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    # no pre-ping (it costs a round trip per checkout, three per request); recycling
    # idle connections covers server-side timeouts
    return sa.create_engine(u, pool_size=10, max_overflow=20, pool_recycle=900)


class IntelStore:
    """The intel store of one deployment: an engine and its two session factories."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._writer = sessionmaker(
            bind=engine.execution_options(**{_WRITE_OPTION: True}), expire_on_commit=False
        )
        self._reader = sessionmaker(bind=engine, expire_on_commit=False)
        # every write session journals indicator/rules changes and signals them
        self.changes = changes.ChangeSignal(changes.signal_path(engine.url))
        changes.install(self._writer, self.changes)
        self._write_lock: AbstractContextManager[Any] = (
            threading.RLock() if engine.dialect.name == "sqlite" else nullcontext()
        )
        self.closed = False
        self._on_close: list[Callable[[], None]] = []

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A transaction that may write: committed on success, rolled back on error.

        On SQLite, writers of this process also queue on a lock: a thread waiting on it
        wakes the moment the writer before it is done, where SQLite's busy handler
        would sleep in steps of up to 100 ms.
        """
        with self._write_lock, self._scope(self._writer) as s:
            yield s

    @contextmanager
    def read_session(self) -> Iterator[Session]:
        """A transaction for reads only (never holds SQLite's write lock)."""
        with self._scope(self._reader) as s:
            yield s

    @contextmanager
    def _scope(self, factory: sessionmaker[Session]) -> Iterator[Session]:
        s = factory()
        try:
            yield s
            s.commit()
        except SQLAlchemyError as exc:
            s.rollback()
            raise StorageError(f"intel store error: {type(exc).__name__}: {exc}") from exc
        except BaseException:
            s.rollback()
            raise
        finally:
            s.close()

    def meta_secret(self, key: str) -> bytes:
        """A random per-store secret kept in ``store_meta`` (created on first use)."""
        from fundtrail.intelstore.models import StoreMeta

        with self.session() as s:
            row = s.get(StoreMeta, key)
            if row is None:
                row = StoreMeta(key=key, value=secrets.token_hex(32))
                s.add(row)
            return bytes.fromhex(row.value)

    def on_close(self, fn: Callable[[], None]) -> None:
        """Run ``fn`` when the store is closed, before its connections go (background
        work over this store stops there instead of polling a database that is gone)."""
        self._on_close.append(fn)

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            callbacks, self._on_close = self._on_close, []
            for fn in reversed(callbacks):
                try:
                    fn()
                except Exception as exc:  # closing goes on
                    logging.getLogger(__name__).warning("on close: %s", exc)
        self.changes.close()
        self.engine.dispose()


def alembic_config(connection: sa.Connection | None = None) -> Any:
    """The Alembic config of the packaged migrations (optionally bound to a connection)."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = connection
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply migrations up to ``revision`` (``alembic upgrade head``)."""
    from alembic import command

    try:
        with engine.execution_options(**{_WRITE_OPTION: True}).begin() as conn:
            command.upgrade(alembic_config(conn), revision)
    except SQLAlchemyError as exc:
        raise StorageError(f"migrating the intel store failed: {exc}") from exc


def open_store(url: str | None = None, *, migrate: bool = True) -> IntelStore:
    """Open (and migrate) the intel store at ``url``, default the configured one."""
    from fundtrail.settings import get_settings

    engine = make_engine(url or get_settings().intel_url)
    load_models()
    if migrate:
        upgrade(engine)
    return IntelStore(engine)


@contextmanager
def session(url: str | None = None) -> Iterator[Session]:
    """One-shot writing session on the configured store (scripts and notebooks)."""
    store = open_store(url)
    try:
        with store.session() as s:
            yield s
    finally:
        store.close()
