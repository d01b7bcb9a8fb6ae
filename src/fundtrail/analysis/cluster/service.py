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
address's whole history, not of the new blocks.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa

from fundtrail.analysis.cluster import coinjoin as cj
from fundtrail.analysis.cluster import heuristics as hz
from fundtrail.analysis.cluster import unionfind as uf
from fundtrail.analysis.cluster.stats import cluster_stats
from fundtrail.chains.ledger import ledger_for
from fundtrail.chainstore import csr
from fundtrail.chainstore.store import ChainStore
from fundtrail.chainstore.tags import TagStore
from fundtrail.errors import InvalidInputError

ENGINES = ("embedded", "spark")
META_KEY = "clustering"


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
    t = store.read_table("clusters", ["address_id", "cluster_id"])
    out = np.arange(n, dtype=np.int64)
    if t.num_rows:
        ids = t.column("address_id").to_numpy()
        keep = ids < n
        out[ids[keep]] = t.column("cluster_id").to_numpy()[keep]
    return out


def _exchange_ids(store: ChainStore, home: Path | None) -> list[int]:
    tags = TagStore(home).table(store.chain.code)
    if not tags.num_rows:
        return []
    con = store.connect()
    try:
        con.register("t", tags)
        rows = con.sql(
            "SELECT DISTINCT a.address_id FROM addresses a JOIN t ON t.address = a.address "
            "WHERE t.category = 'exchange'"
        ).fetchall()
    finally:
        con.close()
    return [int(r[0]) for r in rows]


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
    con = store.connect()
    try:
        if ledger.shape == "utxo":
            result = _utxo(store, con, names, engine, master, full, report)
        else:
            result = _account(store, con, names, engine, master, home, report)
        parent, append, replace, meta = result
        replace["cluster_stats"] = cluster_stats(store, con, parent, engine=engine, master=master)
    finally:
        con.close()
    with store.writer() as w:
        w.commit(append, replace=replace, meta={META_KEY: meta})
    sizes = np.bincount(parent, minlength=n) if n else np.zeros(0, np.int64)
    report.clusters = int(np.count_nonzero(sizes))
    report.singletons = int(np.count_nonzero(sizes == 1))
    report.largest = int(sizes.max()) if n else 0
    report.seconds = round(time.perf_counter() - started, 3)
    return report


Result = tuple[np.ndarray, dict[str, pa.Table], dict[str, pa.Table], dict[str, Any]]


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
    coin = cj.detect(con, after)
    flags = coin.column("is_coinjoin").to_pylist()
    kinds = Counter(k for k, f in zip(coin.column("kind").to_pylist(), flags, strict=True) if f)
    report.coinjoins = dict(sorted(kinds.items()))
    report.whirlpool_tx0 = sum(1 for k in coin.column("kind").to_pylist() if k == cj.Kind.TX0)
    inputs = csr.tx_inputs(store).tail(after + 1)
    skip = np.zeros(inputs.n_rows, dtype=np.bool_)
    cj_tx = coin.column("tx_id").to_numpy() - (after + 1)
    skip[cj_tx[coin.column("is_coinjoin").to_numpy(zero_copy_only=False)]] = True
    edge_sets: list[hz.Edges] = []
    if "multi_input" in names:
        edge_sets.append(hz.multi_input(inputs, skip, first_tx=after + 1))
    if "change_address" in names:
        edge_sets.append(hz.change_address(con, coin, after))
    old = store.read_table("clusters", ["heuristic"]) if incremental else None
    if engine == "spark":
        from fundtrail.chainstore import spark

        parent = spark.components_for_store(store, coin, edge_sets, n, master=master)
        # the evidence forest for `why` comes from the in-process kernel over the same edges
        edges_table, merged = _evidence(edge_sets, uf.new_forest(n), report)
    else:
        parent = uf.extend_forest(cluster_of(store), n) if incremental else uf.new_forest(n)
        edges_table, merged = _evidence(edge_sets, parent, report)
    clusters = pa.table(
        {
            "address_id": pa.array(np.arange(n, dtype=np.int64)),
            "cluster_id": pa.array(parent, pa.int64()),
            "heuristic": _heuristic_column(n, old, names, merged),
        }
    )
    last = con.sql("SELECT tx_id, txid FROM txs ORDER BY tx_id DESC LIMIT 1").fetchall()
    meta_out = {
        "heuristics": names,
        "engine": engine,
        "addresses": n,
        "tx_watermark": int(last[0][0]) if last else -1,
        "txid_at_watermark": last[0][1] if last else None,
    }
    replace = {"clusters": clusters}
    append: dict[str, pa.Table] = {}
    if incremental:
        append = {"cluster_edges": edges_table, "coinjoin": coin}
    else:
        replace.update({"cluster_edges": edges_table, "coinjoin": coin})
    return parent, append, replace, meta_out


def _account(
    store: ChainStore,
    con: duckdb.DuckDBPyConnection,
    names: list[str],
    engine: str,
    master: str | None,
    home: Path | None,
    report: ClusterReport,
) -> Result:
    n = report.addresses
    edge_sets: list[hz.Edges] = []
    counterparties = _empty("counterparties")
    if "deposit_address" in names:
        exchanges = _exchange_ids(store, home)
        if not exchanges:
            report.notes.append(
                f"deposit_address starts from known exchange hot wallets and no {store.chain.code}"
                " address is tagged 'exchange' yet: import exchange tags first "
                "(fundtrail tags import)"
            )
        edges, counterparties = hz.deposit_address(con, exchanges)
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
