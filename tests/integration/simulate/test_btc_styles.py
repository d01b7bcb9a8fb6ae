"""The simulator's laundering styles do what their knobs say, on the chain itself.

Each world is read back with python-bitcoinlib (not fundtrail's parser) and its truth
checked against the blocks: single-use deposit addresses are paid once, shared ransom
addresses take many victims, a gang held to one exchange cashes out there only,
deposits still unswept at the end are unspent, and every style conserves value.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from bitcoin.core import CBlock, b2lx

from fundtrail.chains.simulate import run
from fundtrail.chains.simulate.style import PRESETS, Style
from fundtrail.errors import InvalidInputError


def _replay(blocks: Path) -> tuple[dict[tuple[str, int], int], Counter[str], set[tuple[str, int]]]:
    """(every output's value, payments per address script hex, unspent outpoints)."""
    outputs: dict[tuple[str, int], int] = {}
    paid: Counter[str] = Counter()
    unspent: set[tuple[str, int]] = set()
    for path in sorted(blocks.glob("blk*.dat")):
        data, off = path.read_bytes(), 0
        while off < len(data):
            n = int.from_bytes(data[off + 4 : off + 8], "little")
            block = CBlock.deserialize(data[off + 8 : off + 8 + n])
            off += 8 + n
            for tx in block.vtx:
                txid = b2lx(tx.GetTxid())
                value_in = 0
                if not tx.is_coinbase():
                    for i in tx.vin:
                        point = (b2lx(i.prevout.hash), i.prevout.n)
                        unspent.remove(point)
                        value_in += outputs[point]
                    assert value_in >= sum(o.nValue for o in tx.vout), f"{txid} creates money"
                for k, o in enumerate(tx.vout):
                    outputs[(txid, k)] = o.nValue
                    unspent.add((txid, k))
                    paid[bytes(o.scriptPubKey).hex()] += 1
    return outputs, paid, unspent


def _world(tmp: Path, style: str, seed: int = 2, txs: int = 1500) -> tuple[dict, tuple]:
    run("mixed", tmp, seed=seed, txs=txs, style=style)
    truth = json.loads((tmp / "truth.json").read_text())
    return truth, _replay(tmp / "blocks")


def test_every_preset_parses_and_records_its_knobs() -> None:
    for name in PRESETS:
        assert isinstance(Style.parse(name), Style)
    s = Style.parse("long-peels,gang_exchanges=1,withdrawal_batch=3")
    assert (s.peel_share, s.gang_exchanges, s.withdrawal_batch) == (0.03, 1, (3, 3))
    assert Style.parse("").is_default and Style.parse("default").is_default
    with pytest.raises(InvalidInputError, match=r"mules_are_customers=.maybe. is not a bool"):
        Style.parse("mules_are_customers=maybe")


def test_single_use_deposits_are_paid_once_each(tmp_path: Path) -> None:
    truth, _ = _world(tmp_path, "single-use-deposits")
    assert truth["style"]["deposits"] == "single-use"
    deposits = [c["deposit_address"] for c in truth["cashouts"]]
    assert len(deposits) > 20 and len(set(deposits)) == len(deposits)
    default, _ = _world(tmp_path / "d", "default")
    reused = [c["deposit_address"] for c in default["cashouts"]]
    assert len(set(reused)) < len(reused) / 3  # the simulator's own habit: one per mule


def test_victims_pay_shared_or_unique_addresses(tmp_path: Path) -> None:
    shared, _ = _world(tmp_path / "s", "shared-addresses")
    unique, _ = _world(tmp_path / "u", "unique-addresses")
    rs = {c["kind"]: c for c in shared["campaigns"]}
    ru = {c["kind"]: c for c in unique["campaigns"]}
    assert rs["ransomware"]["victims"] > 10 and len(rs["ransomware"]["collection_addresses"]) <= 3
    scam = ru["investment-scam"]
    assert len(scam["collection_addresses"]) == len(scam["complaint_ids"]) > 10


def test_a_gang_held_to_one_exchange_cashes_out_there_only(tmp_path: Path) -> None:
    truth, _ = _world(tmp_path, "one-exchange")
    per_campaign: dict[str, set[str]] = {}
    for c in truth["cashouts"]:
        per_campaign.setdefault(c["campaign"], set()).add(c["exchange"])
    assert len(per_campaign) == 2 and all(len(v) == 1 for v in per_campaign.values())


def test_deposits_left_unswept_at_the_end_are_unspent(tmp_path: Path) -> None:
    truth, (_, _, unspent) = _world(tmp_path, "unswept")
    assert truth["style"]["unswept_end"] == 0.5
    cashouts = [(c["txid"], c["vout"]) for c in truth["cashouts"]]
    left = [p for p in cashouts if p in unspent]
    assert left and len(left) < len(cashouts)  # early ones swept, late ones still there
    default, (_, _, unspent_d) = _world(tmp_path / "d", "default")
    left_d = [(c["txid"], c["vout"]) for c in default["cashouts"]]
    assert sum(p in unspent_d for p in left_d) < len(left) / 2


def test_the_field_style_conserves_value_and_keeps_its_truth(tmp_path: Path) -> None:
    truth, (outputs, _, _) = _world(tmp_path, "field", seed=5)
    for c in truth["cashouts"]:
        assert outputs[(c["txid"], c["vout"])] == c["amount"]
    assert {c["kind"] for c in truth["campaigns"]} == {"investment-scam", "ransomware"}
