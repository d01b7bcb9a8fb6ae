"""Union-find throughput on a simulated chain, as ratios against networkx and scipy.

1. Simulate the ``mixed`` scenario with ``--txs`` transactions (real blk files), ingest it.
2. Build the ``multi_input`` edges (CoinJoins skipped) from the chain store's CSR arrays.
3. Time, on the same edges in the same process: fundtrail's numba union-find (one core),
   scipy ``connected_components`` (including building its sparse matrix) and networkx
   ``connected_components`` (including building its graph); check they agree.
4. Time the whole ``fundtrail cluster`` run with the embedded and the Spark engine.

    python bench/cluster.py [--txs 100000] [--repeat 5] [--no-spark] [--home DIR]
    python bench/cluster.py --synthetic 10000000   # kernels only, on 10M random edges

``--synthetic N`` skips the simulator and times the kernels on N uniformly random edges
over N addresses (a giant component forms: the supercluster case, and the worst case
for memory locality).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np


def _median_time(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def prepare(home: Path, txs: int) -> None:
    from fundtrail.chains.bitcoin.ingest import ingest_paths
    from fundtrail.chains.simulate.service import run as simulate
    from fundtrail.chainstore.store import ChainStore

    if not ChainStore("BTC", home).is_empty():
        return
    out = home.parent / "sim"
    t = time.perf_counter()
    simulate("mixed", out, seed=1, txs=txs)
    print(f"simulated {txs:,} txs in {time.perf_counter() - t:.1f} s")
    t = time.perf_counter()
    ingest_paths([out / "blocks"], home=home)
    print(f"ingested in {time.perf_counter() - t:.1f} s")


def edges_of(home: Path) -> tuple[int, np.ndarray, np.ndarray]:
    from fundtrail.analysis.cluster import coinjoin, heuristics
    from fundtrail.chainstore import csr
    from fundtrail.chainstore.store import ChainStore

    store = ChainStore("BTC", home)
    con = store.connect()
    cj = coinjoin.detect(con)
    con.close()
    inputs = csr.tx_inputs(store)
    skip = np.zeros(inputs.n_rows, dtype=np.bool_)
    skip[cj.column("tx_id").to_numpy()[cj.column("is_coinjoin").to_numpy(zero_copy_only=False)]] = (
        True
    )
    e = heuristics.multi_input(inputs, skip)
    return csr.n_addresses(store), e.a, e.b


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--txs", type=int, default=100_000, help="simulated transactions")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--no-spark", action="store_true", help="skip the Spark engine")
    ap.add_argument("--no-networkx", action="store_true", help="skip networkx (slow on big runs)")
    ap.add_argument("--home", type=Path, help="workspace to reuse (simulated on first use)")
    ap.add_argument("--synthetic", type=int, default=0, help="random edges instead of a chain")
    args = ap.parse_args()

    import networkx as nx
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    from fundtrail.analysis.cluster import unionfind as uf
    from fundtrail.analysis.cluster.service import run_clustering

    home = args.home or Path(tempfile.mkdtemp(prefix="fundtrail-bench-")) / "ws"
    if args.synthetic:
        rng = np.random.default_rng(1)
        n = args.synthetic
        a, b = rng.integers(0, n, n), rng.integers(0, n, n)
        args.no_spark = True
        print(f"synthetic: {n:,} addresses, {n:,} uniformly random edges")
    else:
        prepare(home, args.txs)
        n, a, b = edges_of(home)
        print(f"{n:,} addresses, {a.shape[0]:,} multi_input edges")
    m = a.shape[0]

    uf.components(4, np.array([0, 2]), np.array([1, 3]))  # compile outside the timing
    ours = uf.components(n, a, b)
    t_uf = _median_time(lambda: uf.components(n, a, b), args.repeat)

    def scipy_cc() -> np.ndarray:
        g = coo_matrix((np.ones(m, dtype=np.int8), (a, b)), shape=(n, n)).tocsr()
        return np.asarray(connected_components(g, directed=False)[1])

    labels = scipy_cc()
    t_sp = _median_time(scipy_cc, args.repeat)
    # same partition: equal labels <=> equal cluster ids
    pairs = np.unique(np.stack([ours, labels]), axis=1)
    assert pairs.shape[1] == np.unique(ours).size == np.unique(labels).size, "scipy disagrees"

    rows = [("fundtrail union-find (numba, 1 core)", t_uf)]
    rows.append(("scipy connected_components", t_sp))
    if not args.no_networkx:

        def nx_cc() -> int:
            g = nx.Graph()
            g.add_nodes_from(range(n))
            g.add_edges_from(zip(a.tolist(), b.tolist(), strict=True))
            return sum(1 for _ in nx.connected_components(g))

        count = nx_cc()
        assert count == np.unique(ours).size, "networkx disagrees"
        rows.append(
            ("networkx connected_components", _median_time(nx_cc, max(1, args.repeat // 2)))
        )

    print()
    print("| kernel | seconds | edges/s | fundtrail speed-up |")
    print("|---|---:|---:|---:|")
    for name, t in rows:
        print(f"| {name} | {t:.4f} | {m / t:,.0f} | {t / t_uf:.1f}x |")

    if args.synthetic:
        return
    t = time.perf_counter()
    emb = run_clustering("BTC", home=home, full=True)
    t_emb = time.perf_counter() - t
    print()
    print("| whole `fundtrail cluster` run | seconds |")
    print("|---|---:|")
    print(f"| embedded (coinjoin detection, edges, union-find, stats, commit) | {t_emb:.2f} |")
    if not args.no_spark:
        t = time.perf_counter()
        sp = run_clustering("BTC", home=home, engine="spark", master="local[2]")
        t_spark = time.perf_counter() - t
        assert sp.clusters == emb.clusters, "Spark disagrees"
        print(f"| spark local[2] (same, components by large-star/small-star) | {t_spark:.2f} |")


if __name__ == "__main__":
    main()
