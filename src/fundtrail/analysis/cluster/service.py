"""Clustering as a service: heuristics -> edges -> union-find -> ``clusters`` and friends.

One run writes, in one atomic chain-store commit: ``clusters`` (every address, singletons
included, ``cluster_id`` = smallest member id), ``cluster_edges`` (the spanning forest of
evidence for ``why``), ``coinjoin`` (the detector's decision per tx), ``cluster_stats`` and,
on account chains, ``counterparties``.

UTXO chains cluster incrementally: the manifest remembers the last clustered tx (and its
txid, to notice a reorg below it) and the heuristics used; the next run loads the stored
``cluster_id`` column as the union-find forest and applies only the new txs' edges. A
changed heuristic list, a reorg below the watermark or ``full=True`` recomputes.
Account chains recompute: "forwards everything it receives" is a property of an
address's whole history, not of the new blocks. They store only tag-independent
evidence (the forwarders, in ``counterparties``); which forwarders are an exchange's
deposit addresses is attribution's answer at read time, so the order of work (tags
before or after clustering) does not change any result.
"""

from __future__ import annotations

import os
import shutil
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from fundtrail.analysis.cluster import coinjoin as cj
from fundtrail.analysis.cluster import heuristics as hz
from fundtrail.analysis.cluster import unionfind as uf
from fundtrail.analysis.cluster.stats import cluster_stats, cluster_stats_part
from fundtrail.arrays import distinct
from fundtrail.chains.ledger import ledger_for
from fundtrail.chainstore import csr, duck
from fundtrail.chainstore.budget import (
    RangeReader,
    chunk_rows,
    duckdb_limits,
    give_back,
    iter_batches,
)
from fundtrail.chainstore.store import ChainStore, ScratchPart
from fundtrail.chainstore.workarray import WINDOW_SHARE, WorkArray, WorkSpace, sweep_scratch
from fundtrail.errors import InvalidInputError

ENGINES = ("embedded", "spark")
META_KEY = "clustering"
# working memory per tx of a chunk (its inputs and outputs, the queries' and numpy's
# temporaries): UTXO clustering reads the chain in tx ranges of
# chunk_rows(TX_BYTES, CHUNK_SHARE) txs, so its memory does not grow with the chain
TX_BYTES = 1024
CHUNK_SHARE = 0.25
ADDRESS_CHUNK = 1 << 20  # addresses per piece of the clusters table written
VOCAB = ["", *hz.UTXO_HEURISTICS, *hz.ACCOUNT_HEURISTICS]


@dataclass
class ClusterReport:
    chain: str
    engine: str
    heuristics: list[str]
    addresses: int = 0
    clusters: int = 0
    singletons: int = 0
    largest: int = 0
    edges: dict[str, int] = field(default_factory=dict)  # evidence edges per heuristic
    merges: dict[str, int] = field(default_factory=dict)  # edges that joined two clusters
    coinjoins: dict[str, int] = field(default_factory=dict)  # detected CoinJoins per kind
    whirlpool_tx0: int = 0  # Whirlpool premixes seen (one owner: merged like any tx)
    counterparties: int = 0
    txs_processed: int = 0
    incremental: bool = False
    seconds: float = 0.0
    trace_arrays_seconds: float = 0.0  # of ``seconds``: the trace arrays built for this version
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _open(chain: str, home: Path | None) -> ChainStore:
    store = ChainStore(chain, home)
    store.require_data()
    return store


def cluster_of(store: ChainStore) -> np.ndarray:
    """Cluster id of every address id (int64 array indexed by address_id).

    Addresses ingested after the last clustering run are their own singletons.
    """
    n = csr.n_addresses(store)
    out = np.arange(n, dtype=np.int64)
    for b in iter_batches(store, "clusters", ["address_id", "cluster_id"]):
        ids = b.column(0).to_numpy()
        keep = ids < n
        out[ids[keep]] = b.column(1).to_numpy()[keep]
    return out


def cluster_work(store: ChainStore, ws: WorkSpace) -> WorkArray:
    """:func:`cluster_of` as a work array of ``ws``: in RAM on a small chain, a mapped
    scratch file past the budget's share (a whole chain's passes hold one window)."""
    n = csr.n_addresses(store)
    out = ws.zeros(n, np.int64)
    step = chunk_rows(8, WINDOW_SHARE)
    for lo in range(0, n, step):
        out.fill(lo, np.arange(lo, min(n, lo + step), dtype=np.int64))
    for b in iter_batches(store, "clusters", ["address_id", "cluster_id"], share=WINDOW_SHARE):
        ids = b.column(0).to_numpy()
        keep = ids < n
        out.put(ids[keep], b.column(1).to_numpy()[keep])
    return out


def _watermark_ok(con: duckdb.DuckDBPyConnection, meta: dict[str, Any]) -> bool:
    w = int(meta.get("tx_watermark", -1))
    if w < 0:
        return False
    rows = con.sql("SELECT txid FROM txs WHERE tx_id = $w", params={"w": w}).fetchall()
    return bool(rows) and rows[0][0] == meta.get("txid_at_watermark")


def _heuristic_column(
    n: int, old: pa.Table | None, names: list[str], merged: list[tuple[str, np.ndarray, np.ndarray]]
) -> pa.Array:
    """For each address, the heuristic of the first evidence edge that joined it ("" = none)."""
    vocab = ["", *hz.UTXO_HEURISTICS, *hz.ACCOUNT_HEURISTICS]
    code = np.zeros(n, dtype=np.int8)
    if old is not None and old.num_rows:
        old_codes = np.array(
            [vocab.index(h) if h in vocab else 0 for h in old.column("heuristic").to_pylist()],
            np.int8,
        )
        code[: old_codes.shape[0]] = old_codes[:n]
    for name, a, b in merged:
        for ends in (a, b):
            fresh = ends[code[ends] == 0]
            code[fresh] = vocab.index(name)
    return pa.DictionaryArray.from_arrays(pa.array(code), pa.array(vocab)).cast(pa.string())


def run_clustering(
    chain: str = "BTC",
    *,
    home: Path | None = None,
    engine: str = "embedded",
    heuristics: str | list[str] | tuple[str, ...] | None = None,
    quiet: bool = True,
    master: str | None = None,
    full: bool = False,
) -> ClusterReport:
    """Cluster the addresses of ``chain``; writes the derived tables, returns a report."""
    if engine not in ENGINES:
        raise InvalidInputError(
            f"unknown engine {engine!r}; choose embedded or spark", field="engine"
        )
    started = time.perf_counter()
    store = _open(chain, home)
    ledger = ledger_for(store)
    names = list(hz.parse_heuristics(heuristics, ledger))
    report = ClusterReport(store.chain.code, engine, names)
    n = csr.n_addresses(store)
    report.addresses = n
    # the whole budget: cluster_stats' joins over every address run here, after the tx
    # ranges are done (at 10M txs half of 2 GiB ran out: DuckDB cannot spill every join)
    con = duckdb_limits(store.connect(), share=1.0, spill=_spill_dir(store))
    replace: dict[str, pa.Table | ScratchPart] = {}
    append: dict[str, pa.Table | ScratchPart] = {}
    try:
        if ledger.shape == "utxo":
            result = _utxo(store, con, names, engine, master, full, report)
        else:
            result = _account(store, con, names, engine, master, report)
        parent, append, replace, meta = result
        if "cluster_stats" not in replace:
            replace["cluster_stats"] = cluster_stats(
                store, con, parent, engine=engine, master=master
            )
        with store.writer() as w:
            w.commit(append, replace=replace, meta={META_KEY: meta})
    finally:
        con.close()
        for part in [*append.values(), *replace.values()]:
            if isinstance(part, ScratchPart):
                part.discard()  # moved into the store by the commit, or never committed
    give_back()
    if ledger.shape == "utxo":
        report.trace_arrays_seconds = _prepare_trace_arrays(store)
        give_back()
    sizes = np.bincount(parent, minlength=n) if n else np.zeros(0, np.int64)
    report.clusters = int(np.count_nonzero(sizes))
    report.singletons = int(np.count_nonzero(sizes == 1))
    report.largest = int(sizes.max()) if n else 0
    report.seconds = round(time.perf_counter() - started, 3)
    return report


def _prepare_trace_arrays(store: ChainStore) -> float:
    """Build the trace arrays (``analysis/trace/graphfiles``) for the version just written.

    Why here: they hold each address's cluster and each tx's CoinJoin mark, so every
    clustering makes them stale, and the next ``complaints import`` or ``trace`` would
    build them from the whole chain inside its own run (at 1M txs most of the linking
    time). Clustering has just read the whole chain; leaving them built keeps whole-chain
    work in the command that is whole-chain by nature. Seconds taken (part of the run's).
    """
    from fundtrail.analysis.trace.graph import utxo_graph

    started = time.perf_counter()
    utxo_graph(store)
    return round(time.perf_counter() - started, 3)


Result = tuple[
    np.ndarray,
    dict[str, pa.Table | ScratchPart],
    dict[str, pa.Table | ScratchPart],
    dict[str, Any],
]


def _spill_dir(store: ChainStore) -> Path:
    return store.root / "cache" / "spill"


def _evidence(
    edge_sets: list[hz.Edges], parent: np.ndarray, report: ClusterReport
) -> tuple[pa.Table, list[tuple[str, np.ndarray, np.ndarray]]]:
    """Union every edge set into ``parent``; the joining edges as ``cluster_edges`` rows."""
    parts: list[pa.Table] = []
    merged_ends: list[tuple[str, np.ndarray, np.ndarray]] = []
    for e in edge_sets:
        mask = uf.union(parent, e.a, e.b)
        report.edges[e.heuristic] = len(e)
        report.merges[e.heuristic] = int(mask.sum())
        a, b = e.a[mask], e.b[mask]
        merged_ends.append((e.heuristic, a, b))
        hashes = [e.tx_hash[i] for i in np.flatnonzero(mask)] if e.tx_hash is not None else None
        parts.append(
            pa.table(
                {
                    "address_id_a": pa.array(a, pa.int64()),
                    "address_id_b": pa.array(b, pa.int64()),
                    "tx_id": pa.array(e.tx_id[mask], pa.int64()),
                    "tx_hash": pa.array(
                        hashes if hashes is not None else [None] * len(a), pa.string()
                    ),
                    "heuristic": pa.array([e.heuristic] * len(a), pa.string()),
                }
            )
        )
    table = pa.concat_tables(parts) if parts else _empty(store_schema="cluster_edges")
    return table, merged_ends


def _empty(store_schema: str) -> pa.Table:
    from fundtrail.chainstore.schema import DERIVED_SCHEMAS

    return pa.Table.from_batches([], schema=DERIVED_SCHEMAS[store_schema])


def _utxo(
    store: ChainStore,
    con: duckdb.DuckDBPyConnection,
    names: list[str],
    engine: str,
    master: str | None,
    full: bool,
    report: ClusterReport,
) -> Result:
    """The UTXO heuristics over the new txs, one tx range at a time.

    Each range's inputs and outputs are read from the row groups that hold them, its
    CoinJoins detected and its edges joined into the forest at once; the evidence, the
    ``coinjoin`` rows and the ``clusters`` table are written piece by piece. The edges are
    joined in the order a whole-chain pass would join them (every multi-input edge in tx
    order, then every change edge), so the forest, the evidence kept and each address's
    first heuristic do not depend on the chunk size."""
    n = report.addresses
    ntx = csr.n_txs(store)
    meta = store.meta.get(META_KEY) or {}
    incremental = (
        not full
        and engine == "embedded"
        and meta.get("heuristics") == names
        and bool(store.parts("clusters"))
        and _watermark_ok(con, meta)
    )
    after = int(meta["tx_watermark"]) if incremental else -1
    report.incremental = incremental
    report.txs_processed = ntx - after - 1
    parent = uf.extend_forest(cluster_of(store), n) if incremental else uf.new_forest(n)
    code = _old_codes(store, n) if incremental else np.zeros(n, dtype=np.int8)
    coin_part = ScratchPart(store, "coinjoin")
    edges_part = ScratchPart(store, "cluster_edges")
    parts = [coin_part, edges_part]
    change_edges: _EdgeFiles | None = None
    try:
        change_edges = _heuristic_pass(
            store, names, after + 1, ntx, n, parent, code, report, coin_part, edges_part
        )
        if change_edges is not None:
            for piece in change_edges.pieces():
                _union_into(parent, piece, code, report, edges_part, flat=False)
            uf.flatten(parent)
        coin_part.close()
        if engine == "spark":
            from fundtrail.chainstore import spark

            coin = _read_part(coin_part, "coinjoin")
            # Spark derives the multi-input edges itself from the inputs and `coin`
            none = np.zeros(0, np.int64)
            edge_sets = (
                [hz.Edges("multi_input", none, none, none)] if "multi_input" in names else []
            )
            edge_sets += [change_edges.whole()] if change_edges is not None else []
            parent = spark.components_for_store(store, coin, edge_sets, n, master=master)
        if change_edges is not None:
            change_edges.discard()
        clusters = _clusters_part(store, parent, code)
        parts.append(clusters)
        del code
        if engine == "embedded":  # the stats' joins get the budget, not the forest as well
            parent = _to_disk(parent, _spill_dir(store))
        give_back()  # nor the tx ranges' freed buffers
        stats = cluster_stats_part(
            store, con, clusters, parent=parent, engine=engine, master=master
        )
    except BaseException:
        for p in parts:
            p.discard()
        raise
    finally:
        if change_edges is not None:
            change_edges.discard()
    last = con.sql("SELECT tx_id, txid FROM txs ORDER BY tx_id DESC LIMIT 1").fetchall()
    meta_out = {
        "heuristics": names,
        "engine": engine,
        "addresses": n,
        "tx_watermark": int(last[0][0]) if last else -1,
        "txid_at_watermark": last[0][1] if last else None,
    }
    replace: dict[str, pa.Table | ScratchPart] = {"clusters": clusters, "cluster_stats": stats}
    append: dict[str, pa.Table | ScratchPart] = {}
    if incremental:
        append = {"cluster_edges": edges_part, "coinjoin": coin_part}
    else:
        replace.update({"cluster_edges": edges_part, "coinjoin": coin_part})
    return parent, append, replace, meta_out


def _to_disk(parent: np.ndarray, where: Path) -> np.ndarray:
    """``parent`` written to a file and mapped back read-only, its RAM freed: the forest
    is eight bytes per address (800 MB at 100M addresses) and the cluster statistics
    that follow take the whole budget in DuckDB; held in RAM beside them, the command's
    peak grew with the chain. The file is unlinked at once (the mapping keeps it)."""
    where.mkdir(parents=True, exist_ok=True)
    path = where / f"forest-{os.getpid()}-{uuid.uuid4().hex[:8]}.npy"
    try:
        np.save(path, parent)
        return np.load(path, mmap_mode="r")
    finally:
        path.unlink(missing_ok=True)


def _tx_ranges(first: int, end: int) -> list[tuple[int, int]]:
    step = chunk_rows(TX_BYTES, CHUNK_SHARE)
    return [(lo, min(lo + step, end)) for lo in range(first, end, step)]


def _heuristic_pass(
    store: ChainStore,
    names: list[str],
    first: int,
    ntx: int,
    n: int,
    parent: np.ndarray,
    code: np.ndarray,
    report: ClusterReport,
    coin_part: ScratchPart,
    edges_part: ScratchPart,
) -> _EdgeFiles | None:
    """One pass over tx ranges: CoinJoins, multi-input edges joined at once, change edges
    written to scratch files (they are joined after every multi-input edge, in tx order).
    Returns the change edges' files."""
    inputs = RangeReader(store, "inputs", ["address_id", "value"])
    outputs = RangeReader(store, "outputs", ["address_id", "value"])
    change = "change_address" in names
    txs = RangeReader(store, "txs", ["is_coinbase", "n_outputs"]) if change else None
    facts = _address_facts(store, n) if change else None
    kinds: Counter[str] = Counter()
    change_parts = _EdgeFiles(_spill_dir(store), "change_address") if change else None
    for name in hz.UTXO_HEURISTICS:  # the order a whole-chain pass reports them in
        if name in names:
            report.edges[name] = report.merges[name] = 0
    try:
        for lo, hi in _tx_ranges(first, ntx):
            ins, outs = inputs.read(lo, hi), outputs.read(lo, hi)
            cc = duckdb_limits(duck.connect(), spill=_spill_dir(store))
            try:
                cc.register("inputs", ins)
                cc.register("outputs", outs)
                coin = cj.detect(cc, lo - 1)
                flags = coin.column("is_coinjoin").to_numpy(zero_copy_only=False)
                for k, f in zip(coin.column("kind").to_pylist(), flags.tolist(), strict=True):
                    if f:
                        kinds[k] += 1
                    elif k == cj.Kind.TX0:
                        report.whirlpool_tx0 += 1
                coin_part.write(coin)
                if "multi_input" in names:
                    rows = csr.build_csr(
                        ins.column("tx_id").to_numpy() - lo,
                        ins.column("address_id").to_numpy(),
                        hi - lo,
                    )
                    skip = np.zeros(hi - lo, dtype=np.bool_)
                    skip[coin.column("tx_id").to_numpy()[flags] - lo] = True
                    _union_into(
                        parent, hz.multi_input(rows, skip, first_tx=lo), code, report, edges_part,
                        flat=False,
                    )  # fmt: skip
                if change_parts is not None and txs is not None and facts is not None:
                    cc.register("txs", txs.read(lo, hi))
                    cc.register("addr_now", _addr_now(facts, ins, outs))
                    change_parts.add(hz.change_address(cc, coin, lo - 1))
            finally:
                cc.close()
    except BaseException:
        if change_parts is not None:
            change_parts.discard()
        raise
    report.coinjoins = dict(sorted(kinds.items()))
    uf.flatten(parent)  # the ranges' unions left it unflattened
    return change_parts


class _EdgeFiles:
    """One heuristic's edges, written range by range to scratch files and read back in
    the same order: the change edges of a whole chain are joined only after every
    multi-input edge, and held in RAM until then they grew with the chain (24 bytes per
    edge, beside the statistics' DuckDB limit: the 50M-tx peak was 1.43x the 5M one)."""

    def __init__(self, where: Path, heuristic: str) -> None:
        self.heuristic = heuristic
        sweep_scratch(where, "edges")  # a killed run's files
        self.root = where / f"edges-{os.getpid()}-{uuid.uuid4().hex[:12]}"
        self.files: list[Path] = []

    def add(self, e: hz.Edges) -> None:
        if not len(e):
            return
        self.root.mkdir(parents=True, exist_ok=True)
        path = self.root / f"{len(self.files):06d}.npy"
        np.save(path, np.stack([e.a, e.b, e.tx_id]).astype(np.int64))
        self.files.append(path)

    def pieces(self) -> Iterator[hz.Edges]:
        for path in self.files:
            a, b, tx = np.load(path)
            yield hz.Edges(self.heuristic, a, b, tx)

    def whole(self) -> hz.Edges:
        """All of them at once (the Spark engine joins them in one job)."""
        got = list(self.pieces())
        empty = np.zeros(0, np.int64)
        return hz.Edges(
            self.heuristic,
            np.concatenate([e.a for e in got] or [empty]),
            np.concatenate([e.b for e in got] or [empty]),
            np.concatenate([e.tx_id for e in got] or [empty]),
        )

    def discard(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


def _union_into(
    parent: np.ndarray,
    e: hz.Edges,
    code: np.ndarray,
    report: ClusterReport,
    sink: ScratchPart,
    *,
    flat: bool = True,
) -> None:
    """Join one heuristic's edges into ``parent``; the joining ones become evidence rows,
    and the addresses they joined first get the heuristic's code (``flat``: see
    ``unionfind.union``)."""
    mask = uf.union(parent, e.a, e.b, flat=flat)
    report.edges[e.heuristic] = report.edges.get(e.heuristic, 0) + len(e)
    report.merges[e.heuristic] = report.merges.get(e.heuristic, 0) + int(mask.sum())
    a, b = e.a[mask], e.b[mask]
    for ends in (a, b):
        fresh = ends[code[ends] == 0]
        code[fresh] = VOCAB.index(e.heuristic)
    hashes = [e.tx_hash[i] for i in np.flatnonzero(mask)] if e.tx_hash is not None else None
    sink.write(
        pa.table(
            {
                "address_id_a": pa.array(a, pa.int64()),
                "address_id_b": pa.array(b, pa.int64()),
                "tx_id": pa.array(e.tx_id[mask], pa.int64()),
                "tx_hash": pa.array(hashes if hashes is not None else [None] * len(a), pa.string()),
                "heuristic": pa.array([e.heuristic] * len(a), pa.string()),
            }
        )
    )


def _old_codes(store: ChainStore, n: int) -> np.ndarray:
    """The stored ``heuristic`` column as codes into VOCAB (incremental runs)."""
    code = np.zeros(n, dtype=np.int8)
    vocab = pa.array(VOCAB)
    for b in iter_batches(store, "clusters", ["address_id", "heuristic"]):
        ids = b.column(0).to_numpy()
        c = pc.index_in(b.column(1), value_set=vocab).fill_null(0).to_numpy().astype(np.int8)
        keep = ids < n
        code[ids[keep]] = c[keep]
    return code


@dataclass
class _Facts:
    first_tx: np.ndarray  # tx of each address's first output (int64 max: none)
    stype: np.ndarray  # code of each address's script type into vocab (-1: none)
    vocab: pa.Array


NEVER = np.iinfo(np.int64).max


def _address_facts(store: ChainStore, n: int) -> _Facts:
    """What the change heuristic asks of every address, as arrays of ``n`` (two columns
    read in bounded batches), so that a tx range needs no join over the whole chain."""
    first = np.full(n, NEVER, dtype=np.int64)
    for b in iter_batches(store, "outputs", ["address_id", "tx_id"]):
        a, t = b.column(0).to_numpy(), b.column(1).to_numpy()
        m = a >= 0
        np.minimum.at(first, a[m], t[m])
    stype = np.full(n, -1, dtype=np.int16)
    names: dict[str, int] = {}
    for b in iter_batches(store, "addresses", ["address_id", "script_type"]):
        enc = pc.dictionary_encode(b.column(1))
        local = np.array(
            [names.setdefault(v, len(names)) for v in enc.dictionary.to_pylist()], np.int16
        )
        idx = enc.indices.fill_null(-1).to_numpy().astype(np.int64)
        ids = b.column(0).to_numpy()
        ok = (idx >= 0) & (ids < n)
        stype[ids[ok]] = local[idx[ok]]
    return _Facts(first, stype, pa.array(list(names), pa.string()))


def _addr_now(facts: _Facts, ins: pa.Table, outs: pa.Table) -> pa.Table:
    ids = distinct(
        np.concatenate([ins.column("address_id").to_numpy(), outs.column("address_id").to_numpy()])
    )
    ids = ids[ids >= 0]
    first = facts.first_tx[ids]
    codes = facts.stype[ids]
    return pa.table(
        {
            "address_id": pa.array(ids, pa.int64()),
            "script_type": pa.DictionaryArray.from_arrays(
                pa.array(codes.astype(np.int32), mask=codes < 0), facts.vocab
            ),
            "first_tx": pa.array(first, pa.int64(), mask=first == NEVER),
        }
    )


def _clusters_part(store: ChainStore, parent: np.ndarray, code: np.ndarray) -> ScratchPart:
    part = ScratchPart(store, "clusters")
    vocab = pa.array(VOCAB)
    for lo in range(0, parent.shape[0], ADDRESS_CHUNK):
        hi = min(lo + ADDRESS_CHUNK, parent.shape[0])
        part.write(
            pa.table(
                {
                    "address_id": pa.array(np.arange(lo, hi, dtype=np.int64)),
                    "cluster_id": pa.array(parent[lo:hi], pa.int64()),
                    "heuristic": pa.DictionaryArray.from_arrays(pa.array(code[lo:hi]), vocab).cast(
                        pa.string()
                    ),
                }
            )
        )
    part.close()
    return part


def _read_part(part: ScratchPart, table: str) -> pa.Table:
    if not part.rows:
        return _empty(store_schema=table)
    return pq.read_table(part.path)


def _account(
    store: ChainStore,
    con: duckdb.DuckDBPyConnection,
    names: list[str],
    engine: str,
    master: str | None,
    report: ClusterReport,
) -> Result:
    n = report.addresses
    edge_sets: list[hz.Edges] = []
    counterparties = _empty("counterparties")
    if "deposit_address" in names:
        # tag-independent evidence only: which forwarders are deposits is read when asked
        edges, counterparties = hz.deposit_address(con)
        edge_sets.append(edges)
    report.counterparties = counterparties.num_rows
    if engine == "spark":
        from fundtrail.chainstore import spark

        parent = spark.components_for_store(store, None, edge_sets, n, master=master)
        edges_table, merged = _evidence(edge_sets, uf.new_forest(n), report)
    else:
        parent = uf.new_forest(n)
        edges_table, merged = _evidence(edge_sets, parent, report)
    clusters = pa.table(
        {
            "address_id": pa.array(np.arange(n, dtype=np.int64)),
            "cluster_id": pa.array(parent, pa.int64()),
            "heuristic": _heuristic_column(n, None, names, merged),
        }
    )
    replace = {"clusters": clusters, "cluster_edges": edges_table, "counterparties": counterparties}
    return parent, {}, replace, {"heuristics": names, "engine": engine, "addresses": n}
