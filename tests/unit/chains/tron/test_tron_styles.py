"""The TRON simulation's styles do what their knobs say, read back from the node's answers.

Every check decodes ``tron/node.json`` with the ingest's own decoder (``decode_block``), so
it sees what ``fundtrail ingest tron`` will store: single-use deposit addresses are paid
once by the gang, deposits left unswept at the end never move their money on, a gang held
to one exchange cashes out there only, batched TRX withdrawals are one multi-send call with
an internal transaction per customer, mules who are customers share their deposit address
with their own deposits, and the default style writes the same bytes whatever knobs exist.
"""

from __future__ import annotations

import json
import statistics
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from fundtrail.chains.simulate import run
from fundtrail.chains.simulate.style import Style
from fundtrail.chains.tron.decode import decode_block
from fundtrail.chains.tron.stub import NodeData
from fundtrail.errors import InvalidInputError


@dataclass(frozen=True)
class Pay:
    """One value movement the ingest stores: TRX (a transaction's own value or an internal
    transaction) or USDT (a Transfer log)."""

    block: int
    txid: str
    sender: str
    receiver: str
    value: int
    asset: str  # TRX or USDT
    internal: bool = False


def _world(tmp: Path, style: str, seed: int = 4, txs: int = 2500) -> dict[str, Any]:
    run("investment-scam", tmp, seed=seed, txs=txs, chain="tron", style=style)
    return json.loads((tmp / "truth.json").read_text())


def _pays(tmp: Path) -> list[Pay]:
    node = NodeData.from_json(json.loads((tmp / "tron" / "node.json").read_text()))
    out: list[Pay] = []
    for n in sorted(node.blocks):
        rec = decode_block(node.blocks[n], node.infos.get(n))
        for tx in rec.txs:
            if tx.value and tx.to is not None:
                out.append(Pay(n, tx.hash, tx.sender, tx.to, tx.value, "TRX"))
        for m in rec.moves:
            asset = "TRX" if m.contract is None else "USDT"
            out.append(Pay(n, str(m.tx_hash), m.sender, m.receiver, m.value, asset,
                           m.kind == "internal"))  # fmt: skip
    return out


def _role(truth: dict[str, Any], address: str) -> str:
    return str(truth["addresses"].get(address, {}).get("role", ""))


def _gang_paid(truth: dict[str, Any], pays: list[Pay]) -> Counter[str]:
    """Payments into each cash-out deposit address from the gang's own wallets."""
    gang = {c["operator"] for c in truth["campaigns"]}
    deposits = {c["deposit_address"] for c in truth["cashouts"]}
    owner = truth["addresses"]
    return Counter(p.receiver for p in pays if p.receiver in deposits
                   and owner.get(p.sender, {}).get("entity") in gang)  # fmt: skip


def test_the_default_style_is_the_simulations_own_habits(tmp_path: Path) -> None:
    _world(tmp_path / "a", "default")
    _world(tmp_path / "b", "deposits=reused,withdrawal_batch=5-120,sweep_chance=0.15")
    for name in ("tron/node.json", "truth.json", "complaints.csv", "tags.yaml"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    assert "style" not in json.loads((tmp_path / "a" / "truth.json").read_text())


def test_single_use_deposits_are_paid_once_by_the_gang(tmp_path: Path) -> None:
    reused = _world(tmp_path / "reused", "default")
    assert max(_gang_paid(reused, _pays(tmp_path / "reused")).values()) > 1
    truth = _world(tmp_path / "single", "single-use-deposits")
    deposits = [c["deposit_address"] for c in truth["cashouts"]]
    assert len(deposits) > 20 and len(set(deposits)) == len(deposits)
    paid = _gang_paid(truth, _pays(tmp_path / "single"))
    assert set(paid) == set(deposits) and set(paid.values()) == {1}
    assert truth["style"]["deposits"] == "single-use"


def test_deposits_unswept_at_the_end_hold_their_money(tmp_path: Path) -> None:
    truth = _world(tmp_path, "unswept_end=0.5,deposits=single-use")
    unswept = {c["deposit_address"] for c in truth["cashouts"] if not c["swept"]}
    swept = {c["deposit_address"] for c in truth["cashouts"] if c["swept"]}
    assert unswept and swept
    pays = _pays(tmp_path)
    sent = {p.sender for p in pays}
    assert not unswept & sent  # never moved anything on: each holds what the gang paid it
    assert swept <= sent
    hot = {a for a in truth["addresses"] if _role(truth, a) == "hot_wallet"}
    assert {p.receiver for p in pays if p.sender in swept and p.asset == "USDT"} <= hot
    got: Counter[tuple[str, str]] = Counter()  # the exchange's gas top-ups left out
    for p in pays:
        if p.receiver in unswept and p.sender not in hot:
            got[p.receiver, p.asset] += p.value
    paid: Counter[tuple[str, str]] = Counter()
    for c in truth["cashouts"]:
        if not c["swept"]:
            paid[c["deposit_address"], c["asset"]] += c["amount"]
    assert got == paid


def test_slow_sweeps_leave_deposits_waiting_longer(tmp_path: Path) -> None:
    def waits(truth: dict[str, Any], pays: list[Pay]) -> list[int]:
        """Blocks from a cash-out deposit address's first receipt to its first sweep."""
        deposits = {c["deposit_address"] for c in truth["cashouts"]}
        first_in: dict[str, int] = {}
        first_out: dict[str, int] = {}
        for p in pays:
            if p.receiver in deposits:
                first_in.setdefault(p.receiver, p.block)
            if p.sender in deposits:
                first_out.setdefault(p.sender, p.block)
        return [first_out[a] - first_in[a] for a in first_out]

    fast = waits(_world(tmp_path / "a", "default"), _pays(tmp_path / "a"))
    truth = _world(tmp_path / "b", "slow-sweeps")
    slow = waits(truth, _pays(tmp_path / "b"))
    assert statistics.median(slow) > 3 * max(1, statistics.median(fast))
    assert any(not c["swept"] for c in truth["cashouts"])


def test_long_peels_pay_out_a_smaller_share_per_hop(tmp_path: Path) -> None:
    def median_share(style: str) -> float:
        """Median share of a hop's USDT paid to the deposit (the rest goes one hop on)."""
        truth = _world(tmp_path / style, style)
        pays = _pays(tmp_path / style)
        sent: Counter[str] = Counter()
        for p in pays:
            if p.asset == "USDT":
                sent[p.sender] += p.value
        head = {p.txid: p.sender for p in pays if p.asset == "USDT"}
        shares = [c["amount"] / sent[head[c["txid"]]] for c in truth["cashouts"]
                  if c["via"] == "peel" and c["asset"] == "USDT"
                  and sent[head[c["txid"]]] > c["amount"]]  # fmt: skip
        return statistics.median(shares)

    long, own, short = (median_share(s) for s in ("long-peels", "default", "short-peels"))
    assert long < 0.05 and 0.1 < own < 0.2 and short > 0.25


def test_a_gang_held_to_one_exchange_cashes_out_there(tmp_path: Path) -> None:
    assert len({c["exchange"] for c in _world(tmp_path / "d", "default")["cashouts"]}) > 1
    assert len({c["exchange"] for c in _world(tmp_path / "one", "one-exchange")["cashouts"]}) == 1
    two = _world(tmp_path / "two", "two-exchanges")["cashouts"]
    assert len({c["exchange"] for c in two}) == 2


def test_batched_withdrawals_are_one_multi_send_call(tmp_path: Path) -> None:
    truth = _world(tmp_path, "big-batches")
    contract = next(a for a in truth["addresses"] if _role(truth, a) == "batch_contract")
    pays = _pays(tmp_path)
    internal = [p for p in pays if p.internal and p.sender == contract]
    by_tx = Counter(p.txid for p in internal)
    assert by_tx and max(by_tx.values()) >= 5  # one call pays many customers
    calls = {p.txid: p for p in pays if not p.internal and p.receiver == contract}
    assert {_role(truth, calls[t].sender) for t in by_tx} == {"hot_wallet"}
    assert {_role(truth, p.receiver) for p in internal} == {"receive"}
    for txid in by_tx:  # the contract pays out exactly the TRX it was sent
        assert calls[txid].value == sum(p.value for p in internal if p.txid == txid)
    default = _world(tmp_path / "d", "default")
    assert not any(_role(default, a) == "batch_contract" for a in default["addresses"])


def test_mules_who_are_customers_share_their_deposit_address(tmp_path: Path) -> None:
    def users_paying_gang_deposits(style: str) -> int:
        truth = _world(tmp_path / style, style, txs=5000)
        deposits = {c["deposit_address"] for c in truth["cashouts"]}
        return len({p.receiver for p in _pays(tmp_path / style) if p.receiver in deposits
                    and _role(truth, p.sender) == "receive"})  # fmt: skip

    assert users_paying_gang_deposits("default") == 0
    assert users_paying_gang_deposits("mule-customers") > 3


def test_busy_exchanges_take_more_deposits_from_ordinary_users(tmp_path: Path) -> None:
    def user_deposits(style: str) -> int:
        truth = _world(tmp_path / style, style)
        return sum(_role(truth, p.sender) == "receive" and _role(truth, p.receiver) == "deposit"
                   for p in _pays(tmp_path / style))  # fmt: skip

    assert user_deposits("busy-exchanges") > 1.3 * user_deposits("default")


def test_a_style_is_refused_only_where_there_is_no_crime(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="no crime"):
        run("background", tmp_path, txs=500, chain="btc", style="long-peels")
    with pytest.raises(InvalidInputError, match="unknown style"):
        run("investment-scam", tmp_path, txs=500, chain="tron", style="sloppy")


def test_the_style_is_recorded_in_the_truth(tmp_path: Path) -> None:
    truth = _world(tmp_path, "field,gang_exchanges=1", txs=1500)
    assert truth["style"] == Style.parse("field,gang_exchanges=1").to_dict()
    assert len({c["exchange"] for c in truth["cashouts"]}) == 1
