"""The Bitcoin ingest service: block files or a Bitcoin Core node into the BTC chain store.

Every block is checked before anything is stored (it parses, its merkle root matches,
its hash meets the target of its own ``bits``), so a bad file raises a
:class:`~fundtrail.errors.SourceError` naming the file/offset or block and leaves the
store as it was after the last committed batch. Blocks are committed in batches, each
one atomic. The main chain is the one with most work; blocks that do not extend it are
held (see :mod:`fundtrail.chains.bitcoin.chain`) and persisted in ``pool/`` so that a
later run can connect them. A switch to a better branch rolls the store back to the
fork point first, leaving no trace of the old branch.

The store records its network (mainnet unless ``--network`` said otherwise at its first
ingest); blocks of another network, from files or a node, are refused before anything
is stored.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from fundtrail.chains.bitcoin.batch import BatchBuilder, BatchResult
from fundtrail.chains.bitcoin.blkfile import RawBlock, ReadStats, expand_paths, read_paths
from fundtrail.chains.bitcoin.chain import ChainIndex, Pending, Switch
from fundtrail.chains.bitcoin.columns import BlockColumns
from fundtrail.chains.bitcoin.genesis import genesis_raw
from fundtrail.chains.bitcoin.network import MAINNET, NAMES, Network, by_genesis
from fundtrail.chains.bitcoin.network import network as get_network
from fundtrail.chains.bitcoin.pool import BlockPool
from fundtrail.chains.bitcoin.prepare import default_workers, prepare, prepared
from fundtrail.chainstore import AddressBook, ChainStore, ChainStoreWriter
from fundtrail.console import progress
from fundtrail.errors import SourceError, StorageError

if TYPE_CHECKING:
    from fundtrail.chains.bitcoin.rpc import BitcoinRpc

BATCH_BYTES = 64 * 1024 * 1024  # raw block bytes per atomic commit
REORG_WINDOW = 50  # recent main-chain blocks kept raw, so a later run can switch back


@dataclass
class IngestReport:
    blocks_added: int = 0
    txs_added: int = 0
    blocks_rolled_back: int = 0
    reorgs: int = 0
    duplicates: int = 0
    blocks_pending: int = 0
    unresolved_inputs: int = 0
    tip_height: int = -1
    tip_hash: str | None = None
    files: int = 0
    bytes_read: int = 0
    skipped_tail_bytes: int = 0
    seconds: float = 0.0
    workers: int = 0  # parser threads the run used (0: all inline, one core)
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, object]:
        return asdict(self)

    def summary(self) -> str:
        text = (
            f"added {self.blocks_added} blocks, {self.txs_added} txs; "
            f"tip height {self.tip_height} ({self.tip_hash}); "
            f"{self.duplicates} already known, {self.blocks_pending} held waiting for a parent"
        )
        if self.reorgs:
            text += f"; {self.reorgs} reorg(s) rolled back {self.blocks_rolled_back} blocks"
        return "\n".join([text, *self.notes])


def workspace_network(store: ChainStore, name: str | None) -> Network:
    """The network to ingest into ``store``: ``name`` (None: the one it holds, else mainnet),
    refused when the store already holds another network's blocks."""
    recorded = store.meta.get("network") or (None if store.is_empty() else MAINNET.name)
    chosen = get_network(name if name is not None else recorded)
    if recorded is not None and recorded != chosen.name:
        raise SourceError(
            f"this workspace's Bitcoin store ({store.root}) holds {recorded} blocks; "
            f"{chosen.name} blocks need a workspace of their own (--home), so that the two "
            "never mix"
        )
    return chosen


def ingest_paths(
    paths: list[Path],
    *,
    home: Path | None = None,
    quiet: bool = True,
    workers: int = 0,
    network: str | None = None,
) -> IngestReport:
    """Ingest blocks from ``blk*.dat`` files, raw/hex block files or directories of blk files.

    ``workers`` > 1 prepares blocks in that many threads ahead of the batch work and
    writes each batch's Parquet parts in a background thread while the next batch is
    prepared (:class:`_Session`); -1 (the CLI's default) picks a number from the input
    size and cores (:func:`~fundtrail.chains.bitcoin.prepare.default_workers`).
    ``network`` (mainnet, testnet, testnet4, signet, regtest; None: the workspace's)
    chooses the record magic, genesis block and address format.
    """
    net = workspace_network(ChainStore("BTC", home), network)
    files = expand_paths([Path(p) for p in paths])
    stats = ReadStats()
    total = sum(f.stat().st_size for f in files)
    threads = default_workers(total) if workers < 0 else workers
    with _Session(home, quiet, total, net) as session:
        session.run(
            read_paths(files, stats, net.magic), progress_of=stats.progress, workers=threads
        )
    report = session.report
    report.workers = threads if threads > 1 else 0
    report.files, report.bytes_read, report.skipped_tail_bytes = (
        stats.files,
        stats.bytes,
        stats.skipped_tail,
    )
    return report


def ingest_rpc(
    url: str,
    *,
    start: int | None = None,
    stop: int | None = None,
    home: Path | None = None,
    quiet: bool = True,
    user: str | None = None,
    password: str | None = None,
    cookie: Path | None = None,
    network: str | None = None,
) -> IngestReport:
    """Ingest blocks ``start..stop`` from a Bitcoin Core node (``getblock`` verbosity 0).

    By default it re-reads the last few stored blocks (settings.confirmations) so that a
    reorg on the node is noticed, and continues to the node's tip. The node's network is
    known by its genesis block; it must be ``network`` when given, and the workspace's.
    """
    from fundtrail.chains.bitcoin.rpc import BitcoinRpc
    from fundtrail.settings import get_settings

    wanted = None if network is None else get_network(network)
    store = ChainStore("BTC", home)
    client = BitcoinRpc(url, user=user, password=password, cookie=cookie)
    try:
        net = _node_network(client, wanted)
        workspace_network(store, net.name)
        count = client.getblockcount()
    except BaseException:
        client.close()
        raise
    tip = _stored_tip(store)
    first = start if start is not None else max(1, tip - get_settings().confirmations + 1)
    last = min(stop if stop is not None else count, count)
    if first > last:
        client.close()
        report = IngestReport(tip_height=tip)
        report.notes.append(f"nothing to fetch: node tip {count}, asked {first}..{last}")
        return report
    try:
        with _Session(home, quiet, last - first + 1, net) as session:
            session.run(client.iter_blocks(first, last), progress_of=None)
    finally:
        client.close()
    return session.report


def _node_network(client: BitcoinRpc, wanted: Network | None) -> Network:
    genesis = client.getblockhash(0)
    found = by_genesis(genesis)
    if found is None:
        raise SourceError(
            f"the node's genesis block {genesis} is not that of any known Bitcoin network "
            f"({', '.join(NAMES)})"
        )
    if wanted is not None and found != wanted:
        raise SourceError(
            f"the node runs {found.name} (genesis {genesis}), not {wanted.name}: "
            f"give --network {found.name}, in a workspace of its own"
        )
    return found


def _stored_tip(store: ChainStore) -> int:
    if store.is_empty():
        return 0
    con = store.connect()
    try:
        row = con.execute("SELECT coalesce(max(height), 0) FROM blocks").fetchone()
    finally:
        con.close()
    return int(row[0]) if row else 0


class _Session:
    """One ingest run: holds the writer lock, the block tree, the batch and the report."""

    def __init__(self, home: Path | None, quiet: bool, total: int, net: Network = MAINNET) -> None:
        self.store = ChainStore("BTC", home)
        self.net = net
        self.quiet, self.total = quiet, total
        self.report = IngestReport()
        self._ctx = self.store.writer()
        self._committer: ThreadPoolExecutor | None = None
        self._pending: Future[int] | None = None
        self._pending_counts = (0, 0, 0)

    def __enter__(self) -> _Session:
        # The cyclic GC is paused for the run: every parsed block allocates ~10^5 tuples,
        # which kept triggering full collections over the ever larger script cache and
        # address book (a third of ingest CPU). Nothing here builds reference cycles;
        # each flush collects the young generations, in case a library did.
        self.writer: ChainStoreWriter = self._ctx.__enter__()
        self.book = AddressBook(self.store)
        self.index = _load_index(self.store, self.net)
        self.batch = BatchBuilder(self.store, self.book, self._next_tx_id(), self.net.addresses)
        self.pool = BlockPool(self.store.root / "pool")
        self.recent: dict[bytes, bytes] = {}
        self.started = time.perf_counter()
        self._gc_was_enabled = gc.isenabled()
        gc.disable()
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            if self._committer is not None:
                try:  # the writer lock is held until the last part is written or failed
                    if exc[0] is None:
                        self._wait_commit()
                finally:
                    self._committer.shutdown(wait=True)
        finally:
            try:
                self._ctx.__exit__(None, None, None)
            finally:
                if self._gc_was_enabled:
                    gc.enable()

    def _next_tx_id(self) -> int:
        """The committed tx count: tx ids are dense from 0 (assigned in order, rolled back
        as a suffix; the outpoint map checks it). Read from the Parquet footers: the
        ``max(tx_id)`` scan it replaces read every stored tx at each run (0.2 CPU-s at
        2.5M txs, growing with the chain)."""
        return self.store.row_count("txs")

    # ---- the run ------------------------------------------------------------------------
    def run(self, blocks: Iterable[RawBlock], progress_of: object, workers: int = 0) -> None:
        for h, raw in self.pool.load():
            if not self.index.knows(h):
                try:
                    self._offer_raw(raw, f"held block {h[::-1].hex()}")
                except SourceError:  # a damaged pool file: drop it, the store is not touched
                    self.pool.discard(h)
        if not self.index.hashes:
            self._offer_raw(genesis_raw(self.net), f"built-in {self.net.name} genesis block")
        if workers > 1:
            self._committer = ThreadPoolExecutor(1, thread_name_prefix="btc-commit")
        try:
            self._read(blocks, progress_of, workers)
        except SourceError:
            self._flush()  # the valid blocks before the bad one are kept: a rerun resumes
            self._wait_commit()
            self._save_pool()
            raise
        self._flush()
        self._wait_commit()
        self._save_pool()
        self._finish_report()

    def _read(self, blocks: Iterable[RawBlock], progress_of: object, workers: int) -> None:
        with progress(self.quiet) as bar:
            task = bar.add_task("ingest bitcoin", total=self.total or None, info="")
            for rb, block in prepared(
                blocks,
                workers=workers,
                known=self.index.knows,
                fmt=self.net.addresses,
                ahead_bytes=BATCH_BYTES,
            ):
                if block is None:
                    self.report.duplicates += 1
                else:
                    self._offer(block, rb.data, rb.where)
                done = progress_of(rb) if callable(progress_of) else None
                bar.update(
                    task,
                    completed=done if done is not None else bar.tasks[0].completed + 1,
                    info=f"height {self.index.tip_height}",
                )

    def _finish_report(self) -> None:
        r = self.report
        r.tip_height = self.index.tip_height
        r.tip_hash = self.index.hashes[-1][::-1].hex() if self.index.hashes else None
        r.blocks_pending = len(self.index.pending)
        r.seconds = round(time.perf_counter() - self.started, 3)
        if r.blocks_pending:
            r.notes.append(
                f"{r.blocks_pending} block(s) held: their parent is not ingested yet "
                "(they connect when it arrives)"
            )
        if r.unresolved_inputs:
            r.notes.append(
                f"{r.unresolved_inputs} input(s) spend outputs not in the store; their fee is null"
            )

    def _offer_raw(self, raw: bytes, where: str) -> None:
        self._offer(prepare(raw, where, self.net.addresses), raw, where)

    def _offer(self, block: BlockColumns, raw: bytes, where: str) -> None:
        h = block.header.hash
        if self.index.knows(h):
            self.report.duplicates += 1
            return
        self.index.hold(h, Pending(block, raw, where))
        switch = self.index.best_switch(h)
        if switch is not None:
            self._apply(switch)

    def _apply(self, switch: Switch) -> None:
        if switch.fork_height < self.index.tip_height:
            self._rollback(switch.fork_height)
        for h in switch.path:
            item = self.index.take(h)
            height = self.index.tip_height + 1
            self.batch.add(item.block, height)
            self.index.push_main(h, item.block.header.bits)
            self.recent[h] = item.raw
            if len(self.recent) > REORG_WINDOW:
                del self.recent[next(iter(self.recent))]
            if self.batch.raw_bytes >= BATCH_BYTES:
                self._flush()

    def _flush(self) -> None:
        """Commit the batch: its ids and maps now, its Parquet parts and manifest swap
        inline or, with a committer thread, while the next batch is prepared.

        Why a thread: encoding and compressing the parts was a quarter of ingest CPU and
        Arrow does it without the GIL. Building the batch's tables from its resolved ids
        goes there too, off the main thread (the one stage that cannot run in parallel).
        So do the maps' fsyncs (the disk's latency sat on the main thread): each commit
        makes its batch's map rows durable before its manifest swap. Commits stay one at
        a time and in order (the next one waits for this one), and a failed commit stops
        the run before anything later is committed."""
        if not len(self.batch):
            return
        result = self.batch.finish()
        meta = self._tip_meta()
        self._wait_commit()
        self._pending_counts = (result.blocks, result.txs, result.unresolved)
        if self._committer is None:
            result.make_durable()
            self.writer.commit(result.tables(), meta=meta)
            self._count_commit()
        else:
            self._pending = self._committer.submit(self._commit, result, meta)
        gc.collect(1)

    def _commit(self, result: BatchResult, meta: dict[str, object]) -> int:
        """In the committer thread: the maps' fsyncs, the tables, the parts, the swap."""
        result.make_durable()
        return self.writer.commit(result.tables(), meta=meta)

    def _wait_commit(self) -> None:
        """Wait for the committer's batch (raising its error) and count it."""
        pending, self._pending = self._pending, None
        if pending is not None:
            pending.result()
            self._count_commit()

    def _count_commit(self) -> None:
        blocks, txs, unresolved = self._pending_counts
        self.report.blocks_added += blocks
        self.report.txs_added += txs
        self.report.unresolved_inputs += unresolved

    def _tip_meta(self) -> dict[str, object]:
        return {
            "tip_height": self.index.tip_height,
            "tip_hash": self.index.hashes[-1][::-1].hex(),
            "network": self.net.name,
        }

    def _rollback(self, fork_height: int) -> None:
        """Remove every block above ``fork_height`` from the store in one atomic commit.

        The winning branch is saved to the pool first: a crash between this commit and the
        branch's own commit leaves a shorter but consistent store that the next run extends.
        """
        self._flush()
        self._wait_commit()
        self._save_pool()
        w, keep = self.writer, f"height <= {fork_height}"
        tables = {t: w.filtered(t, keep) for t in ("blocks", "txs", "outputs", "inputs")}
        tables["addresses"] = w.filtered("addresses", f"first_seen <= {fork_height}")
        dropped = self.index.truncate(fork_height)
        w.commit(
            replace=tables,
            meta=self._tip_meta(),
        )
        self.book.forget_from(tables["addresses"].num_rows)
        self.batch.rolled_back(tables["txs"].num_rows, tables["outputs"].num_rows)
        self.report.reorgs += 1
        self.report.blocks_rolled_back += len(dropped)
        for h in dropped:  # the old branch stays known, so it can win again later
            raw = self.recent.pop(h, None) or self.pool.read(h)
            if raw is not None:
                block = prepare(raw, f"rolled-back block {h[::-1].hex()}", self.net.addresses)
                self.index.hold(h, Pending(block, raw, "rolled-back block"))

    def _save_pool(self) -> None:
        keep: dict[bytes, bytes | None] = {h: p.raw for h, p in self.index.pending.items()}
        on_disk = set(self.pool.hashes())
        floor = self.index.tip_height - REORG_WINDOW
        for h in self.index.hashes[max(floor, 0) :]:
            if h in self.recent:
                keep[h] = self.recent[h]
            elif h in on_disk:
                keep[h] = None
        self.pool.save(keep)


def _load_index(store: ChainStore, net: Network) -> ChainIndex:
    index = ChainIndex(genesis=bytes.fromhex(net.genesis_hash)[::-1])
    blocks = store.read_table("blocks", ["height", "hash", "bits"]).sort_by("height")
    heights = blocks.column("height").to_pylist()
    if heights != list(range(len(heights))):
        raise StorageError(f"chain store {store.root}: block heights are not contiguous from 0")
    for h, bits in zip(
        blocks.column("hash").to_pylist(), blocks.column("bits").to_pylist(), strict=True
    ):
        index.push_main(bytes.fromhex(h)[::-1], bits)
    return index
