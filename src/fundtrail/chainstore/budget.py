"""The memory budget (``FUNDTRAIL_MEMORY_MB``) and the building blocks that respect it.

Why one place: ingest, clustering, tracing, campaign linking and the screening index
build all hold data proportional to the chain unless they size their caches and chunks
from a common budget. Each part asks for a *share* of the budget for one structure and
gets a number of rows or bytes back; chunked readers hand a table over in pieces of
that size instead of ``read_table``-ing it whole.

    >>> rows = chunk_rows(bytes_per_row=24, share=0.25)   # e.g. 22M rows at 2048 MiB
    >>> for batch in iter_batches(store, "outputs", ["tx_id", "value"], share=0.25):
    ...     ...

Memory that is *file-backed* (memory-mapped index files) is released with
:func:`release` after each chunk of work, so that it stays in the OS page cache rather
than in the process's resident set.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import mmap
import os
import resource
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from fundtrail.settings import get_settings

if TYPE_CHECKING:
    from fundtrail.chainstore.store import ChainStore

MIB = 1024 * 1024
_LIBC_NAME = ctypes.util.find_library("c")
# glibc only: returns freed heap pages (musl has no malloc_trim)
_MALLOC_TRIM = getattr(ctypes.CDLL(_LIBC_NAME), "malloc_trim", None) if _LIBC_NAME else None
PAGE = mmap.PAGESIZE
# what one random read of a mapped file leaves resident: Linux maps the cached pages
# around a read fault too (fault_around_bytes, 64 KiB; madvise(MADV_RANDOM) does not stop
# it), measured: a window of lookups held 16 pages per stored value it compared
FAULT_AROUND = 16 * PAGE
WINDOW_SHARE = 0.125  # of the budget: the mapped pages one window of random accesses may touch


def memory_budget() -> int:
    """The whole budget in bytes (``FUNDTRAIL_MEMORY_MB``, default 2048)."""
    return int(get_settings().memory_mb) * MIB


def budget_bytes(share: float) -> int:
    """``share`` (0 < share <= 1) of the budget, in bytes; at least 1 MiB."""
    if not 0 < share <= 1:
        raise ValueError(f"a budget share is in (0, 1], not {share}")
    return max(MIB, int(memory_budget() * share))


def chunk_rows(bytes_per_row: int, share: float) -> int:
    """How many rows of ``bytes_per_row`` fit in ``share`` of the budget (at least 1024)."""
    return max(1024, budget_bytes(share) // max(1, bytes_per_row))


def ranges(n: int, bytes_per_row: int, share: float) -> list[tuple[int, int]]:
    """``[lo, hi)`` ranges covering rows ``0..n-1``, each of :func:`chunk_rows` rows: a
    pass over whole-chain (memory-mapped) arrays holds one range's pages and temporaries."""
    step = chunk_rows(bytes_per_row, share)
    return [(lo, min(lo + step, n)) for lo in range(0, n, step)]


def iter_batches(
    store: ChainStore,
    table: str,
    columns: list[str],
    *,
    share: float = 0.25,
    bytes_per_row: int | None = None,
) -> Iterator[pa.RecordBatch]:
    """A committed table in record batches of bounded size, part by part, in stored order.

    ``bytes_per_row`` overrides the width read from the schema: what a row costs its
    reader (a batch turned into Python objects costs several times its Arrow bytes)."""
    schema = store.schemas[table]
    width = bytes_per_row or sum(_width(schema.field(c).type) for c in columns)
    rows = chunk_rows(width, share)
    for path in store.parts(table):
        yield from pq.ParquetFile(path).iter_batches(batch_size=rows, columns=columns)


def duckdb_limits(
    con: duckdb.DuckDBPyConnection, *, share: float = 0.5, spill: Path | None = None
) -> duckdb.DuckDBPyConnection:
    """Cap a DuckDB connection at ``share`` of the budget, spilling to ``spill``.

    Queries on such a connection must ORDER BY what they need ordered.

    Why: DuckDB's default limit is 80% of the machine's RAM, so one group-by over a whole
    chain (cluster statistics, the change heuristic) took gigabytes on a shared machine.
    Under a limit its aggregates, joins and sorts spill to disk instead; fewer threads
    also mean fewer per-thread hash tables."""
    mb = max(64, budget_bytes(share) // MIB)
    con.execute(f"SET memory_limit = '{mb}MB'")
    threads = max(1, min(os.cpu_count() or 1, mb // 768))
    con.execute(f"SET threads = {threads}")
    # order comes from ORDER BY; keeping scan order as well held whole results in memory
    # (a 1 GB limit ran out on the cluster statistics of 10M txs without this)
    con.execute("SET preserve_insertion_order = false")
    if spill is not None:
        spill.mkdir(parents=True, exist_ok=True)
        con.execute(f"SET temp_directory = '{spill.as_posix()}'")
    return con


class RangeReader:
    """Rows of a committed table whose ``key`` lies in ``[lo, hi)``, reading only the row
    groups whose footer statistics overlap: a tx range of the chain in bounded memory.

    Rows come in stored order (parts in manifest order); a row group without statistics
    is always read and filtered."""

    def __init__(self, store: ChainStore, table: str, columns: list[str], key: str = "tx_id"):
        self.columns = list(dict.fromkeys([key, *columns]))
        self.key = key
        self.schema = pa.schema([store.schemas[table].field(c) for c in self.columns])
        self.groups: list[tuple[pq.ParquetFile, int, int | None, int | None]] = []
        for path in store.parts(table):
            pf = pq.ParquetFile(path)
            idx = pf.schema_arrow.get_field_index(key)
            for g in range(pf.metadata.num_row_groups):
                st = pf.metadata.row_group(g).column(idx).statistics
                ok = st is not None and st.has_min_max
                self.groups.append((pf, g, st.min if ok else None, st.max if ok else None))

    def read(self, lo: int, hi: int) -> pa.Table:
        pieces = []
        for pf, g, gmin, gmax in self.groups:
            if gmin is not None and gmax is not None and (gmax < lo or gmin >= hi):
                continue
            t = pf.read_row_group(g, columns=self.columns)
            k = t.column(self.key).to_numpy()
            mask = (k >= lo) & (k < hi)
            if not mask.all():
                t = t.filter(pa.array(mask))
            if t.num_rows:
                pieces.append(t)
        if not pieces:
            return pa.Table.from_batches([], schema=self.schema)
        return pa.concat_tables(pieces).combine_chunks()


def _width(t: pa.DataType) -> int:
    try:
        return max(1, t.bit_width // 8)
    except ValueError:  # variable width (strings): a typical Bitcoin address or txid
        return 64


def release(*arrays: np.ndarray) -> None:
    """Drop the pages of memory-mapped arrays from this process (they stay in the page
    cache, dirty ones are written back): keeps the resident set bounded while an index
    many times the budget is read."""
    for a in arrays:
        base = getattr(a, "_mmap", None)
        if isinstance(base, mmap.mmap):
            base.madvise(mmap.MADV_DONTNEED)


def give_back() -> None:
    """Return the memory a finished phase freed to the OS before the next one starts.

    Why: Arrow's allocator (mimalloc) and glibc's heap keep freed pages for reuse, and
    the next phase often allocates elsewhere (DuckDB has its own allocator, numba's
    arrays go through numpy): measured on a 15M-tx chain, clustering still held 440 MB
    of its tx ranges' freed buffers when the statistics' joins took DuckDB's whole limit
    beside them. Costs a few milliseconds; call it between phases, not in loops."""
    gc.collect()
    pa.default_memory_pool().release_unused()
    if _MALLOC_TRIM is not None:
        _MALLOC_TRIM(0)


def touch_windows(n: int, bytes_per_row: int, mapped_bytes: int) -> Iterator[tuple[int, int]]:
    """``[lo, hi)`` windows over ``n`` rows of work whose each row touches about
    ``bytes_per_row`` of memory-mapped files totalling ``mapped_bytes``: the caller
    :func:`release`-s the maps after each window.

    Why: a batch of a million random lookups touches a page per key across a table of
    gigabytes; without windows the whole batch's pages are resident at once, so peak
    memory grew with the chain. One window touches at most ``WINDOW_SHARE`` of the
    budget; maps that fit in it whole take one window (nothing to gain from releasing)."""
    cap = budget_bytes(WINDOW_SHARE)
    step = n if mapped_bytes <= cap else max(64, cap // max(1, bytes_per_row))
    for lo in range(0, n, max(1, step)):
        yield lo, min(n, lo + step)


def peak_rss_mb() -> float:
    """Peak resident set of this process so far, in MiB (Linux ``ru_maxrss`` is in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
