"""bench/indep_world: the independent world's truth agrees with its chain and its complaints.

The project's own block parser reads the blocks back (every block valid: merkle root,
proof of work, chained from genesis, no output spent twice); every complaint names a real
output paying that address that amount; the complaints of a campaign add up to its loss
in truth; every true cash-out is an output to an exchange's deposit address.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[3] / "bench"
if str(BENCH) not in sys.path:
    sys.path.insert(0, str(BENCH))

from fundtrail.chains.bitcoin.blkfile import iter_blocks  # noqa: E402
from fundtrail.chains.bitcoin.genesis import GENESIS_HASH  # noqa: E402
from fundtrail.chains.bitcoin.parse import merkle_root, parse_block  # noqa: E402
from fundtrail.chains.bitcoin.script import classify  # noqa: E402
from indep_world import generate  # noqa: E402


def test_the_truth_matches_the_blocks_and_the_complaints(tmp_path: Path) -> None:
    truth = generate(7, 1500, tmp_path)
    outputs: dict[tuple[str, int], tuple[str | None, int]] = {}
    spent: set[tuple[str, int]] = set()
    prev, blocks = bytes.fromhex(GENESIS_HASH)[::-1], 0
    for f in sorted((tmp_path / "blocks").glob("blk*.dat")):
        for raw in iter_blocks(f.read_bytes(), f.name):
            block = parse_block(raw.data)
            assert block.header.prev_hash == prev
            assert merkle_root([t.hash for t in block.txs]) == block.header.merkle_root
            bits = block.header.bits
            target = (bits & 0xFFFFFF) << (8 * ((bits >> 24) - 3))
            assert int.from_bytes(block.header.hash, "little") <= target
            prev, blocks = block.header.hash, blocks + 1
            for tx in block.txs:
                for txin in tx.inputs[1 if tx.is_coinbase else 0 :]:
                    key = (txin[0][::-1].hex(), txin[1])
                    assert key in outputs and key not in spent, "spends an unknown or spent output"
                    spent.add(key)
                for n, (value, script) in enumerate(tx.outputs):
                    outputs[(tx.txid, n)] = (classify(script)[1], value)
    assert blocks == truth["blocks"] and sum(1 for _ in outputs) > 1500

    with open(tmp_path / "complaints.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    by_id = {r["complaint_id"]: r for r in rows}
    for r in rows:
        assert outputs[(r["txid"], int(r["vout"]))] == (r["to_address"], int(r["amount"]))
    assert len(by_id) == sum(len(c["complaint_ids"]) for c in truth["campaigns"])
    for camp in truth["campaigns"]:
        total = sum(int(by_id[k]["amount"]) for k in camp["complaint_ids"])
        assert {"BTC": total} == camp["total_loss"] and total > 0
        assert {by_id[k]["to_address"] for k in camp["complaint_ids"]} <= set(
            camp["collection_addresses"]
        )
    kinds = {c["kind"] for c in truth["campaigns"]}
    assert kinds == {"scam", "ransomware"}

    role = truth["addresses"]
    assert truth["cashouts"]
    for c in truth["cashouts"]:
        assert outputs[(c["txid"], c["vout"])] == (c["deposit_address"], c["amount"])
        assert role[c["deposit_address"]] == {"entity": c["exchange"], "role": "deposit"}
