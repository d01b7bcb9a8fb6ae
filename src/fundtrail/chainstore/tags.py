"""The attribution tag store: who is behind an address, from TagPacks, CSV lists and OFAC.

Parquet under ``<home>/tags/``, one file per imported tag source (a TagPack, a CSV file,
an OFAC list): importing the same source again replaces its tags instead of doubling them.
Lookups by address list run through DuckDB over all files at once.

Addresses are stored in their normalised form (``model.addresses.parse_address``:
checksummed and validated; EVM lowercase), so a lookup with any spelling matches.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from fundtrail.chainstore import duck
from fundtrail.errors import InvalidInputError, StorageError
from fundtrail.model.addresses import parse_address
from fundtrail.model.chains import EVM_CHAINS, evm_chain, get_chain
from fundtrail.workspace import workspace_home

TAG_SCHEMA = pa.schema(
    [
        ("chain", pa.string()),
        ("address", pa.string()),
        ("label", pa.string()),
        ("category", pa.string()),
        ("source", pa.string()),
        ("confidence", pa.int32()),  # 0-100
        ("abuse", pa.string()),
        ("actor", pa.string()),
        ("is_cluster_definer", pa.bool_()),
        ("tagpack", pa.string()),  # the source file / pack the tag came from
        ("lastmod", pa.string()),  # ISO date
    ]
)


@dataclass(frozen=True, slots=True)
class Tag:
    chain: str
    address: str
    label: str
    category: str
    source: str
    confidence: int
    abuse: str | None = None
    actor: str | None = None
    is_cluster_definer: bool = False
    tagpack: str = ""
    lastmod: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def chain_code(text: str) -> str:
    """Canonical chain code (BTC, ETH, ...); unknown names are custom EVM chains."""
    try:
        return get_chain(text).code
    except InvalidInputError:
        return evm_chain(text).code


def normalize_address(chain: str, address: str) -> str:
    """The stored form of ``address`` on ``chain``; raises InvalidInputError if invalid."""
    code = chain_code(chain)
    known = code in EVM_CHAINS or _is_known(code)
    return parse_address(address, code if known else "ETH").value


def _is_known(code: str) -> bool:
    try:
        get_chain(code)
    except InvalidInputError:
        return False
    return True


def tags_table(tags: Iterable[Tag]) -> pa.Table:
    cols: dict[str, list[Any]] = {name: [] for name in TAG_SCHEMA.names}
    for t in tags:
        for name in TAG_SCHEMA.names:
            cols[name].append(getattr(t, name))
    return pa.table(cols, schema=TAG_SCHEMA)


class TagStore:
    """Tags of every chain; one writer at a time, readers see whole files only."""

    def __init__(self, home: Path | None = None) -> None:
        self.root = workspace_home(home) / "tags"
        self.root.mkdir(parents=True, exist_ok=True)

    # ---- writing ------------------------------------------------------------------------
    @contextlib.contextmanager
    def _lock(self) -> Iterator[None]:
        with open(self.root / ".lock", "w") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            yield

    def _file_for(self, tagpack: str) -> Path:
        return self.root / f"{hashlib.sha1(tagpack.encode()).hexdigest()[:20]}.parquet"

    def replace(self, tagpack: str, tags: pa.Table) -> int:
        """Store ``tags`` as the whole content of source ``tagpack`` (deduplicated)."""
        if tags.num_rows:
            tags = _dedupe(tags.cast(TAG_SCHEMA))
        path = self._file_for(tagpack)
        with self._lock():
            if not tags.num_rows:
                path.unlink(missing_ok=True)
                return 0
            tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
            try:
                pq.write_table(tags, tmp, compression="zstd")
                os.replace(tmp, path)
            except OSError as exc:
                tmp.unlink(missing_ok=True)
                raise StorageError(f"cannot write tags to {path}: {exc}") from exc
        return int(tags.num_rows)

    # ---- reading ------------------------------------------------------------------------
    def files(self) -> list[Path]:
        return sorted(self.root.glob("*.parquet"))

    def version(self) -> str:
        """Changes whenever a tag source is imported, replaced or removed (cache key).

        Every write replaces a whole file with ``os.replace``, so name, size and
        modification time (ns) of the files identify the store's content.
        """
        parts = []
        for p in self.files():
            try:
                st = p.stat()
            except FileNotFoundError:
                continue  # replaced while listing: the next call sees the new file
            parts.append(f"{p.name}:{st.st_size}:{st.st_mtime_ns}")
        return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]

    def connect(self) -> duckdb.DuckDBPyConnection:
        """A DuckDB connection with a ``tags`` view over every file."""
        con = duck.connect()
        files = self.files()
        if files:
            paths = ", ".join(f"'{p.as_posix()}'" for p in files)
            con.execute(f"CREATE VIEW tags AS SELECT * FROM read_parquet([{paths}])")
        else:
            con.register("tags", pa.Table.from_batches([], schema=TAG_SCHEMA))
        return con

    def table(self, chain: str | None = None) -> pa.Table:
        """Every tag (of one chain)."""
        con = self.connect()
        try:
            if chain is None:
                return con.sql("SELECT * FROM tags").to_arrow_table()
            return con.sql(
                "SELECT * FROM tags WHERE chain = $c", params={"c": chain_code(chain)}
            ).to_arrow_table()
        finally:
            con.close()

    def lookup(self, chain: str, addresses: Iterable[str]) -> list[Tag]:
        """Tags of the given addresses (any spelling; invalid ones simply match nothing)."""
        code = chain_code(chain)
        wanted = []
        for a in addresses:
            try:
                wanted.append(normalize_address(code, a))
            except InvalidInputError:
                continue
        if not wanted:
            return []
        con = self.connect()
        try:
            con.register("wanted", pa.table({"address": pa.array(sorted(set(wanted)))}))
            t = con.sql(
                "SELECT t.* FROM tags t SEMI JOIN wanted w ON w.address = t.address "
                "WHERE t.chain = $c ORDER BY t.address, t.confidence DESC, t.label",
                params={"c": code},
            ).to_arrow_table()
        finally:
            con.close()
        return [Tag(**row) for row in t.to_pylist()]

    def lookup_stored(self, chain: str, addresses: pa.Array, limit: int = 10_000) -> list[Tag]:
        """Tags of addresses already in stored (normalised) form, e.g. a cluster's members
        read from the chain store: no per-address parsing, one DuckDB join."""
        con = self.connect()
        try:
            con.register("wanted", pa.table({"address": addresses}))
            t = con.sql(
                "SELECT t.* FROM tags t SEMI JOIN wanted w ON w.address = t.address "
                "WHERE t.chain = $c ORDER BY t.confidence DESC, t.address, t.label LIMIT $n",
                params={"c": chain_code(chain), "n": int(limit)},
            ).to_arrow_table()
        finally:
            con.close()
        return [Tag(**row) for row in t.to_pylist()]

    def search(self, text: str, limit: int = 1000) -> pa.Table:
        """Tags whose label or actor contains ``text`` (case-insensitive)."""
        con = self.connect()
        try:
            return con.sql(
                "SELECT * FROM tags WHERE label ILIKE $q OR actor ILIKE $q "
                "ORDER BY confidence DESC LIMIT $n",
                params={"q": f"%{text}%", "n": int(limit)},
            ).to_arrow_table()
        finally:
            con.close()

    def count(self) -> int:
        con = self.connect()
        try:
            return int(con.sql("SELECT count(*) FROM tags").fetchall()[0][0])
        finally:
            con.close()


def _dedupe(t: pa.Table) -> pa.Table:
    con = duck.connect()
    try:
        con.register("t", t)
        return (
            con.sql(
                "SELECT * FROM t QUALIFY row_number() OVER "
                "(PARTITION BY chain, address, label, source ORDER BY confidence DESC) = 1 "
                "ORDER BY chain, address"
            )
            .to_arrow_table()
            .cast(TAG_SCHEMA)
        )
    finally:
        con.close()
