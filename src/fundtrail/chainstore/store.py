"""The chain store: Parquet parts under the workspace, an atomic manifest, DuckDB views.

Layout of one chain (``<home>/chains/<chain>/``)::

    manifest.json            the committed state: which part files make each table
    tables/<table>/*.parquet immutable part files
    lock                     held by the one writer

A batch writes new part files first, then swaps ``manifest.json`` with an atomic
rename. A crash before the rename leaves the manifest (and so every reader) where
it was; orphaned part files are swept on the next write. Rollbacks (reorgs) write
filtered copies of the affected parts and swap the manifest the same way.
"""

from __future__ import annotations

import contextlib
import contextvars
import fcntl
import json
import os
import uuid
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from fundtrail.chainstore import duck, snapshots
from fundtrail.chainstore.schema import dictionary_columns, schemas_for
from fundtrail.errors import InvalidInputError, NotFoundError, StorageError
from fundtrail.model.chains import Chain, get_chain
from fundtrail.workspace import chain_path

MANIFEST = "manifest.json"


_SHARED: contextvars.ContextVar[dict[tuple[str, str], duckdb.DuckDBPyConnection] | None] = (
    contextvars.ContextVar("chainstore_shared_reads", default=None)
)


@contextlib.contextmanager
def shared_reads() -> Iterator[None]:
    """Every :meth:`ChainStore.connect` inside shares one connection per store snapshot.

    Why: a page that asks several services about one address opened a connection (and
    bound a view over every table's parts, ~0.1 s) per service. Nested uses share the
    outer one; the connections close when the outermost block ends."""
    if _SHARED.get() is not None:
        yield
        return
    cons: dict[tuple[str, str], duckdb.DuckDBPyConnection] = {}
    token = _SHARED.set(cons)
    try:
        yield
    finally:
        _SHARED.reset(token)
        for c in cons.values():
            c.close()


class ChainStore:
    """One chain's tables. Readers get consistent snapshots; one writer at a time."""

    def __init__(self, chain: str | Chain, home: Path | None = None) -> None:
        self.chain = chain if isinstance(chain, Chain) else get_chain(chain)
        if not self.chain.has_ledger:
            raise InvalidInputError(
                f"fundtrail validates {self.chain.code} addresses but holds no "
                f"{self.chain.name} ledger",
                field="chain",
            )
        self.root = chain_path(self.chain.store, home)
        self.schemas = schemas_for(self.chain.family)
        self._manifest = self._read_manifest()

    # ---- manifest -------------------------------------------------------------------
    def _read_manifest(self) -> dict[str, Any]:
        path = self.root / MANIFEST
        if not path.exists():
            return {"version": 0, "tables": {}, "meta": {}}
        try:
            return dict(json.loads(path.read_text()))
        except (OSError, ValueError) as exc:
            raise StorageError(f"chain store manifest {path} is unreadable: {exc}") from exc

    def refresh(self) -> None:
        self._manifest = self._read_manifest()

    @property
    def version(self) -> int:
        return int(self._manifest["version"])

    @property
    def meta(self) -> dict[str, Any]:
        return dict(self._manifest.get("meta", {}))

    def parts(self, table: str) -> list[Path]:
        return [self.root / "tables" / table / f for f in self._manifest["tables"].get(table, [])]

    def row_count(self, table: str) -> int:
        """Committed rows of ``table``, from the Parquet footers (no data read)."""
        return sum(pq.ParquetFile(p).metadata.num_rows for p in self.parts(table))

    @property
    def index_dir(self) -> Path:
        """Disk-backed id maps (address text -> id, outpoints): caches of the committed
        tables, cut back or caught up to them whenever a writer opens them."""
        return self.root / "index"

    def is_empty(self) -> bool:
        return not any(self._manifest["tables"].values())

    # ---- writing --------------------------------------------------------------------
    @contextlib.contextmanager
    def writer(self) -> Iterator[ChainStoreWriter]:
        """Exclusive write access; commit happens explicitly via ``ChainStoreWriter.commit``."""
        self.root.mkdir(parents=True, exist_ok=True)  # a store's folder exists once written
        lock_path = self.root / "lock"
        with open(lock_path, "w") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise StorageError(
                    f"another fundtrail process is writing to {self.root}; try again when it ends"
                ) from None
            self.refresh()
            w = ChainStoreWriter(self)
            w.sweep_orphans()
            yield w

    def _write_manifest(self, manifest: dict[str, Any]) -> None:
        tmp = self.root / f".{MANIFEST}.{uuid.uuid4().hex}.tmp"
        data = json.dumps(manifest, indent=1, sort_keys=True)
        with open(tmp, "w") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.root / MANIFEST)
        _fsync(self.root)
        self._manifest = manifest

    # ---- reading --------------------------------------------------------------------
    def connect(self, con: duckdb.DuckDBPyConnection | None = None) -> duckdb.DuckDBPyConnection:
        """A DuckDB connection with one view per table over the committed parts.

        In a server's request (:func:`~fundtrail.chainstore.snapshots.reading_from`) and inside
        :func:`shared_reads`, it is a cursor of one connection per store snapshot, whose
        views are built once: closing it closes only the cursor."""
        if con is not None:
            return self._views(con)
        kept = snapshots.kept()
        if kept is not None:  # a server's request: the app's connection of this snapshot
            return kept.cursor(self.snapshot_key(), lambda: self._views(duck.connect()))
        shared = _SHARED.get()
        if shared is not None:
            key = self.snapshot_key()
            if key not in shared:
                shared[key] = self._views(duck.connect())
            return shared[key].cursor()
        return self._views(duck.connect())

    def snapshot_key(self) -> tuple[str, str]:
        """The root and every table's part files: names the committed state exactly (part
        files are immutable and uniquely named; the version number restarts at 1 when a
        workspace is deleted and ingested again)."""
        return str(self.root), json.dumps(self._manifest.get("tables", {}), sort_keys=True)

    def _views(self, con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
        for table, schema in self.schemas.items():
            files = self.parts(table)
            if files:
                paths = ", ".join(f"'{p.as_posix()}'" for p in files)
                con.execute(
                    f"CREATE OR REPLACE VIEW {table} AS SELECT * FROM read_parquet([{paths}])"
                )
            else:
                # a table of the connection's catalog, not a registered Arrow object:
                # cursors (shared_reads) see the catalog but not the registrations
                empty = pa.Table.from_batches([], schema=schema)
                con.register("_empty_arrow", empty)
                con.execute(f"CREATE OR REPLACE TABLE _empty_{table} AS FROM _empty_arrow")
                con.unregister("_empty_arrow")
                con.execute(f"CREATE OR REPLACE VIEW {table} AS SELECT * FROM _empty_{table}")
        return con

    def read_table(self, table: str, columns: list[str] | None = None) -> pa.Table:
        files = self.parts(table)
        schema = self.schemas[table]
        if not files:
            empty = pa.Table.from_batches([], schema=schema)
            return empty.select(columns) if columns else empty
        tables = [pq.read_table(p, columns=columns) for p in files]
        return pa.concat_tables(tables)

    def require_data(self) -> None:
        if self.is_empty():
            raise NotFoundError(
                f"the {self.chain.code} chain store at {self.root} is empty; ingest blocks first"
            )


def _fsync(path: Path) -> None:
    """Flush a file's data, or a folder's entries, to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _make_durable(parts: list[Path]) -> None:
    """Flush to disk the part files a commit is about to name, and the folders that hold
    their names, before the manifest is swapped.

    Why: the manifest itself is fsynced; a part written and renamed without it may still be
    in the page cache when the power goes, and the manifest would then name an empty or
    missing file: committed rows lost. Flushing all parts at the commit, not each as it is
    written, lets the kernel's writeback do most of the work meanwhile."""
    for part in parts:
        _fsync(part)
    for folder in sorted({part.parent for part in parts}):
        _fsync(folder)


class ScratchPart:
    """A part file written piece by piece *before* the commit that lists it.

    Why: a derived table as large as the chain (clusters, their evidence and statistics)
    need not be held whole in memory to be committed. The file lives under
    ``<chain>/scratch/`` (never under ``tables/``, where a concurrent writer would sweep
    it as an orphan); :meth:`ChainStoreWriter.commit` moves it into place. Its name holds
    the writing process's id so that a crashed run's leftovers can be swept."""

    def __init__(self, store: ChainStore, table: str) -> None:
        self.table = table
        self.schema = store.schemas[table]
        folder = store.root / "scratch"
        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / f"{table}-{os.getpid()}-{uuid.uuid4().hex[:12]}.parquet"
        self.rows = 0
        self._writer: pq.ParquetWriter | None = None

    def write(self, data: pa.Table) -> None:
        if not data.num_rows:
            return
        try:
            data = data.select(self.schema.names).cast(self.schema)
        except (KeyError, pa.ArrowInvalid, pa.ArrowTypeError) as exc:
            raise StorageError(
                f"batch for table {self.table!r} does not match its schema: {exc}"
            ) from exc
        if self._writer is None:
            self._writer = pq.ParquetWriter(
                self.path,
                self.schema,
                compression="zstd",
                use_dictionary=dictionary_columns(self.schema),
            )
        self._writer.write_table(data)
        self.rows += data.num_rows

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    def discard(self) -> None:
        self.close()
        self.path.unlink(missing_ok=True)


def sweep_scratch(root: Path) -> None:
    """Delete scratch parts whose writing process is gone (a crashed run's leftovers)."""
    folder = root / "scratch"
    if not folder.exists():
        return
    for f in folder.glob("*.parquet"):
        try:
            pid = int(f.name.rsplit("-", 2)[-2])
            os.kill(pid, 0)
        except (ValueError, IndexError, ProcessLookupError):
            f.unlink(missing_ok=True)
        except PermissionError:
            pass  # alive, another user's


def _rows(data: pa.Table | ScratchPart) -> int:
    return data.rows if isinstance(data, ScratchPart) else data.num_rows


class ChainStoreWriter:
    """Stages part files and swaps them in with one atomic manifest write."""

    def __init__(self, store: ChainStore) -> None:
        self.store = store

    def sweep_orphans(self) -> None:
        sweep_scratch(self.store.root)
        live = {p.name for t in self.store.schemas for p in self.store.parts(t)}
        tables_dir = self.store.root / "tables"
        if not tables_dir.exists():
            return
        for sub in tables_dir.iterdir():
            for f in sub.glob("*.parquet"):
                if f.name not in live:
                    f.unlink(missing_ok=True)

    def _write_part(self, table: str, data: pa.Table | ScratchPart) -> str:
        if isinstance(data, ScratchPart):
            data.close()
            folder = self.store.root / "tables" / table
            folder.mkdir(parents=True, exist_ok=True)
            name = f"part-{self.store.version + 1:08d}-{uuid.uuid4().hex[:12]}.parquet"
            os.replace(data.path, folder / name)
            return name
        schema = self.store.schemas[table]
        try:
            data = data.select(schema.names).cast(schema)
        except (KeyError, pa.ArrowInvalid, pa.ArrowTypeError) as exc:
            raise StorageError(
                f"batch for table {table!r} does not match its schema: {exc}"
            ) from exc
        folder = self.store.root / "tables" / table
        folder.mkdir(parents=True, exist_ok=True)
        name = f"part-{self.store.version + 1:08d}-{uuid.uuid4().hex[:12]}.parquet"
        tmp = folder / f".{name}.tmp"
        pq.write_table(data, tmp, compression="zstd", use_dictionary=dictionary_columns(schema))
        os.replace(tmp, folder / name)
        return name

    def commit(
        self,
        append: Mapping[str, pa.Table | ScratchPart] | None = None,
        *,
        replace: Mapping[str, pa.Table | ScratchPart] | None = None,
        meta: Mapping[str, Any] | None = None,
    ) -> int:
        """Append rows to and/or replace whole tables, atomically; returns the new version.

        A table is given whole (``pa.Table``) or as a :class:`ScratchPart` already written."""
        manifest = json.loads(json.dumps(self.store._manifest))
        tables: dict[str, list[str]] = manifest.setdefault("tables", {})
        written: list[Path] = []

        def part(table: str, data: pa.Table | ScratchPart) -> str:
            name = self._write_part(table, data)
            written.append(self.store.root / "tables" / table / name)
            return name

        for table, data in (append or {}).items():
            if _rows(data):
                tables.setdefault(table, []).append(part(table, data))
            elif isinstance(data, ScratchPart):
                data.discard()
        for table, data in (replace or {}).items():
            tables[table] = [part(table, data)] if _rows(data) else []
            if not _rows(data) and isinstance(data, ScratchPart):
                data.discard()
        if meta:
            manifest.setdefault("meta", {}).update(meta)
        manifest["version"] = int(manifest.get("version", 0)) + 1
        _make_durable(written)
        self.store._write_manifest(manifest)
        return int(manifest["version"])

    def filtered(self, table: str, keep_where: str) -> pa.Table:
        """Rows of ``table`` matching a SQL predicate, for a ``commit(replace=...)``."""
        con = self.store.connect()
        try:
            return con.sql(f"SELECT * FROM {table} WHERE {keep_where}").to_arrow_table()
        finally:
            con.close()

    def compact(self, table: str) -> None:
        """Merge a table's parts into one (fewer files, faster scans)."""
        data = self.store.read_table(table)
        self.commit(replace={table: data})
