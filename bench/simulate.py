"""Benchmark the scenario simulator: its throughput and memory, and its two kernels against peers.

    .venv/bin/python bench/simulate.py              # 100k txs, Bitcoin, mixed scenario
    .venv/bin/python bench/simulate.py --txs 1000000
    .venv/bin/python bench/simulate.py --chain evm --txs 200000
    .venv/bin/python bench/simulate.py --record     # keep the run for the simulate guide

The whole simulation (scenario, wallets, keys, serialization, truth.json) has no peer
doing the same work, so its transactions/s and peak RSS are stated alone, with no ratio.
Each run happens in a fresh child process so its peak RSS is its own.

Two parts of it do have a peer, and each is compared on the same work, in the same
process, with the same warm-up (1) and runs (``--runs``, median), ``gc.collect()``
before each, CPU and wall time both taken:

- serialization: the simulated chain's own transactions (parsed from its blk file
  before any clock starts) serialized again, with their txid, wtxid and every block's
  merkle root, by fundtrail's serializer and by python-bitcoinlib (``CTransaction`` with
  its witness, ``serialize()``, ``GetTxid()``, ``GetHash()``,
  ``CBlock.build_merkle_tree_from_txids``); both must give the bytes in the file and
  the header's merkle root;
- address text: bech32 of the same witness programs, fundtrail's vectorised encoder
  against python-bitcoinlib's ``segwit_addr.encode`` (the BIP-173 reference code), one
  by one as its user would call it; both must give the same strings.

The references import nothing of fundtrail's.
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _record import Record, add_record_flag, recording

CHILD = """
import json, resource, sys, time
from pathlib import Path
from fundtrail.chains.simulate import run
t0, c0 = time.perf_counter(), time.process_time()
s = run(sys.argv[1], Path(sys.argv[2]), seed=1, txs=int(sys.argv[3]), chain=sys.argv[4])
print(json.dumps({"txs": s.txs, "blocks": s.blocks, "addresses": s.addresses,
                  "wall": time.perf_counter() - t0, "cpu": time.process_time() - c0,
                  "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

# A parsed transaction: (version, locktime, inputs, outputs) in plain Python values;
# inputs (prev hash, n, scriptSig, witness stack or None, sequence), outputs (value, script).
Tx = tuple[
    int, int, list[tuple[bytes, int, bytes, list[bytes] | None, int]], list[tuple[int, bytes]]
]
Block = tuple[bytes, list[Tx], list[bytes]]  # (merkle root, txs, raw txs)


def simulate(scenario: str, out: Path, txs: int, chain: str) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, "-c", CHILD, scenario, str(out), str(txs), chain],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def load_blocks(blocks: Path, limit: int) -> list[Block]:
    """The first blocks of blk00000.dat holding ``limit`` transactions, as plain values."""
    from bitcoin.core import CBlock

    data = (blocks / "blk00000.dat").read_bytes()
    out: list[Block] = []
    off, n_txs = 0, 0
    while off < len(data) and n_txs < limit:
        (size,) = struct.unpack_from("<I", data, off + 4)
        block = CBlock.deserialize(data[off + 8 : off + 8 + size])
        off += 8 + size
        txs: list[Tx] = []
        for tx in block.vtx:
            wits = tx.wit.vtxinwit if not tx.wit.is_null() else [None] * len(tx.vin)
            ins = [
                (
                    bytes(txin.prevout.hash),
                    txin.prevout.n,
                    bytes(txin.scriptSig),
                    None if w is None or not tx.has_witness() else list(w.scriptWitness.stack),
                    txin.nSequence,
                )
                for txin, w in zip(tx.vin, wits, strict=True)
            ]
            outs = [(o.nValue, bytes(o.scriptPubKey)) for o in tx.vout]
            txs.append((tx.nVersion, tx.nLockTime, ins, outs))
        out.append((bytes(block.hashMerkleRoot), txs, [t.serialize() for t in block.vtx]))
        n_txs += len(txs)
    return out


def ours_serialize(blocks: list[Block]) -> list[tuple[list[bytes], bytes]]:
    """fundtrail's serializer: raw bytes, txid and wtxid of every tx, each block's root."""
    from fundtrail.chains.simulate.btc.serialize import merkle_root, serialize_tx, txout

    out = []
    for _, txs, _ in blocks:
        raws, txids = [], []
        for version, locktime, ins, outs in txs:
            raw, txid, _wtxid = serialize_tx(ins, [txout(v, s) for v, s in outs], locktime, version)
            raws.append(raw)
            txids.append(txid)
        out.append((raws, merkle_root(txids)))
    return out


def reference_serialize(blocks: list[Block]) -> list[tuple[list[bytes], bytes]]:
    """python-bitcoinlib, as its user would build and serialize the same transactions."""
    from bitcoin.core import (
        CBlock,
        COutPoint,
        CTransaction,
        CTxIn,
        CTxInWitness,
        CTxOut,
        CTxWitness,
    )
    from bitcoin.core.script import CScript, CScriptWitness

    out = []
    for _, txs, _ in blocks:
        raws, txids = [], []
        for version, locktime, ins, outs in txs:
            vin = [CTxIn(COutPoint(h, n), CScript(sig), seq) for h, n, sig, _, seq in ins]
            vout = [CTxOut(v, CScript(s)) for v, s in outs]
            witness = CTxWitness()
            if any(w is not None for _, _, _, w, _ in ins):
                witness = CTxWitness(
                    [CTxInWitness(CScriptWitness(w or [])) for _, _, _, w, _ in ins]
                )
            tx = CTransaction(vin, vout, locktime, version, witness)
            raws.append(tx.serialize())
            txids.append(tx.GetTxid())
            tx.GetHash()  # the wtxid, as fundtrail's serializer returns it too
        out.append((raws, CBlock.build_merkle_tree_from_txids(txids)[-1]))
    return out


def timed(fn: Callable[[], Any], runs: int) -> tuple[Any, float, float]:
    """One warm-up, then ``runs`` runs after ``gc.collect()``: (result, median CPU, median wall)."""
    result = fn()
    cpu, wall = [], []
    for _ in range(runs):
        gc.collect()
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        cpu.append(time.process_time() - c0)
        wall.append(time.perf_counter() - t0)
    return result, statistics.median(cpu), statistics.median(wall)


def serialization(blocks: list[Block], runs: int, rec: Record) -> None:
    n = sum(len(txs) for _, txs, _ in blocks)
    ours, ours_cpu, ours_wall = timed(lambda: ours_serialize(blocks), runs)
    ref, ref_cpu, ref_wall = timed(lambda: reference_serialize(blocks), runs)
    for (root, _, raws), (o_raws, o_root), (r_raws, r_root) in zip(blocks, ours, ref, strict=True):
        assert o_raws == raws == r_raws, "a serializer disagrees with the blk file"
        assert o_root == root == r_root, "a merkle root disagrees with the header"
    print(f"  serialization of {n:,} of its txs ({len(blocks)} blocks: bytes, txid, wtxid, "
          f"merkle root; both equal the file), median of {runs}:")  # fmt: skip
    print(f"    fundtrail         cpu {ours_cpu * 1000:8.1f} ms  wall {ours_wall * 1000:8.1f} ms"
          f"  ({n / ours_cpu:,.0f} tx/s)")  # fmt: skip
    print(f"    python-bitcoinlib cpu {ref_cpu * 1000:8.1f} ms  wall {ref_wall * 1000:8.1f} ms"
          f"  ({n / ref_cpu:,.0f} tx/s)")  # fmt: skip
    ratio_cpu, ratio_wall = ref_cpu / ours_cpu, ref_wall / ours_wall
    print(f"    ratio {ratio_cpu:.1f}x CPU, {ratio_wall:.1f}x wall")
    rec.figure("serialize_vs_bitcoinlib", ratio_cpu, f"{ratio_cpu:.1f}×",
               f"serializing {n:,} simulated txs with txids and merkle roots, "
               "fundtrail vs python-bitcoinlib, CPU")  # fmt: skip


def address_text(runs: int, rec: Record, n: int = 20_000) -> None:
    from bitcoin.segwit_addr import encode

    from fundtrail.chains.simulate.btc.addrtext import segwit_batch

    programs = np.random.default_rng(1).integers(0, 256, (n, 20), dtype=np.uint8)
    rows = [bytes(p) for p in programs]
    ours, ours_cpu, _ = timed(lambda: segwit_batch(0, programs), runs)
    ref, ref_cpu, _ = timed(lambda: [encode("bc", 0, p) for p in rows], runs)
    assert ours == ref, "the two bech32 encoders disagree"
    ratio = ref_cpu / ours_cpu
    print(f"  address text, {n:,} P2WPKH programs (same strings), median of {runs}: "
          f"{n / ours_cpu:,.0f} bech32/s vectorised, {n / ref_cpu:,.0f}/s with "
          f"segwit_addr.encode one by one: {ratio:.1f}x")  # fmt: skip
    rec.figure("bech32_vs_reference", ratio, f"{ratio:.0f}×",
               f"bech32 of {n:,} programs, vectorised vs the BIP-173 reference encoder, CPU")  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--txs", type=int, default=100_000)
    ap.add_argument("--scenario", default="mixed")
    ap.add_argument("--chain", default="btc", choices=("btc", "evm"))
    ap.add_argument("--runs", type=int, default=5, help="measured runs of each kernel")
    ap.add_argument("--serialize-txs", type=int, default=20_000,
                    help="transactions re-serialized by both serializers")  # fmt: skip
    add_record_flag(ap)
    args = ap.parse_args()
    key = f"{args.chain}_{args.txs}"
    data = (
        f"synthetic: simulated {args.scenario} scenario on {args.chain}, seed 1, {args.txs:,} txs"
    )
    with (
        recording(f"simulate-{key}", args.record, data=data) as rec,
        tempfile.TemporaryDirectory(prefix="fundtrail-bench-sim-") as tmp,
    ):
        out = Path(tmp) / "sim"
        r = simulate(args.scenario, out, args.txs, args.chain)
        tps_wall, tps_cpu = r["txs"] / r["wall"], r["txs"] / r["cpu"]
        print(f"simulate {args.scenario} on {args.chain}: {r['txs']:,.0f} txs, "
              f"{r['blocks']:,.0f} blocks, {r['addresses']:,.0f} addresses")  # fmt: skip
        print(f"  wall {r['wall']:.1f} s ({tps_wall:,.0f} tx/s), cpu {r['cpu']:.1f} s "
              f"({tps_cpu:,.0f} tx/s per core), peak RSS {r['rss_mb']:.0f} MB")  # fmt: skip
        print("  (the whole simulation has no peer doing the same work: no ratio)")
        rec.figure("txs", r["txs"], f"{r['txs']:,.0f}", "transactions simulated")
        rec.figure("blocks", r["blocks"], f"{r['blocks']:,.0f}", "blocks written")
        rec.figure("addresses", r["addresses"], f"{r['addresses']:,.0f}", "addresses made")
        rec.figure("cpu_s", r["cpu"], f"{r['cpu']:.1f} s", "simulation CPU time")
        rec.figure("wall_s", r["wall"], f"{r['wall']:.1f} s", "simulation wall time")
        rec.figure("tps_cpu", tps_cpu, f"{tps_cpu:,.0f}", "transactions/s per core (CPU)")
        rec.figure("rss_mb", r["rss_mb"], f"{r['rss_mb']:.0f} MB", "peak RSS of the simulation")
        if args.chain == "btc":
            blocks = load_blocks(out / "blocks", min(int(r["txs"]), args.serialize_txs))
            serialization(blocks, args.runs, rec)
            address_text(args.runs, rec)


if __name__ == "__main__":
    main()
