"""Benchmark and accuracy of `fundtrail trace` on simulated chains.

Speed: a 10-hop haircut trace forward from 100 starting outputs (victims' payments of
the simulated scam, topped up with random outputs) against a networkx implementation of
the same method (same stops, hops, exact integer shares) written as a competent user of
networkx would: inputs and outputs read in order from the graph, the largest tainted
input and the nearest hop found once per transaction, shares by its own largest-remainder
split (the reference imports nothing of fundtrail's tracing). The two must give
identical endpoints.

Fair timing: the arrays (ours) and the networkx graph (reference) are both built before
any clock starts, so both kernels run with the same heap; each gets the same --warmup
untimed runs and --runs timed runs, a gc.collect() before each, the cyclic GC on as a
user would have it; the median is reported, wall and CPU.

    python bench/trace.py                 # ~50k txs
    python bench/trace.py --txs 1000000   # the issue's 1M-tx chain
    python bench/trace.py --record        # write bench/results/trace.json for the docs
    python bench/trace.py --accuracy      # README table: recall and share per scenario/method
"""

from __future__ import annotations

import argparse
import gc
import heapq
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import networkx as nx
import numpy as np

from _record import add_record_flag, recording
from fundtrail.analysis.attribution.lookup import attribution
from fundtrail.analysis.trace import utxo
from fundtrail.analysis.trace.graph import UtxoGraph, utxo_graph
from fundtrail.analysis.trace.request import TraceRequest
from fundtrail.analysis.trace.service import read_complaints, trace
from fundtrail.analysis.trace.starts import resolve
from fundtrail.analysis.trace.stops import CASH_OUT, HELD, LIMIT
from fundtrail.chainstore.store import ChainStore

FAR = 2**62


def reference_graph(g: UtxoGraph, stop: np.ndarray) -> nx.DiGraph:
    """Outputs and txs as networkx nodes: ("o", i) -> ("t", spender) -> ("o", j)."""
    dg = nx.DiGraph()
    for t in range(g.n_txs):
        dg.add_node(("t", t), in_total=int(g.tx_in_total[t]), coinjoin=bool(g.coinjoin[t]),
                    time=int(g.tx_time[t]))  # fmt: skip
        for o in range(int(g.out_ptr[t]), int(g.out_ptr[t + 1])):
            a = int(g.out_addr[o])
            dg.add_node(("o", o), value=int(g.out_val[o]), address=a,
                        cluster=int(g.addr_cluster[a]) if a >= 0 else -1,
                        stop=bool(stop[a]) if a >= 0 else False)  # fmt: skip
            dg.add_edge(("t", t), ("o", o), n=o - int(g.out_ptr[t]))
    for t in range(g.n_txs):
        for j in range(int(g.in_ptr[t]), int(g.in_ptr[t + 1])):
            if g.in_src[j] >= 0:
                dg.add_edge(("o", int(g.in_src[j])), ("t", t), n=j - int(g.in_ptr[t]))
    return dg


def reference_split(amount: int, weights: list[int]) -> list[int]:
    """Largest-remainder split of ``amount`` in proportion to ``weights``, written here.

    The guide's definition of a haircut share, independent of fundtrail's code: each
    part gets floor(amount * w / total), and the units left over go one each to the
    largest remainders, earlier parts first on a tie.
    """
    total = sum(weights)
    if total <= 0 or amount <= 0:
        return [0] * len(weights)
    parts = [amount * w // total for w in weights]
    rest = [amount * w % total for w in weights]
    left = amount - sum(parts)
    for _, i in heapq.nsmallest(left, ((-r, i) for i, r in enumerate(rest))):
        parts[i] += 1
    return parts


def reference_haircut(
    dg: nx.DiGraph, starts: dict[int, int], hops: int
) -> dict[int, tuple[int, int]]:
    """The same forward haircut, written as a competent networkx user would.

    Inputs and outputs of a tx are read in order from the graph (edge attribute ``n``);
    per tx the largest tainted input and the nearest hop are found once, as the kernel
    does, and the shares come from :func:`reference_split`, not from fundtrail.
    """
    taint = dict(starts)
    hop = dict.fromkeys(starts, 0)
    status: dict[int, int] = {}
    heap: list[int] = []
    queued: set[int] = set()
    nodes = dg.nodes
    succ, pred = dg.succ, dg.pred

    def route(o: int, is_start: bool) -> None:
        node = nodes[("o", o)]
        if node["address"] < 0:
            return
        if not is_start and node["stop"]:
            status[o] = CASH_OUT
        elif not is_start and hop[o] > hops:
            status[o] = LIMIT
        elif not succ[("o", o)]:
            status[o] = HELD
        else:
            status[o] = 0
            t = next(iter(succ[("o", o)]))[1]
            if t not in queued:
                queued.add(t)
                heapq.heappush(heap, t)

    for o in starts:
        route(o, True)
    while heap:
        t = heapq.heappop(heap)
        tx = ("t", t)
        ins = sorted(pred[tx].items(), key=lambda kv: kv[1]["n"])
        tainted = [n[1] for n, _ in ins if status.get(n[1]) == 0 and taint.get(n[1], 0) > 0]
        if not tainted:
            continue
        tin = sum(taint[o] for o in tainted)
        best = tainted[0]
        for o in tainted[1:]:
            if taint[o] > taint[best]:  # the first of the largest, like the kernel
                best = o
        nearest = min(hop[o] for o in tainted)
        outs = [n for n, _ in sorted(succ[tx].items(), key=lambda kv: kv[1]["n"])]
        values = [nodes[n]["value"] for n in outs]
        total = max(nodes[tx]["in_total"], sum(values))
        shares = reference_split(tin, [*values, total - sum(values)])
        c_src = nodes[("o", best)]["cluster"]
        for n, share in zip(outs, shares, strict=False):
            o = n[1]
            if share <= 0:
                continue
            taint[o] = taint.get(o, 0) + share
            step = 0 if nodes[n]["cluster"] == c_src else _peel_step(dg, o, outs)
            hop[o] = min(hop.get(o, FAR), nearest + step)
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


def timed(fn: Callable[[], object], warmup: int, runs: int) -> tuple[list[float], list[float]]:
    """``warmup`` untimed calls, then ``runs`` timed ones (wall, CPU), gc.collect() before each."""
    for _ in range(warmup):
        fn()
    wall, cpu = [], []
    for _ in range(runs):
        gc.collect()
        t, c = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
    return wall, cpu


def speed(args: argparse.Namespace) -> None:
    from fundtrail.analysis.trace.accuracy import prepare

    work = Path(tempfile.mkdtemp(prefix="bench-trace-"))
    data = (f"simulated investment-scam chain of {args.txs:,} txs (seed {args.seed}), "
            f"{args.starts} starts, {args.hops} hops")  # fmt: skip
    with recording("trace", args.record, data=data) as rec:
        t0 = time.perf_counter()
        prepare("investment-scam", work / "sim", work / "home", seed=args.seed, txs=args.txs)
        store = ChainStore("btc", work / "home")
        g = utxo_graph(store)
        stop = attribution(store, home=work / "home").stop_mask(g.addr_cluster)
        print(f"chain: {g.n_txs:,} txs, {len(g.out_val):,} outputs; "
              f"setup {time.perf_counter() - t0:.1f} s")  # fmt: skip
        starts = pick_starts(store, g, work / "sim", args.starts, args.seed)
        texts = start_texts(store, g, starts)
        request = TraceRequest.parse("btc", texts, hops=args.hops)
        # Both structures exist before any clock starts, so both kernels run with the same
        # heap (and the same GC pressure from the networkx graph's objects).
        t = time.perf_counter()
        dg = reference_graph(g, stop)
        print(f"networkx graph built in {time.perf_counter() - t:.1f} s (not timed)")
        print(f"each kernel: {args.warmup} warm-up + {args.runs} timed runs, median; "
              "gc.collect() before each run")  # fmt: skip
        w = utxo.walk(g, starts, request, stop)
        ours, ours_cpu = timed(lambda: utxo.walk(g, starts, request, stop), args.warmup, args.runs)
        ref_times, ref_cpu = timed(
            lambda: reference_haircut(dg, starts, args.hops), args.warmup, args.runs
        )
        ref = reference_haircut(dg, starts, args.hops)
        svc, cpu = timed(lambda: trace(request, home=work / "home"), args.warmup, args.runs)
        mine = {int(o): (int(w.taint[o]), int(w.status[o])) for o in
                np.flatnonzero(np.isin(w.status, (HELD, CASH_OUT, LIMIT)) & (w.taint > 0))}  # fmt: skip
        same = mine == ref
        m_ours, m_ref = statistics.median(ours), statistics.median(ref_times)
        c_ours, c_ref = statistics.median(ours_cpu), statistics.median(ref_cpu)
        print(f"starts: {len(starts)}, hops: {args.hops}, txs visited: {w.visited:,}, "
              f"endpoints: {len(mine):,}, identical to reference: {same}")  # fmt: skip
        print(f"fundtrail walk (numba arrays): median {m_ours * 1000:.1f} ms wall, "
              f"{c_ours * 1000:.1f} ms CPU")  # fmt: skip
        print(f"networkx reference:            median {m_ref * 1000:.1f} ms wall, "
              f"{c_ref * 1000:.1f} ms CPU")  # fmt: skip
        print(f"ratio: {m_ref / m_ours:.1f}x wall, {c_ref / c_ours:.1f}x CPU")
        print(f"whole `trace()` call (starts by TXID:VOUT, endpoints, graph, names): "
              f"median {statistics.median(svc) * 1000:.1f} ms wall, "
              f"{statistics.median(cpu) * 1000:.1f} ms CPU")  # fmt: skip
        lo, hi = sorted((m_ref / m_ours, c_ref / c_ours))
        rec.figure("vs_networkx", lo, f"{lo:.0f}-{hi:.0f}×" if round(lo) != round(hi) else f"{lo:.0f}×",
                   "networkx haircut reference / fundtrail's walk, CPU and wall time, same "
                   f"starts and graph, {args.txs:,}-tx simulated chain")  # fmt: skip
        rec.figure("walk_ms", c_ours * 1000, f"{c_ours * 1000:.0f} ms",
                   f"fundtrail's walk, CPU time, {len(starts)} starts, {args.hops} hops, "
                   f"{w.visited:,} txs visited")  # fmt: skip
        rec.figure("trace_call_ms", statistics.median(svc) * 1000,
                   f"{statistics.median(svc) * 1000:.0f} ms",
                   f"one whole trace() call from {len(starts)} starts, {args.hops} hops")  # fmt: skip
        if not same:
            sys.exit("results differ from the reference")


def accuracy(args: argparse.Namespace) -> None:
    from fundtrail.analysis.trace.accuracy import evaluate, prepare

    data = (f"simulated investment-scam and ransomware chains ({args.chains}) of {args.txs:,} "
            f"txs (seed {args.seed}), scored against their truth.json, {args.hops} hops")  # fmt: skip
    with recording("trace_accuracy", args.record, data=data) as rec:
        rows = [
            "| chain | scenario | tags | method | recall | share of proceeds at true deposits "
            "| truth: cashed out / proceeds |",
            "| --- | --- | --- | --- | --- | --- | --- |",
        ]
        print(*rows, sep="\n")
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
                        rows.append(f"| {chain} | {scenario} | {tags} | {method} | {s.recall:.3f} "
                                    f"({s.deposits_found}/{s.deposits_true}) | {share} "
                                    f"| {s.truth_share:.3f} |")  # fmt: skip
                        print(rows[-1], flush=True)
        rec.table("accuracy", "\n".join(rows))


def main() -> None:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--txs", type=int, default=50_000, help="simulated chain size (1000000 for 1M)")
    p.add_argument("--starts", type=int, default=100)
    p.add_argument("--hops", type=int, default=10)
    p.add_argument("--runs", type=int, default=5, help="timed runs per kernel")
    p.add_argument("--warmup", type=int, default=1, help="untimed runs per kernel first")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--accuracy", action="store_true", help="print the README accuracy table")
    p.add_argument("--chains", default="btc,evm", help="--accuracy: simulated chains")
    add_record_flag(p)
    args = p.parse_args()
    if args.accuracy:
        if args.txs == 50_000:
            args.txs = 5_000
        accuracy(args)
    else:
        speed(args)


if __name__ == "__main__":
    main()
