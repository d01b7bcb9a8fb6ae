"""Per-block CPU work that needs no shared state: parse, check, classify, to columns.

Run inline for small inputs, or in threads ahead of the batch work for big files so that
ingest uses more than one core (the compiled loops release the GIL). Either way a block
comes back as :class:`~fundtrail.chains.bitcoin.columns.BlockColumns`, and errors raised
here (bad block at file/offset) reach the caller unchanged, in file order.
"""

from __future__ import annotations

import collections
import hashlib
import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor

from fundtrail.chains.bitcoin.blkfile import RawBlock
from fundtrail.chains.bitcoin.columns import BlockColumns, block_columns
from fundtrail.chains.bitcoin.parse import Block, check_pow, parse_block
from fundtrail.chains.bitcoin.scan import fast_columns
from fundtrail.chains.bitcoin.script import MAINNET_FORMAT, AddressFormat
from fundtrail.errors import SourceError

Prepared = tuple[RawBlock, BlockColumns | None]  # None: a block already known
PARALLEL_MIN_BYTES = 16 * 1024 * 1024
AHEAD = 8  # blocks in flight per worker: bounds memory however fast the file is read


def checked_block(raw: bytes, where: str) -> Block:
    """Parse ``raw`` and check it is not garbage: merkle root, and PoW against its own bits."""
    block = parse_block(raw, where=where)
    h = block.header
    if not check_pow(h):
        raise SourceError(
            f"{where}: block {h.block_hash} does not meet the target of its own bits "
            f"{h.bits:08x} (corrupt header?)"
        )
    if block.merkle_root() != h.merkle_root:
        raise SourceError(
            f"{where}: block {h.block_hash} merkle root does not match its transactions"
        )
    return block


def prepare(raw: bytes, where: str, fmt: AddressFormat = MAINNET_FORMAT) -> BlockColumns:
    """A checked block's columns, its output scripts classified: by the compiled scan
    (:mod:`.scan`), or by the exact parser when the scan declines (it then raises the
    error that names the offset, or accepts what the scan was too strict for)."""
    cols, failed = fast_columns(raw, where, fmt)
    if failed is not None:
        raise SourceError(failed)
    if cols is not None:
        return cols
    return block_columns(checked_block(raw, where), fmt)


def header_hash(raw: bytes) -> bytes:
    return hashlib.sha256(hashlib.sha256(raw[:80]).digest()).digest()


def prepared(
    blocks: Iterable[RawBlock],
    *,
    workers: int,
    known: Callable[[bytes], bool],
    fmt: AddressFormat = MAINNET_FORMAT,
    ahead_bytes: int = 0,
) -> Iterator[Prepared]:
    """Blocks in file order, prepared. A block ``known`` by header hash is not parsed at
    all and comes back with block None (re-ingesting a file costs one hash per block).

    ``workers`` > 1 prepares blocks ahead of the caller in that many threads: the scan,
    the hashing and the address encoding are compiled loops that release the GIL, so
    they run beside the caller's own work (id assignment, Parquet writes) without the
    start-up and pickling cost that worker processes paid. Order is kept: results are
    yielded in input order, whatever finishes first. Up to ``ahead_bytes`` of blocks (at
    least ``AHEAD`` per thread) are in flight: the caller passes its batch size, so that
    the threads keep parsing the next batch while it assigns the ids of the last one
    (with a few blocks of look-ahead they sat idle through that whole step)."""
    if workers <= 1:
        for rb in blocks:
            if known(header_hash(rb.data)):
                yield rb, None
            else:
                yield rb, prepare(rb.data, rb.where, fmt)
        return
    ahead: collections.deque[tuple[RawBlock, Future[BlockColumns] | None]] = collections.deque()
    in_flight = 0  # bytes of the blocks in ``ahead``

    def full() -> bool:
        return len(ahead) > AHEAD * workers and in_flight > ahead_bytes

    with ThreadPoolExecutor(workers, thread_name_prefix="btc-prepare") as pool:
        try:
            for rb in blocks:
                if known(header_hash(rb.data)):
                    ahead.append((rb, None))
                else:
                    ahead.append((rb, pool.submit(prepare, rb.data, rb.where, fmt)))
                in_flight += len(rb.data)
                while ahead and (full() or ahead[0][1] is None):
                    in_flight -= len(ahead[0][0].data)
                    yield _done(ahead.popleft())
            while ahead:
                yield _done(ahead.popleft())
        finally:  # an error (a bad block, the caller stopping): drop what is still queued
            for _, fut in ahead:
                if fut is not None:
                    fut.cancel()


def _done(item: tuple[RawBlock, Future[BlockColumns] | None]) -> Prepared:
    rb, fut = item
    return rb, None if fut is None else fut.result()


def default_workers(total_bytes: int) -> int:
    """Parser threads for an input of this size: none for small inputs (one or two batches
    gain nothing from a pipeline), else one per core this process may run on, up to 4
    (one core: 0, all inline)."""
    if total_bytes < PARALLEL_MIN_BYTES:
        return 0
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    n = min(4, cores or 1)
    return n if n > 1 else 0
