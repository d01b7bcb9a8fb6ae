"""Clustering accuracy on simulator ground truth, per heuristic.

Simulates a scenario (real blk files), ingests it, clusters it with each heuristic set
and scores the clusters against ``truth.json``: pairwise precision and recall, clusters
mixing owners, merges made through true CoinJoins, the CoinJoin detector's hits, and the
share of each criminal's wallet found in one cluster.

On ``--chain evm`` the ``deposit_address`` heuristic is scored instead, after importing
the partner's ``tags.yaml`` (the known exchange hot wallets it starts from).

    python bench/cluster_accuracy.py [--scenario mixed] [--txs 20000] [--seed 1] [--chain btc]
    python bench/cluster_accuracy.py --record    # bench/results/cluster_accuracy.json (README table)
    python bench/cluster_accuracy.py --chain evm --txs 5000 --record   # cluster_accuracy-evm.json
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from _record import Record, add_record_flag, recording

HEURISTIC_SETS = ("multi_input", "multi_input,change_address")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--scenario", default="mixed")
    ap.add_argument("--txs", type=int, default=20_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--chain", choices=("btc", "evm"), default="btc")
    add_record_flag(ap)
    args = ap.parse_args()
    if args.chain == "evm":
        data = (f"simulated {args.scenario} EVM chain of {args.txs:,} txs (seed {args.seed}), "
                "the partner's tags.yaml imported, scored against its truth.json")  # fmt: skip
        with recording("cluster_accuracy-evm", args.record, data=data) as rec:
            evm(args.scenario, args.txs, args.seed, rec)
        return
    data = (f"simulated {args.scenario} Bitcoin chain of {args.txs:,} txs (seed {args.seed}), "
            "scored against its truth.json")  # fmt: skip
    with recording("cluster_accuracy", args.record, data=data) as rec:
        btc(args, rec)


def btc(args: argparse.Namespace, rec: Record) -> None:

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
    full = [
        "| heuristics | precision | recall | clusters | clusters mixing owners "
        "| merges through CoinJoins | CoinJoins found / true (detected) |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    print(*full, sep="\n")
    short = [
        "| heuristics | precision | recall | clusters mixing owners | merges through CoinJoins |",
        "|---|---:|---:|---:|---:|",
    ]
    for s in scores:
        print(
            f"| {s.heuristics} | {s.precision:.4f} | {s.recall:.4f} | {s.clusters:,} "
            f"| {s.mixed_clusters} | {s.coinjoin_merges} "
            f"| {s.coinjoin_found} / {s.coinjoin_true} ({s.coinjoin_detected}) |"
        )
        full.append(
            f"| {s.heuristics} | {s.precision:.4f} | {s.recall:.4f} | {s.clusters:,} "
            f"| {s.mixed_clusters} | {s.coinjoin_merges} "
            f"| {s.coinjoin_found} / {s.coinjoin_true} ({s.coinjoin_detected}) |"
        )
        short.append(f"| {s.heuristics} | {s.precision:.4f} | {s.recall:.4f} "
                     f"| {s.mixed_clusters} | {s.coinjoin_merges} |")  # fmt: skip
    rec.table("heuristics", "\n".join(short))
    rec.table("full", "\n".join(full))
    print("\nshare of each criminal's addresses found in its largest cluster:\n")
    print("| criminal | " + " | ".join(s.heuristics for s in scores) + " |")
    print("|---|" + "---:|" * len(scores))
    wallets = ["| criminal | " + " | ".join(s.heuristics for s in scores) + " |",
               "|---|" + "---:|" * len(scores)]  # fmt: skip
    for name in scores[0].criminal_wallets:
        print(f"| {name} | " + " | ".join(f"{s.criminal_wallets[name]:.1%}" for s in scores) + " |")
        wallets.append(
            f"| {name} | " + " | ".join(f"{s.criminal_wallets[name]:.1%}" for s in scores) + " |"
        )
    rec.table("criminal_wallets", "\n".join(wallets))


def evm(scenario: str, txs: int, seed: int, rec: Record) -> None:
    from fundtrail.analysis.cluster.accuracy import load_truth, score
    from fundtrail.analysis.cluster.service import run_clustering
    from fundtrail.chains.evm.ingest import ingest_files
    from fundtrail.chains.simulate.service import run as simulate
    from fundtrail.chainstore.store import ChainStore
    from fundtrail.intel.tag_import import import_tags

    root = Path(tempfile.mkdtemp(prefix="fundtrail-acc-evm-"))
    simulate(scenario, root / "sim", seed=seed, txs=txs, chain="evm")
    home = root / "ws"
    ingest_files(root / "sim" / "evm", chain="ETH", home=home)
    named = import_tags(root / "sim" / "tags.yaml", home=home).imported
    truth = load_truth(root / "sim" / "truth.json")
    report = run_clustering("ETH", home=home)
    store = ChainStore("ETH", home)
    s = score(store, truth, "deposit_address")
    roles = truth["addresses"]
    con = store.connect()
    edges = con.sql(
        "SELECT a.address, b.address FROM cluster_edges e "
        "JOIN addresses a ON a.address_id = e.address_id_a "
        "JOIN addresses b ON b.address_id = e.address_id_b"
    ).fetchall()
    con.close()
    right = sum(
        1
        for d, h in edges
        if roles.get(d, {}).get("role") == "deposit" and roles[d]["entity"] == roles[h]["entity"]
    )
    true_deposits = sum(1 for v in roles.values() if v["role"] == "deposit")
    tagged = sum(1 for v in roles.values() if v["role"] == "hot_wallet")
    print(
        f"{scenario} on EVM: {txs:,} txs, seed {seed}; {tagged} hot wallets in truth, "
        f"{named} named in the partner's tags.yaml\n"
    )
    table = (
        "| heuristic | pairwise precision | deposit addresses found | of which right "
        "| true deposit addresses | customers linked (not merged) |\n"
        "|---|---:|---:|---:|---:|---:|\n"
        f"| deposit_address | {s.precision:.4f} | {len(edges)} | {right} | {true_deposits} "
        f"| {report.counterparties} |"
    )
    print(table)
    rec.table("deposit", table)


if __name__ == "__main__":
    main()
