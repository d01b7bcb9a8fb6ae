"""Clustering accuracy on simulator ground truth, per heuristic.

Simulates a scenario (real blk files), ingests it, clusters it with each heuristic set
and scores the clusters against ``truth.json``: pairwise precision and recall, clusters
mixing owners, merges made through true CoinJoins, the CoinJoin detector's hits, and the
share of each criminal's wallet found in one cluster.

On ``--chain evm`` the ``deposit_address`` heuristic is scored instead: clustering stores
the forwarders, then the partner's ``tags.yaml`` is imported (after, the natural order) and
the deposit addresses attribution reads from both are scored; likewise on
``--chain tron`` (the USDT investment scam, ingested over the java-tron stub's HTTP API),
with the true deposit addresses it missed sorted by why.

    python bench/cluster_accuracy.py [--scenario mixed] [--txs 20000] [--seed 1] [--chain btc]
    python bench/cluster_accuracy.py --record    # bench/results/cluster_accuracy.json (README table)
    python bench/cluster_accuracy.py --chain evm --txs 5000 --record   # cluster_accuracy-evm.json
    python bench/cluster_accuracy.py --chain tron --txs 5000 --record  # cluster_accuracy-tron.json
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import Any

from _record import Record, add_record_flag, recording

HEURISTIC_SETS = ("multi_input", "multi_input,change_address")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--scenario", default="mixed")
    ap.add_argument("--txs", type=int, default=20_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--chain", choices=("btc", "evm", "tron"), default="btc")
    add_record_flag(ap)
    args = ap.parse_args()
    if args.chain in ("evm", "tron"):
        scenario = "investment-scam" if args.chain == "tron" else args.scenario
        data = (f"simulated {scenario} {args.chain.upper()} chain of {args.txs:,} txs (seed "
                f"{args.seed}), the partner's tags.yaml imported after clustering, scored against its truth.json")  # fmt: skip
        with recording(f"cluster_accuracy-{args.chain}", args.record, data=data) as rec:
            account(args.chain, scenario, args.txs, args.seed, rec)
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


def _ingest_account(chain: str, root: Path, home: Path) -> str:
    """Ingest the simulation: EVM from its ethereum-etl files, TRON over the stub's API."""
    if chain == "evm":
        from fundtrail.chains.evm.ingest import ingest_files

        ingest_files(root / "sim" / "evm", chain="ETH", home=home)
        return "ETH"
    import json

    from fundtrail.chains.tron.ingest import ingest_rpc
    from fundtrail.chains.tron.stub import NodeData, TronStub

    node = NodeData.from_json(json.loads((root / "sim" / "tron" / "node.json").read_text()))
    with TronStub(node) as stub:
        ingest_rpc(stub.url, home=home)
    return "TRX"


def account(chain: str, scenario: str, txs: int, seed: int, rec: Record) -> None:
    from fundtrail.analysis.attribution import attribution
    from fundtrail.analysis.cluster.accuracy import load_truth, score
    from fundtrail.analysis.cluster.service import run_clustering
    from fundtrail.chains.simulate.service import run as simulate
    from fundtrail.chainstore.store import ChainStore
    from fundtrail.intel.tag_import import import_tags

    root = Path(tempfile.mkdtemp(prefix=f"fundtrail-acc-{chain}-"))
    simulate(scenario, root / "sim", seed=seed, txs=txs, chain=chain)
    home = root / "ws"
    code = _ingest_account(chain, root, home)
    truth = load_truth(root / "sim" / "truth.json")
    # clustering first, the tags after (the natural order): deposits are read at read time
    report = run_clustering(code, home=home)
    named = import_tags(root / "sim" / "tags.yaml", home=home).imported
    store = ChainStore(code, home)
    s = score(store, truth, "deposit_address")
    roles = truth["addresses"]
    att = attribution(store, home=home)
    con = store.connect()
    text = dict(con.sql("SELECT address_id, address FROM addresses").fetchall())
    clusters = dict(
        con.sql("SELECT cluster_id, min(address_id) FROM clusters GROUP BY 1").fetchall()
    )
    # a deposit cluster on an account chain is one address (nothing is merged)
    found = {text[clusters[c]]: e.evidence_address for c, e in att.entities.items()
             if e.heuristic == "deposit_address" and c in clusters}  # fmt: skip
    hot = [text[clusters[c]] for c, e in att.entities.items()
           if e.heuristic == "hot_wallet" and c in clusters]  # fmt: skip
    missed = _missed_deposits(con, truth, set(found), root / "sim" / "tags.yaml")
    con.close()
    right = sum(
        1
        for d, h in found.items()
        if roles.get(d, {}).get("role") == "deposit"
        and h is not None
        and roles[d]["entity"] == roles.get(h, {}).get("entity")
    )
    true_deposits = sum(1 for v in roles.values() if v["role"] == "deposit")
    tagged = sum(1 for v in roles.values() if v["role"] == "hot_wallet")
    hot_right = sum(1 for a in hot if roles.get(a, {}).get("role") == "hot_wallet")
    print(
        f"{scenario} on {chain.upper()}: {txs:,} txs, seed {seed}; {tagged} hot wallets in truth, "
        f"{named} named in the partner's tags.yaml (imported after clustering); "
        f"{len(hot)} recognised by behaviour, {hot_right} of them true hot wallets\n"
    )
    table = (
        "| heuristic | pairwise precision | deposit addresses found | of which right "
        "| true deposit addresses | forwarders stored (not merged) |\n"
        "|---|---:|---:|---:|---:|---:|\n"
        f"| deposit_address | {s.precision:.4f} | {len(found)} | {right} | {true_deposits} "
        f"| {report.counterparties} |"
    )
    print(table)
    rec.table("deposit", table)
    why = "| true deposit address missed because | addresses |\n|---|---:|\n" + "\n".join(
        f"| {reason} | {n} |" for reason, n in sorted(missed.items(), key=lambda kv: -kv[1])
    )
    print()
    print(why)
    rec.table("missed", why)


def _missed_deposits(
    con: Any, truth: dict[str, Any], found: set[str], tags: Path
) -> dict[str, int]:
    """Why each true deposit address the heuristic did not find was missed."""
    import yaml

    roles = truth["addresses"]
    named = {t["address"] for t in yaml.safe_load(tags.read_text()).get("tags", [])}
    sent: dict[str, set[str]] = {}
    for a, b in con.sql(
        "SELECT DISTINCT f.address, r.address FROM transfers t "
        "JOIN addresses f ON f.address_id = t.from_id JOIN addresses r ON r.address_id = t.to_id "
        "WHERE t.kind IN ('native', 'internal', 'token')"
    ).fetchall():
        sent.setdefault(a, set()).add(b)
    out: dict[str, int] = {}
    for addr, info in roles.items():
        if info.get("role") != "deposit" or addr in found:
            continue
        dsts = sent.get(addr, set())
        hot = {d for d in dsts if roles.get(d, {}).get("role") == "hot_wallet"}
        if not dsts:
            reason = "never swept (still holds the deposits)"
        elif hot and not hot & named:
            reason = "swept to a hot wallet no tag names"
        else:
            reason = "swept, but not almost all of it to one named hot wallet"
        out[reason] = out.get(reason, 0) + 1
    return out


if __name__ == "__main__":
    main()
