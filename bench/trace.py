"""Benchmark and accuracy of `fundtrail trace` on simulated chains.

Speed: a 10-hop haircut trace forward from 100 starting outputs (victims' payments of
the simulated scam, topped up with random outputs), the median of --runs runs, against
a straightforward networkx implementation of the same method (same stops, hops, exact
integer shares) run in the same process; the two must give identical endpoints.

    python bench/trace.py                 # ~50k txs
    python bench/trace.py --txs 1000000   # the issue's 1M-tx chain
    python bench/trace.py --accuracy      # README table: recall and share per scenario/method

Arrays (ours) and the networkx graph (reference) are built once, outside the timings.
"""

from __future__ import annotations

import argparse
import heapq
import statistics
import sys
import tempfile
import time
from pathlib import Path

import networkx as nx
import numpy as np

from fundtrail.analysis.trace import utxo
from fundtrail.analysis.trace.graph import UtxoGraph, utxo_graph
from fundtrail.analysis.trace.haircut import split_int
from fundtrail.analysis.trace.request import TraceRequest
from fundtrail.analysis.trace.service import read_complaints, trace
from fundtrail.analysis.trace.starts import resolve
from fundtrail.analysis.trace.stops import CASH_OUT, HELD, LIMIT
from fundtrail.chainstore.store import ChainStore

FAR = 2**62


def reference_graph(g: UtxoGraph) -> nx.DiGraph:
    """Outputs and txs as networkx nodes: ("o", i) -> ("t", spender) -> ("o", j)."""
    dg = nx.DiGraph()
    for t in range(g.n_txs):
        dg.add_node(("t", t), in_total=int(g.tx_in_total[t]), coinjoin=bool(g.coinjoin[t]),
                    time=int(g.tx_time[t]))  # fmt: skip
        for o in range(int(g.out_ptr[t]), int(g.out_ptr[t + 1])):
            a = int(g.out_addr[o])
            dg.add_node(("o", o), value=int(g.out_val[o]), address=a,
                        cluster=int(g.addr_cluster[a]) if a >= 0 else -1,
                        stop=bool(g.addr_stop[a]) if a >= 0 else False)  # fmt: skip
            dg.add_edge(("t", t), ("o", o), n=o - int(g.out_ptr[t]))
    for t in range(g.n_txs):
        for j in range(int(g.in_ptr[t]), int(g.in_ptr[t + 1])):
            if g.in_src[j] >= 0:
                dg.add_edge(("o", int(g.in_src[j])), ("t", t), n=j - int(g.in_ptr[t]))
    return dg


def reference_haircut(
    dg: nx.DiGraph, starts: dict[int, int], hops: int
) -> dict[int, tuple[int, int]]:
    """The same forward haircut, written plainly over the networkx graph."""
    taint = dict(starts)
    hop = dict.fromkeys(starts, 0)
    status: dict[int, int] = {}
    heap: list[int] = []
    queued: set[int] = set()

    def route(o: int, is_start: bool) -> None:
        node = dg.nodes[("o", o)]
        if node["address"] < 0:
            return
        spenders = list(dg.successors(("o", o)))
        if not is_start and node["stop"]:
            status[o] = CASH_OUT
        elif not is_start and hop[o] > hops:
            status[o] = LIMIT
        elif not spenders:
            status[o] = HELD
        else:
            status[o] = 0
            t = spenders[0][1]
            if t not in queued:
                queued.add(t)
                heapq.heappush(heap, t)

    for o in starts:
        route(o, True)
    while heap:
        t = heapq.heappop(heap)
        ins = sorted(dg.predecessors(("t", t)), key=lambda n: dg.edges[n, ("t", t)]["n"])
        tainted = [n[1] for n in ins if status.get(n[1]) == 0 and taint.get(n[1], 0) > 0]
        if not tainted:
            continue
        tin = sum(taint[o] for o in tainted)
        best = max(tainted, key=lambda o: (taint[o], -tainted.index(o)))
        outs = sorted(dg.successors(("t", t)), key=lambda n: dg.edges[("t", t), n]["n"])
        values = [dg.nodes[n]["value"] for n in outs]
        total = max(dg.nodes[("t", t)]["in_total"], sum(values))
        shares = split_int(tin, [*values, total - sum(values)])
        c_src = dg.nodes[("o", best)]["cluster"]
        for n, share in zip(outs, shares, strict=False):
            o = n[1]
            if share <= 0:
                continue
            taint[o] = taint.get(o, 0) + share
            step = 0 if dg.nodes[n]["cluster"] == c_src else _peel_step(dg, o, outs)
            hop[o] = min(hop.get(o, FAR), min(hop[x] for x in tainted) + step)
            route(o, False)
    return {o: (taint[o], s) for o, s in status.items() if s in (HELD, CASH_OUT, LIMIT)}


def _peel_step(dg: nx.DiGraph, o: int, outs: list[tuple[str, int]]) -> int:
    if len(outs) != 2:
        return 1
    other = outs[0][1] if outs[1][1] == o else outs[1][1]
    v, w = dg.nodes[("o", o)]["value"], dg.nodes[("o", other)]["value"]
    if v > w or (v == w and o < other):
        spenders = list(dg.successors(("o", o)))
        if spenders and dg.out_degree(spenders[0]) == 2:
            return 0
    return 1


def pick_starts(store: ChainStore, g: UtxoGraph, sim: Path, n: int, seed: int) -> dict[int, int]:
    _, complaints, _ = read_complaints(sim / "complaints.csv")
    con = store.connect()
    try:
        request = TraceRequest.parse("btc", complaints[:n])
        found = resolve(request, "BTC", utxo.UtxoFinder(g, con))
    finally:
        con.close()
    rng = np.random.default_rng(seed)
    spent = np.flatnonzero((g.out_spent >= 0) & (g.out_val > 0))
    while len(found) < n:
        o = int(rng.choice(spent))
        found[o] = int(g.out_val[o])
    return dict(list(found.items())[:n])


def start_texts(store: ChainStore, g: UtxoGraph, starts: dict[int, int]) -> list[str]:
    con = store.connect()
    try:
        rows = dict(con.execute("SELECT tx_id, txid FROM txs").fetchall())
    finally:
        con.close()
    texts = []
    for o in starts:
        t = int(g.out_tx[o])
        texts.append(f"{rows[int(g.tx_ids[t])]}:{int(g.out_n[o])}")
    return texts


def speed(args: argparse.Namespace) -> None:
    from fundtrail.analysis.trace.accuracy import prepare

    work = Path(tempfile.mkdtemp(prefix="bench-trace-"))
    t0 = time.perf_counter()
    prepare("investment-scam", work / "sim", work / "home", seed=args.seed, txs=args.txs)
    store = ChainStore("btc", work / "home")
    g = utxo_graph(store)
    print(
        f"chain: {g.n_txs:,} txs, {len(g.out_val):,} outputs; setup {time.perf_counter() - t0:.1f} s"
    )
    starts = pick_starts(store, g, work / "sim", args.starts, args.seed)
    texts = start_texts(store, g, starts)
    request = TraceRequest.parse("btc", texts, hops=args.hops)
    utxo.walk(g, starts, request)  # warm-up (numba load)
    ours, ours_cpu = [], []
    for _ in range(args.runs):
        t, c = time.perf_counter(), time.process_time()
        w = utxo.walk(g, starts, request)
        ours.append(time.perf_counter() - t)
        ours_cpu.append(time.process_time() - c)
    # the whole call, before the networkx graph exists (its millions of objects slow GC)
    svc, cpu = [], []
    for _ in range(5):
        t, c = time.perf_counter(), time.process_time()
        trace(request, home=work / "home")
        svc.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
    print(f"whole `trace()` call (starts by TXID:VOUT, endpoints, graph, names): "
          f"median {statistics.median(svc) * 1000:.1f} ms wall, "
          f"{statistics.median(cpu) * 1000:.1f} ms CPU")  # fmt: skip
    t = time.perf_counter()
    dg = reference_graph(g)
    print(f"networkx graph built in {time.perf_counter() - t:.1f} s (not timed)")
    ref_times, ref_cpu = [], []
    for _ in range(max(1, args.runs // 3)):
        t, c = time.perf_counter(), time.process_time()
        ref = reference_haircut(dg, starts, args.hops)
        ref_times.append(time.perf_counter() - t)
        ref_cpu.append(time.process_time() - c)
    mine = {int(o): (int(w.taint[o]), int(w.status[o])) for o in
            np.flatnonzero(np.isin(w.status, (HELD, CASH_OUT, LIMIT)) & (w.taint > 0))}  # fmt: skip
    same = mine == ref
    m_ours, m_ref = statistics.median(ours), statistics.median(ref_times)
    print(f"starts: {len(starts)}, hops: {args.hops}, txs visited: {w.visited:,}, "
          f"endpoints: {len(mine):,}, identical to reference: {same}")  # fmt: skip
    print(f"fundtrail (numba arrays): median {m_ours * 1000:.1f} ms over {len(ours)} runs "
          f"({statistics.median(ours_cpu) * 1000:.1f} ms CPU)")  # fmt: skip
    print(f"networkx reference:      median {m_ref * 1000:.1f} ms over {len(ref_times)} runs "
          f"({statistics.median(ref_cpu) * 1000:.1f} ms CPU)")  # fmt: skip
    print(f"ratio: {m_ref / m_ours:.1f}x wall, "
          f"{statistics.median(ref_cpu) / statistics.median(ours_cpu):.1f}x CPU")  # fmt: skip
    if not same:
        sys.exit("results differ from the reference")


def accuracy(args: argparse.Namespace) -> None:
    from fundtrail.analysis.trace.accuracy import evaluate, prepare

    print(
        "| chain | scenario | tags | method | recall | share of proceeds at true deposits "
        "| truth: cashed out / proceeds |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for chain in args.chains.split(","):
        for scenario in ("investment-scam", "ransomware"):
            for all_ex in (False, True):
                work = Path(tempfile.mkdtemp(prefix="acc-trace-"))
                prepare(scenario, work / "sim", work / "home", seed=args.seed, txs=args.txs,
                        all_exchanges=all_ex, chain=chain)  # fmt: skip
                tags = "all exchange hot wallets" if all_ex else "partner tags.yaml"
                for method in ("haircut", "fifo", "poison"):
                    s = evaluate(work / "sim", method, home=work / "home", hops=args.hops)
                    share = f"{s.share:.3f}" + (" (upper bound)" if method == "poison" else "")
                    print(f"| {chain} | {scenario} | {tags} | {method} | {s.recall:.3f} "
                          f"({s.deposits_found}/{s.deposits_true}) | {share} "
                          f"| {s.truth_share:.3f} |", flush=True)  # fmt: skip


def main() -> None:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--txs", type=int, default=50_000, help="simulated chain size (1000000 for 1M)")
    p.add_argument("--starts", type=int, default=100)
    p.add_argument("--hops", type=int, default=10)
    p.add_argument("--runs", type=int, default=9)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--accuracy", action="store_true", help="print the README accuracy table")
    p.add_argument("--chains", default="btc,evm", help="--accuracy: simulated chains")
    args = p.parse_args()
    if args.accuracy:
        if args.txs == 50_000:
            args.txs = 5_000
        accuracy(args)
    else:
        speed(args)


if __name__ == "__main__":
    main()
