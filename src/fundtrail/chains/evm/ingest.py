"""EVM ingest service: from a JSON-RPC node or ethereum-etl files into the chain store.

Incremental and resumable: every batch of blocks lands in one atomic commit together
with the manifest's ``evm_next`` (the next block to read), so a crash loses at most
the batch in flight and a restart neither skips nor duplicates a block.

Reorgs: only blocks at least ``confirmations`` deep are read; and before a batch is
stored, its first block's parent hash must equal the hash stored for the block
below. If it does not, the node's chain has changed under us: the newest stored
blocks whose hash differs from the node's are rolled back (with their transfers,
txs and the addresses first seen in them) and read again.

Genesis: when ingest starts at block 0 over RPC, each address is looked up once,
when first seen, with ``eth_getBalance(address, 0)``: a non-zero answer is its
genesis allocation, stored as a ``genesis`` transfer in block 0 from the ``genesis``
pseudo-address. Balances then come out equal to the node's own ``eth_getBalance``.
"""

from __future__ import annotations

import contextlib
import itertools
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TypeVar

from fundtrail.chains.evm.fetch import RpcSource
from fundtrail.chains.evm.records import BlockRecord
from fundtrail.chains.evm.rows import AssetBook, RowBuilder
from fundtrail.chains.evm.rpc import RpcClient
from fundtrail.chainstore.addressbook import AddressBook
from fundtrail.chainstore.store import ChainStore, ChainStoreWriter
from fundtrail.errors import InvalidInputError, SourceError
from fundtrail.model.chains import EVM_CHAINS, Chain, get_chain
from fundtrail.settings import get_settings

Progress = Callable[[int, int], None]  # (blocks done, blocks total)
MAX_REORG_DEPTH = 1024
T = TypeVar("T")


@dataclass
class IngestReport:
    chain: str
    source: str
    first: int | None = None
    last: int | None = None
    blocks: int = 0
    txs: int = 0
    transfers: int = 0
    rolled_back: int = 0
    head: int | None = None
    tracer: str | None = None
    seconds: float = 0.0
    node_seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items()}

    def summary(self) -> str:
        if not self.blocks:
            text = f"{self.chain}: nothing new to ingest from {self.source}"
        else:
            text = (
                f"{self.chain}: ingested blocks {self.first}..{self.last} ({self.blocks} blocks, "
                f"{self.txs} txs, {self.transfers} transfers) in {self.seconds:.1f}s"
            )
        if self.rolled_back:
            text += f"; rolled back {self.rolled_back} reorganised blocks"
        return "\n".join([text, *self.notes])


class _Batcher:
    """Shared by both sources: owns the address/asset books and commits batches."""

    def __init__(self, store: ChainStore, writer: ChainStoreWriter, report: IngestReport) -> None:
        self.store = store
        self.writer = writer
        self.report = report
        self.book = AddressBook(store)
        self.assets = AssetBook(store)
        meta = store.meta
        self.next_block: int | None = meta.get("evm_next")
        self.last_hash: str | None = meta.get("evm_last_hash")

    def new_addresses(self, blocks: Iterable[BlockRecord]) -> list[str]:
        found: set[str] = set()
        for b in blocks:
            found |= b.addresses()
        return sorted(a for a in found if self.book.get(a) is None)

    def commit(self, blocks: list[BlockRecord], builder: RowBuilder, meta: dict[str, Any]) -> None:
        last = blocks[-1]
        meta = {**meta, "evm_next": last.number + 1, "evm_last_hash": last.hash}
        self.writer.commit(builder.tables(), meta=meta)
        self.next_block, self.last_hash = last.number + 1, last.hash
        r = self.report
        r.first = blocks[0].number if r.first is None else r.first
        r.last = last.number
        r.blocks += len(blocks)
        r.txs += sum(len(b.txs) for b in blocks)
        r.transfers += builder.transfer_count

    def stored_hashes(self, low: int, high: int) -> dict[int, str]:
        con = self.store.connect()
        try:
            rows = con.execute(
                "SELECT number, hash FROM blocks WHERE number BETWEEN ? AND ?", [low, high]
            ).fetchall()
        finally:
            con.close()
        return {int(n): str(h) for n, h in rows}

    def rollback(self, fork: int) -> None:
        """Remove blocks >= fork and everything they brought, in one atomic commit."""
        con = self.store.connect()
        try:
            row = con.execute(
                "SELECT min(address_id) FROM addresses WHERE first_seen >= ?", [fork]
            ).fetchone()
            dropped = con.execute(
                "SELECT count(*) FROM blocks WHERE number >= ?", [fork]
            ).fetchone()
            prev = con.execute("SELECT hash FROM blocks WHERE number = ?", [fork - 1]).fetchone()
        finally:
            con.close()
        first_gone = int(row[0]) if row and row[0] is not None else self.book.next_id
        w = self.writer
        replace = {
            "blocks": w.filtered("blocks", f"number < {fork}"),
            "txs": w.filtered("txs", f"block < {fork}"),
            "transfers": w.filtered(
                "transfers",
                f"block < {fork} AND from_id < {first_gone} AND to_id < {first_gone}",
            ),
            "addresses": w.filtered("addresses", f"address_id < {first_gone}"),
        }
        last_hash = str(prev[0]) if prev else None
        w.commit(replace=replace, meta={"evm_next": fork, "evm_last_hash": last_hash})
        self.book.forget_from(first_gone)
        self.next_block, self.last_hash = fork, last_hash
        self.report.rolled_back += int(dropped[0]) if dropped else 0


def _open_store(chain: str | Chain, home: Path | None) -> ChainStore:
    c = chain if isinstance(chain, Chain) else get_chain(chain)
    if c.family != "evm":
        raise InvalidInputError(
            f"{c.code} is not an EVM chain; EVM chains: {', '.join(sorted(EVM_CHAINS))}",
            field="chain",
        )
    return ChainStore(c, home)


# ---- RPC -----------------------------------------------------------------------------------
def ingest_rpc(
    url: str,
    *,
    chain: str | Chain = "ETH",
    start: int | None = None,
    stop: int | None = None,
    confirmations: int | None = None,
    home: Path | None = None,
    batch_blocks: int = 50,
    client: RpcClient | None = None,
    on_progress: Progress | None = None,
) -> IngestReport:
    """Ingest blocks ``start..stop`` (default: resume .. head - confirmations) from a node."""
    depth = get_settings().evm_confirmations if confirmations is None else confirmations
    if depth < 0:
        raise InvalidInputError("confirmations must be >= 0", field="confirmations")
    store = _open_store(chain, home)
    report = IngestReport(store.chain.code, url)
    started = time.perf_counter()
    own_client = client is None
    rpc = client or RpcClient(url)
    source = RpcSource(rpc, tracer=store.meta.get("evm_tracer"))
    ahead = _Prefetch(source)
    try:
        with store.writer() as writer:
            b = _Batcher(store, writer, report)
            head = ahead.timed(source.head)
            report.head = head
            first = _first_block(b, start)
            genesis = store.meta.get("evm_genesis", "balances" if first == 0 else "none")
            genesis_time = int(store.meta.get("evm_genesis_time") or 0)
            last = head - depth if stop is None else min(stop, head - depth)
            if stop is not None and stop > head - depth:
                report.notes.append(
                    f"stopped at block {last}: blocks above are under {depth} confirmations deep"
                )
            n = first
            while n <= last:
                numbers = list(range(n, min(n + batch_blocks, last + 1)))
                blocks = ahead.get(numbers)
                if b.last_hash is not None and blocks[0].parent_hash != b.last_hash:
                    ahead.drop()
                    n = _handle_reorg(b, source, blocks[0].number)
                    continue
                _check_links(blocks)
                if numbers[-1] < last:  # the node works on the next batch while we store this one
                    ahead.prepare(
                        list(range(numbers[-1] + 1, min(numbers[-1] + 1 + batch_blocks, last + 1)))
                    )
                genesis_time = blocks[0].time if blocks[0].number == 0 else genesis_time
                _store_rpc_batch(b, source, ahead, blocks, genesis, genesis_time)
                n = numbers[-1] + 1
                if on_progress:
                    on_progress(n - first, last - first + 1)
            report.tracer = source.tracer
            if source.tracer == "none":
                report.notes.append(
                    "the node offers neither debug_traceBlockByNumber nor trace_block: "
                    "internal transfers were not recorded"
                )
    finally:
        ahead.close()
        report.node_seconds = ahead.waited
        if own_client:
            rpc.close()
        report.seconds = time.perf_counter() - started
    return report


def _store_rpc_batch(
    b: _Batcher,
    source: RpcSource,
    ahead: _Prefetch,
    blocks: list[BlockRecord],
    genesis: str,
    genesis_time: int,
) -> None:
    """Token metadata and genesis balances for what is new, then one atomic commit."""
    builder = RowBuilder(b.book, b.assets)
    new = sorted({c for x in blocks for c in x.token_contracts()} - b.assets.known_set())
    for info in ahead.timed(source.token_info, new) if new else []:
        b.assets.add(info)
    fresh = b.new_addresses(blocks) if genesis == "balances" else []
    builder.add_all(blocks)
    if fresh:
        builder.add_genesis(
            ahead.timed(source.genesis_moves, fresh), blocks[0].number, genesis_time
        )
    meta = {"evm_tracer": source.tracer, "evm_genesis": genesis, "evm_source": "rpc",
            "evm_genesis_time": genesis_time}  # fmt: skip
    b.commit(blocks, builder, meta)


class BlockSource(Protocol):
    """What the shared ingest parts need of a node: its blocks and their hashes."""

    def blocks(self, numbers: Sequence[int]) -> list[BlockRecord]: ...

    def hashes(self, numbers: Sequence[int]) -> dict[int, str]: ...


class _Prefetch:
    """Fetches the next batch in the background while the current one is stored.

    ``waited`` is the time the ingest actually stood still waiting for the node.
    """

    def __init__(self, source: BlockSource) -> None:
        self.source = source
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="evm-prefetch")
        self.ahead: tuple[list[int], Future[list[BlockRecord]]] | None = None
        self.waited = 0.0

    def prepare(self, numbers: list[int]) -> None:
        self.ahead = (numbers, self.pool.submit(self.source.blocks, numbers))

    def get(self, numbers: list[int]) -> list[BlockRecord]:
        if self.ahead is not None and self.ahead[0] == numbers:
            future = self.ahead[1]
            self.ahead = None
            return self.timed(future.result)
        self.drop()
        return self.timed(self.source.blocks, numbers)

    def timed(self, fn: Callable[..., T], *args: Any) -> T:
        t0 = time.perf_counter()
        try:
            return fn(*args)
        finally:
            self.waited += time.perf_counter() - t0

    def drop(self) -> None:
        if self.ahead is not None:
            self.ahead[1].cancel()
            with contextlib.suppress(Exception):
                self.ahead[1].result()
            self.ahead = None

    def close(self) -> None:
        self.drop()
        self.pool.shutdown(wait=True)


def _first_block(b: _Batcher, start: int | None) -> int:
    if b.next_block is None:
        return 0 if start is None else start
    if start is not None and start > b.next_block:
        raise InvalidInputError(
            f"the store holds blocks up to {b.next_block - 1}; starting at {start} would leave "
            f"a gap (use --from {b.next_block} or omit --from)",
            field="from",
        )
    return int(b.next_block)


def _check_links(blocks: list[BlockRecord]) -> None:
    for prev, cur in itertools.pairwise(blocks):
        if cur.parent_hash != prev.hash:
            raise SourceError(
                f"block {cur.number}: parent hash {cur.parent_hash} is not block "
                f"{prev.number}'s hash {prev.hash} (the node reorganised mid-read; run again)"
            )


def _handle_reorg(b: _Batcher, source: BlockSource, at: int, *, chunk_size: int = 64) -> int:
    """Find the newest stored block the node still agrees with; roll back above it
    (shared by every account-chain ingest; ``chunk_size`` block hashes are asked at a time)."""
    stored = b.stored_hashes(max(0, at - MAX_REORG_DEPTH), at - 1)
    low = min(stored) if stored else at
    k = at - 1
    while k >= low:
        chunk = list(range(max(low, k - chunk_size + 1), k + 1))
        node = source.hashes(chunk)
        for n in reversed(chunk):
            if n in stored and node.get(n) == stored[n]:
                b.rollback(n + 1)
                return n + 1
        k = chunk[0] - 1
    raise SourceError(
        f"block {at}: the node's chain differs from the stored one for more than "
        f"{MAX_REORG_DEPTH} blocks; refusing to roll back that far"
    )


# ---- files ---------------------------------------------------------------------------------
def _check_continuity(b: _Batcher, blocks: list[BlockRecord], where: str) -> None:
    """Files must continue the stored chain exactly, as a node's blocks must: the next
    number, whose parent is the stored tip, each block the child of the one before.
    Anything else is another chain or a gap, refused before anything is stored."""
    prev_number, prev_hash = (
        (b.next_block - 1, b.last_hash) if b.next_block is not None else (None, None)
    )
    for blk in blocks:
        if prev_number is not None and blk.number != prev_number + 1:
            raise SourceError(
                f"block {blk.number} in {where}: the chain so far ends at block {prev_number}; "
                f"files must continue it without a gap ({blk.number - prev_number - 1} blocks "
                "missing). Nothing was stored from this batch"
            )
        if prev_hash is not None and blk.parent_hash != prev_hash:
            raise SourceError(
                f"block {blk.number} in {where}: its parent hash {blk.parent_hash} is not the "
                f"hash of block {prev_number} ({prev_hash}); these files are from another "
                "chain. Nothing was stored from this batch"
            )
        prev_number, prev_hash = blk.number, blk.hash


def ingest_files(
    folder: Path,
    *,
    chain: str | Chain = "ETH",
    home: Path | None = None,
    batch_blocks: int = 500,
    on_progress: Progress | None = None,
) -> IngestReport:
    """Ingest an ethereum-etl export folder (CSV or JSON lines), resuming where it stopped."""
    from fundtrail.chains.evm.etl_files import EtlExport

    store = _open_store(chain, home)
    report = IngestReport(store.chain.code, str(folder))
    started = time.perf_counter()
    export = EtlExport(Path(folder))
    with store.writer() as writer:
        b = _Batcher(store, writer, report)
        numbers = export.block_numbers()
        if b.next_block is not None:
            numbers = [n for n in numbers if n >= b.next_block]
        total = len(numbers)
        for i in range(0, len(numbers), batch_blocks):
            blocks = export.blocks(numbers[i : i + batch_blocks])
            _check_continuity(b, blocks, str(folder))
            builder = RowBuilder(b.book, b.assets)
            for info in export.token_info(sorted({c for x in blocks for c in x.token_contracts()})):
                if not b.assets.known(info.contract):
                    b.assets.add(info)
            builder.add_all(blocks)
            b.commit(blocks, builder, {"evm_source": "files"})
            if on_progress:
                on_progress(report.blocks, total)
    if not export.paths["traces"]:
        report.notes.append(
            "no traces file: internal transfers, block rewards and genesis allocations "
            "were not recorded"
        )
    report.seconds = time.perf_counter() - started
    return report
