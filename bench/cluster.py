"""Union-find speed against scipy and networkx, each used as a competent user would.

The question is how fast the clustering kernel joins addresses, so every library is
given the same edges and timed on its algorithm apart from building its input:

- fundtrail: ``unionfind.components(n, a, b)`` on the two numpy id arrays the chain
  store yields (no input to build);
- scipy: the CSR matrix is built (timed apart), then ``connected_components``;
- networkx: the ``Graph`` is built from an edge list (timed apart), then
  ``connected_components`` consumed to one label per node; and ``networkx.utils.UnionFind``
  fed the edges (its edge list converted from numpy apart), the tool a networkx user
  reaches for when there is no graph to keep.

Every kernel gets the same warm-up run and ``--repeat`` timed runs, a ``gc.collect()``
before each, and the cyclic GC left on as a user would have it. Each reference checks
it found the same partition as fundtrail; the references import nothing of fundtrail.

Sizes: ``--synthetic`` uniformly random edges over as many addresses (a giant component
forms: the supercluster case and the worst for memory locality) at 1M and 10M edges by
default, and the ``multi_input`` edges of a simulated ``mixed`` chain (``--txs``,
CoinJoins skipped), which is small: its figures say so. networkx runs up to
``--networkx-max`` edges (its graph of 10M nodes would take ~10 GB here).

    python bench/cluster.py                        # 1M and 10M random edges, a 100k-tx chain
    python bench/cluster.py --synthetic 1000000 --txs 0 --repeat 3
    python bench/cluster.py --engines              # also the whole `fundtrail cluster`, embedded and Spark
    python bench/cluster.py --record               # write bench/results/cluster.json for the docs
"""

from __future__ import annotations

import argparse
import gc
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from _record import Record, add_record_flag, recording


@dataclass
class Timing:
    kernel: str
    prep_s: float | None  # building the library's input from the id arrays (median)
    algo_s: float  # the algorithm alone (median)
    runs: int


def timed(fn: Callable[[], Any], warmup: int, repeat: int) -> tuple[float, Any]:
    """Median seconds of ``repeat`` runs after ``warmup``, a GC collection before each."""
    out = None
    for _ in range(warmup):
        out = fn()
    times = []
    for _ in range(repeat):
        gc.collect()
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), out


def same_partition(ours: np.ndarray, labels: np.ndarray) -> bool:
    """Equal partitions: the (ours, theirs) label pairs are as many as either's labels."""
    pairs = np.unique(np.stack([ours, labels]), axis=1).shape[1]
    return pairs == np.unique(ours).size == np.unique(labels).size


def kernels(n: int, a: np.ndarray, b: np.ndarray, args: argparse.Namespace) -> list[Timing]:
    import networkx as nx
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    from fundtrail.analysis.cluster import unionfind as uf

    w, r = args.warmup, args.repeat
    m = a.shape[0]
    t_uf, ours = timed(lambda: uf.components(n, a, b), w, r)
    out = [Timing("fundtrail union-find (numba, 1 core)", None, t_uf, r)]

    def csr() -> Any:
        return coo_matrix((np.ones(m, dtype=np.int8), (a, b)), shape=(n, n)).tocsr()

    t_build, g = timed(csr, w, r)
    t_cc, (_, labels) = timed(lambda: connected_components(g, directed=False), w, r)
    assert same_partition(ours, np.asarray(labels)), "scipy found another partition"
    out.append(Timing("scipy connected_components", t_build, t_cc, r))
    g = None  # free the matrix before networkx builds its graph

    if m > args.networkx_max:
        print(f"  networkx skipped: {m:,} edges > --networkx-max {args.networkx_max:,}")
        return out
    t_list, edges = timed(lambda: list(zip(a.tolist(), b.tolist(), strict=True)), w, r)

    def graph() -> Any:
        g = nx.Graph()
        g.add_nodes_from(range(n))
        g.add_edges_from(edges)
        return g

    t_graph, gx = timed(graph, w, r)

    def nx_labels() -> np.ndarray:
        lab = np.empty(n, dtype=np.int64)
        for i, comp in enumerate(nx.connected_components(gx)):
            lab[list(comp)] = i
        return lab

    t_nx, lab = timed(nx_labels, w, r)
    assert same_partition(ours, lab), "networkx connected_components found another partition"
    out.append(Timing("networkx connected_components", t_list + t_graph, t_nx, r))
    gx = lab = None  # free the graph before the next reference

    def nx_unionfind() -> np.ndarray:
        u = nx.utils.UnionFind(range(n))
        union = u.union
        for x, y in edges:
            union(x, y)
        return np.fromiter((u[i] for i in range(n)), dtype=np.int64, count=n)

    t_nxuf, lab = timed(nx_unionfind, w, r)
    assert same_partition(ours, lab), "networkx UnionFind found another partition"
    out.append(Timing("networkx.utils.UnionFind", t_list, t_nxuf, r))
    return out


def chain_edges(home: Path, txs: int) -> tuple[int, np.ndarray, np.ndarray]:
    """The multi_input edges (CoinJoins skipped) of a simulated ``mixed`` chain."""
    from fundtrail.analysis.cluster import coinjoin, heuristics
    from fundtrail.chains.bitcoin.ingest import ingest_paths
    from fundtrail.chains.simulate.service import run as simulate
    from fundtrail.chainstore import csr
    from fundtrail.chainstore.store import ChainStore

    if ChainStore("BTC", home).is_empty():
        simulate("mixed", home.parent / "sim", seed=1, txs=txs)
        ingest_paths([home.parent / "sim" / "blocks"], home=home)
    store = ChainStore("BTC", home)
    con = store.connect()
    cj = coinjoin.detect(con)
    con.close()
    inputs = csr.tx_inputs(store)
    skip = np.zeros(inputs.n_rows, dtype=np.bool_)
    is_cj = cj.column("is_coinjoin").to_numpy(zero_copy_only=False)
    skip[cj.column("tx_id").to_numpy()[is_cj]] = True
    e = heuristics.multi_input(inputs, skip)
    return csr.n_addresses(store), e.a, e.b


def table(rows: list[tuple[str, int, Timing, float]]) -> list[str]:
    out = [
        "| edges | kernel | input built (s) | algorithm (s) | algorithm edges/s "
        "| fundtrail faster (algorithm) | fundtrail faster (with input) |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for label, m, t, ours in rows:
        prep = "—" if t.prep_s is None else f"{t.prep_s:.3f}"
        whole = (t.algo_s + (t.prep_s or 0)) / ours
        out.append(
            f"| {label} | {t.kernel} | {prep} | {t.algo_s:.3f} | {m / t.algo_s:,.0f} "
            f"| {t.algo_s / ours:,.1f}× | {whole:,.1f}× |"
        )
    return out


def span(values: list[float]) -> str:
    lo, hi = min(values), max(values)
    fmt = (lambda v: f"{v:,.0f}") if lo >= 10 else (lambda v: f"{v:.1f}")
    return f"{fmt(lo)}×" if fmt(lo) == fmt(hi) else f"{fmt(lo)}-{fmt(hi)}×"


def figures(rec: Record, measured: list[tuple[str, int, list[Timing]]]) -> None:
    """Figures from the synthetic sizes only (the chain is too small to time kernels on)."""
    big = [(label, m, ts) for label, m, ts in measured if label.endswith("random")]
    by: dict[str, list[float]] = {}
    rates = []
    for _, m, ts in big:
        ours = ts[0].algo_s
        rates.append(m / ours)
        for t in ts[1:]:
            by.setdefault(t.kernel, []).append(t.algo_s / ours)
    sizes = " and ".join(f"{m:,}" for _, m, _ in big)
    rec.figure(
        "edges_per_s",
        min(rates),
        f"{min(rates) / 1e6:.0f}-{max(rates) / 1e6:.0f} M edges/s",
        f"fundtrail union-find, one core, on {sizes} random edges",
    )
    names = {
        "scipy connected_components": "vs_scipy",
        "networkx connected_components": "vs_networkx",
        "networkx.utils.UnionFind": "vs_networkx_unionfind",
    }
    for kernel, ratios in by.items():
        on = sizes if kernel.startswith("scipy") else f"{big[0][1]:,}"
        rec.figure(
            names[kernel],
            statistics.median(ratios),
            span(ratios),
            f"{kernel} algorithm time / fundtrail's, same edges ({on} random edges), "
            "input building timed apart",
        )


def engines(home: Path) -> None:
    from fundtrail.analysis.cluster.service import run_clustering

    t = time.perf_counter()
    emb = run_clustering("BTC", home=home, full=True)
    t_emb = time.perf_counter() - t
    t = time.perf_counter()
    sp = run_clustering("BTC", home=home, engine="spark", master="local[2]")
    t_spark = time.perf_counter() - t
    assert sp.clusters == emb.clusters, "Spark disagrees"
    print("\n| whole `fundtrail cluster` run | seconds |\n|---|---:|")
    print(f"| embedded (coinjoin detection, edges, union-find, stats, commit) | {t_emb:.2f} |")
    print(f"| spark local[2] (same, components by large-star/small-star) | {t_spark:.2f} |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument(
        "--synthetic",
        type=lambda s: [int(x) for x in s.split(",") if x],
        default=[1_000_000, 10_000_000],
        help="random-edge sizes, comma-separated (1000000,10000000)",
    )
    ap.add_argument("--txs", type=int, default=100_000, help="simulated chain (0: none)")
    ap.add_argument("--warmup", type=int, default=1, help="untimed runs per kernel")
    ap.add_argument("--repeat", type=int, default=5, help="timed runs per kernel")
    ap.add_argument("--networkx-max", type=int, default=2_000_000, help="largest networkx run")
    ap.add_argument("--engines", action="store_true", help="time whole runs, embedded and Spark")
    ap.add_argument("--home", type=Path, help="workspace to reuse (simulated on first use)")
    add_record_flag(ap)
    args = ap.parse_args()
    home = args.home or Path(tempfile.mkdtemp(prefix="fundtrail-bench-")) / "ws"
    data = " and ".join(
        f"{m:,} uniformly random edges over {m:,} addresses" for m in args.synthetic
    )
    if args.txs:
        data += f"; the multi_input edges of a simulated mixed chain of {args.txs:,} txs (seed 1)"
    from fundtrail.analysis.cluster import unionfind as uf

    uf.components(4, np.array([0, 2]), np.array([1, 3]))  # compile outside any timing
    with recording("cluster", args.record, data=f"synthetic: {data}") as rec:
        print(
            f"{args.warmup} warm-up + {args.repeat} timed runs per kernel, median; gc.collect() before each"
        )
        measured: list[tuple[str, int, list[Timing]]] = []
        for m in args.synthetic:
            rng = np.random.default_rng(1)
            a, b = rng.integers(0, m, m), rng.integers(0, m, m)
            print(f"{m:,} random edges over {m:,} addresses", flush=True)
            measured.append((f"{m:,} random", m, kernels(m, a, b, args)))
        if args.txs:
            n, a, b = chain_edges(home, args.txs)
            print(f"chain of {args.txs:,} txs: {n:,} addresses, {a.shape[0]:,} multi_input edges")
            measured.append((f"{a.shape[0]:,} chain", int(a.shape[0]), kernels(n, a, b, args)))
        rows = [(label, m, t, ts[0].algo_s) for label, m, ts in measured for t in ts]
        print()
        print("\n".join(table(rows)))
        rec.table("kernels", "\n".join(table(rows)))
        figures(rec, measured)
        if args.engines:
            engines(home)


if __name__ == "__main__":
    main()
