"""Clustering accuracy on simulator ground truth, per heuristic.

Simulates a scenario (real blk files), ingests it, clusters it with each heuristic set
and scores the clusters against ``truth.json``: pairwise precision and recall, clusters
mixing owners, merges made through true CoinJoins, the CoinJoin detector's hits, and the
share of each criminal's wallet found in one cluster.

    python bench/cluster_accuracy.py [--scenario mixed] [--txs 20000] [--seed 1]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

HEURISTIC_SETS = ("multi_input", "multi_input,change_address")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--scenario", default="mixed")
    ap.add_argument("--txs", type=int, default=20_000)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()

    from fundtrail.analysis.cluster.accuracy import load_truth, score
    from fundtrail.analysis.cluster.service import run_clustering
    from fundtrail.chains.bitcoin.ingest import ingest_paths
    from fundtrail.chains.simulate.service import run as simulate
    from fundtrail.chainstore.store import ChainStore

    root = Path(tempfile.mkdtemp(prefix="fundtrail-acc-"))
    t = time.perf_counter()
    simulate(args.scenario, root / "sim", seed=args.seed, txs=args.txs)
    ingest_paths([root / "sim" / "blocks"], home=root / "ws")
    truth = load_truth(root / "sim" / "truth.json")
    print(
        f"{args.scenario}: {args.txs:,} txs, seed {args.seed} "
        f"(simulated and ingested in {time.perf_counter() - t:.1f} s)\n"
    )
    scores = []
    for h in HEURISTIC_SETS:
        run_clustering("BTC", home=root / "ws", heuristics=h, full=True)
        scores.append(score(ChainStore("BTC", root / "ws"), truth, h))
    print(
        "| heuristics | precision | recall | clusters | clusters mixing owners "
        "| merges through CoinJoins | CoinJoins found / true (detected) |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    for s in scores:
        print(
            f"| {s.heuristics} | {s.precision:.4f} | {s.recall:.4f} | {s.clusters:,} "
            f"| {s.mixed_clusters} | {s.coinjoin_merges} "
            f"| {s.coinjoin_found} / {s.coinjoin_true} ({s.coinjoin_detected}) |"
        )
    print("\nshare of each criminal's addresses found in its largest cluster:\n")
    print("| criminal | " + " | ".join(s.heuristics for s in scores) + " |")
    print("|---|" + "---:|" * len(scores))
    for name in scores[0].criminal_wallets:
        print(f"| {name} | " + " | ".join(f"{s.criminal_wallets[name]:.1%}" for s in scores) + " |")


if __name__ == "__main__":
    main()
