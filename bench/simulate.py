"""Benchmark the scenario simulator: transactions per second and peak memory.

    .venv/bin/python bench/simulate.py              # 100k txs, Bitcoin, mixed scenario
    .venv/bin/python bench/simulate.py --txs 1000000
    .venv/bin/python bench/simulate.py --chain evm --txs 200000

Each run happens in a fresh child process so its peak RSS is its own. Ratios
are taken against references measured in the same process: reading the
written blocks back with python-bitcoinlib (the cost of merely parsing what
the simulator serialized), and encoding the addresses one by one with the
reference bech32 encoder instead of the vectorised one.
"""

from __future__ import annotations

import argparse
import json
import resource
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

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


def simulate(scenario: str, out: Path, txs: int, chain: str) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, "-c", CHILD, scenario, str(out), str(txs), chain],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def parse_reference(blocks: Path, limit: int) -> tuple[int, float]:
    """python-bitcoinlib deserializing the first ``limit`` transactions' blocks."""
    from bitcoin.core import CBlock

    data = (blocks / "blk00000.dat").read_bytes()
    off, txs = 0, 0
    t0 = time.process_time()
    while off < len(data) and txs < limit:
        (n,) = struct.unpack_from("<I", data, off + 4)
        txs += len(CBlock.deserialize(data[off + 8 : off + 8 + n]).vtx)
        off += 8 + n
    return txs, time.process_time() - t0


def encoding_ratio(n: int = 50_000) -> tuple[float, float]:
    from fundtrail.chains.simulate.btc.addrtext import segwit_batch
    from fundtrail.model.encoding import segwit_encode

    programs = np.random.default_rng(1).integers(0, 256, (n, 20), dtype=np.uint8)
    t0 = time.process_time()
    segwit_batch(0, programs)
    fast = time.process_time() - t0
    rows = [bytes(p) for p in programs[:5000]]
    t0 = time.process_time()
    for p in rows:
        segwit_encode("bc", 0, p)
    slow = (time.process_time() - t0) * n / len(rows)
    return n / fast, slow / fast


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--txs", type=int, default=100_000)
    ap.add_argument("--scenario", default="mixed")
    ap.add_argument("--chain", default="btc", choices=("btc", "evm"))
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "sim"
        r = simulate(args.scenario, out, args.txs, args.chain)
        tps_wall, tps_cpu = r["txs"] / r["wall"], r["txs"] / r["cpu"]
        print(f"simulate {args.scenario} on {args.chain}: {r['txs']:,.0f} txs, "
              f"{r['blocks']:,.0f} blocks, {r['addresses']:,.0f} addresses")  # fmt: skip
        print(f"  wall {r['wall']:.1f} s ({tps_wall:,.0f} tx/s), cpu {r['cpu']:.1f} s "
              f"({tps_cpu:,.0f} tx/s per core), peak RSS {r['rss_mb']:.0f} MB")  # fmt: skip
        print(f"  1M txs at this rate: {1e6 / tps_cpu:.0f} s of CPU")
        if args.chain == "btc":
            n, secs = parse_reference(out / "blocks", min(r["txs"], 20_000))
            print(f"  ratio: simulate+serialize vs python-bitcoinlib parse of the same txs: "
                  f"{(n / secs) / tps_cpu:.2f}x slower than just reading them")  # fmt: skip
    per_s, speedup = encoding_ratio()
    print(
        f"  address text: {per_s:,.0f} bech32/s vectorised, {speedup:.0f}x the one-by-one encoder"
    )
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"  (benchmark process itself: {own:.0f} MB)")


if __name__ == "__main__":
    main()
