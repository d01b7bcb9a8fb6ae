"""Benchmark: TRON ingest throughput over the java-tron HTTP API, and the share of the time
spent waiting on the node.

No TRON node can be installed here, so the node is the project's stub
(:mod:`fundtrail.chains.tron.stub`), run in a separate process (its JSON work does not
share our GIL) and serving, over real HTTP, the node's own answer format:

1. sim: ``fundtrail simulate --chain tron`` (the USDT investment scam, ``--txs``
   transactions, seed ``--seed``): TRX, USDT (TRC-20 logs), energy top-ups, sweeps;
2. real: the 5 recorded mainnet transactions of tests/data/tron (a USDT transfer, TRX to a
   new account, a TRC-10 transfer, a failed call, an unfreeze), copied with fresh txIDs
   into ``--real-blocks`` blocks of ``--real-per-block`` transactions each.

For each it prints transfers/s of the full ingest (fetch, decode, store; after a warm-up
ingest of 10 blocks into another store, since the address map's compiled code loads once a
process, some seconds here), the share of that time spent waiting on the node, and the ratio against a reference run in the same process:
a fetch-only pass over the same blocks (same client, ranges and concurrency; answers parsed
but not decoded or stored), the floor the node sets.

    python bench/ingest_tron.py [--txs 5000] [--real-blocks 300] [--batch-blocks 100] [--record]
"""

from __future__ import annotations

import argparse
import copy
import json
import multiprocessing as mp
import tempfile
import time
from pathlib import Path
from typing import Any

from _record import Record, add_record_flag, recording
from fundtrail.chains.tron.api import TronClient
from fundtrail.chains.tron.ingest import ingest_rpc
from fundtrail.chains.tron.stub import NodeData, TronStub, node_from_records

ROOT = Path(__file__).resolve().parents[1]
REAL = ROOT / "tests/data/tron/transactions.json"
FIRST_REAL = 69_000_000


def real_node(blocks: int, per_block: int) -> NodeData:
    """``blocks`` blocks each holding ``per_block`` copies of the recorded transactions
    (round robin), every copy with its own txID so that its info is its own."""
    recorded = json.loads(REAL.read_text())
    records = []
    for b in range(blocks):
        for j in range(per_block):
            tx = copy.deepcopy(recorded[(b * per_block + j) % len(recorded)])
            tx["txID"] = tx["txID"][:-16] + f"{b:08x}{j:08x}"
            tx["blockNumber"] = FIRST_REAL + b
            tx["block_timestamp"] = 1_700_000_000_000 + 3000 * b
            records.append(tx)
    return node_from_records(records, first=FIRST_REAL, last=FIRST_REAL + blocks - 1)


def sim_node(txs: int, seed: int) -> NodeData:
    from fundtrail.chains.simulate.service import run

    with tempfile.TemporaryDirectory(prefix="ledger-bench-") as out:
        run("investment-scam", Path(out) / "sim", seed=seed, txs=txs, chain="tron")
        raw = (Path(out) / "sim" / "tron" / "node.json").read_text()
    return NodeData.from_json(json.loads(raw))


def _serve(path: str, port_q: Any) -> None:
    node = NodeData.from_json(json.loads(Path(path).read_text()))
    stub = TronStub(node).start()
    port_q.put(stub.url)
    while True:
        time.sleep(3600)


def fetch_only(url: str, first: int, last: int, batch: int) -> float:
    """Reference: the same round trips, answers parsed, nothing decoded or stored."""
    started = time.perf_counter()
    with TronClient(url) as client:
        for n in range(first, last + 1, batch):
            blocks = client.blocks(list(range(n, min(n + batch, last + 1))))
            with_txs = [
                int(b["block_header"]["raw_data"]["number"])
                for b in blocks
                if b.get("transactions")
            ]
            client.map(client.tx_infos, with_txs)
    return time.perf_counter() - started


def measure(label: str, key: str, node: NodeData, batch: int, rec: Record) -> None:
    with tempfile.TemporaryDirectory(prefix="ledger-bench-") as tmp:
        path = Path(tmp) / "node.json"
        path.write_text(json.dumps(node.to_json()))
        ctx = mp.get_context("spawn")
        q: Any = ctx.Queue()
        proc = ctx.Process(target=_serve, args=(str(path), q), daemon=True)
        proc.start()
        try:
            url = q.get(timeout=120)
            first, last = min(node.blocks), node.head
            t0 = time.perf_counter()  # the address map's numba code loads once a process
            ingest_rpc(url, start=first, stop=first + 9, home=Path(tmp) / "warm")
            warm = time.perf_counter() - t0
            ref = fetch_only(url, first, last, batch)
            report = ingest_rpc(url, start=first, home=Path(tmp) / "home", batch_blocks=batch)
        finally:
            proc.terminate()
            proc.join(10)
    total, wait = report.seconds, report.node_seconds
    ours = total - wait
    rate = report.transfers / total
    print(f"== {label}: blocks {first}..{last}, {report.txs:,} txs, {report.transfers:,} transfers")
    print(f"   warm-up ingest    {warm:7.2f} s  (blocks {first}..{first + 9}, not counted)")
    print(f"   full ingest       {total:7.2f} s  {rate:10,.0f} transfers/s")
    print(f"   waiting on node   {wait:7.2f} s  ({wait / total:.0%})")
    print(f"   in fundtrail      {ours:7.2f} s")
    print(
        f"   reference (fetch only, same ranges) {ref:.2f} s; full ingest / reference = "
        f"{total / ref:.2f}x"
    )
    rec.figure(f"{key}_transfers_s", rate, f"{rate:,.0f} transfers/s",
               f"{label}: full ingest over the stub (fetch, decode, store)")  # fmt: skip
    rec.figure(f"{key}_wait_share", wait / total, f"{wait / total:.0%}",
               f"{label}: share of the ingest spent waiting on the stub node")  # fmt: skip
    rec.figure(f"{key}_vs_fetch", total / ref, f"{total / ref:.2f}x",
               f"{label}: full ingest time / fetch-only time, same ranges")  # fmt: skip
    rec.figure(f"{key}_transfers", report.transfers, f"{report.transfers:,}",
               f"{label}: transfers stored")  # fmt: skip


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--txs", type=int, default=5000, help="simulated transactions")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--real-blocks", type=int, default=300, help="blocks of real tx copies")
    p.add_argument("--real-per-block", type=int, default=20, help="tx copies per block")
    p.add_argument("--batch-blocks", type=int, default=100, help="blocks per batch and commit")
    add_record_flag(p)
    args = p.parse_args()
    data = (
        f"TRON USDT scam simulation ({args.txs:,} txs, seed {args.seed}) and "
        f"{args.real_blocks} blocks x {args.real_per_block} copies of 5 real mainnet txs, "
        "served by the local java-tron stub (a separate process) over HTTP"
    )
    with recording("ingest_tron", args.record, data=data) as rec:
        measure(f"simulated scam, {args.txs:,} txs", "sim", sim_node(args.txs, args.seed),
                args.batch_blocks, rec)  # fmt: skip
        measure(f"real txs x{args.real_blocks * args.real_per_block:,}", "real",
                real_node(args.real_blocks, args.real_per_block), args.batch_blocks, rec)  # fmt: skip


if __name__ == "__main__":
    main()
