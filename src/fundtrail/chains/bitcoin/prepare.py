"""Per-block CPU work that needs no shared state: parse, check, classify, to columns.

Run inline for small inputs, or in worker processes for big files so that ingest uses
more than one core: the main process then only assigns ids and writes. Either way a
block comes back as :class:`~fundtrail.chains.bitcoin.columns.BlockColumns` (cheap to
send between processes). Errors raised here (bad block at file/offset) travel back to
the main process unchanged.
"""

from __future__ import annotations

import collections
import functools
import hashlib
import multiprocessing
import os
import threading
from collections.abc import Callable, Iterable, Iterator

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


def _prepare(rb: RawBlock, fmt: AddressFormat = MAINNET_FORMAT) -> BlockColumns:
    return prepare(rb.data, rb.where, fmt)


def header_hash(raw: bytes) -> bytes:
    return hashlib.sha256(hashlib.sha256(raw[:80]).digest()).digest()


def prepared(
    blocks: Iterable[RawBlock],
    *,
    workers: int,
    known: Callable[[bytes], bool],
    fmt: AddressFormat = MAINNET_FORMAT,
) -> Iterator[Prepared]:
    """Blocks in file order, prepared. A block ``known`` by header hash is not parsed at
    all and comes back with block None (re-ingesting a file costs one hash per block)."""
    if workers <= 1:
        for rb in blocks:
            if known(header_hash(rb.data)):
                yield rb, None
            else:
                yield rb, prepare(rb.data, rb.where, fmt)
        return
    gate = threading.Semaphore(AHEAD * workers)
    skipped: list[RawBlock] = []  # appended by the pool's feeder thread (append is atomic)
    sent: collections.deque[RawBlock] = collections.deque()  # in order, matched to results
    reported = 0

    def feed() -> Iterator[RawBlock]:
        for rb in blocks:
            if known(header_hash(rb.data)):
                skipped.append(rb)
                continue
            gate.acquire()
            sent.append(rb)
            yield rb

    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(workers) as pool:
        work = functools.partial(_prepare, fmt=fmt)
        for columns in pool.imap(work, feed(), chunksize=1):
            gate.release()
            while reported < len(skipped):
                reported += 1
                yield skipped[reported - 1], None
            yield sent.popleft(), columns
    for rb in skipped[reported:]:
        yield rb, None


def default_workers(total_bytes: int) -> int:
    """Worker processes for an input of this size: none for small inputs (start-up costs)."""
    if total_bytes < PARALLEL_MIN_BYTES:
        return 0
    return max(0, min(4, os.cpu_count() or 1))
