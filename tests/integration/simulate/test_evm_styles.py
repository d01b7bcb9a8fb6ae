"""The EVM simulation's styles do what their knobs say, read back from the CSV files.

Single-use deposit addresses are paid once, a gang held to one exchange cashes out there
only, batched withdrawals are internal transfers of one call from a hot wallet, deposits
left unswept at the end hold what they got (truth says so), and the default style writes
the same bytes whatever knobs exist.
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from pathlib import Path

from fundtrail.chains.simulate import run


def _world(tmp: Path, style: str, txs: int = 2500) -> dict:
    run("mixed", tmp, seed=4, txs=txs, chain="evm", style=style)
    return json.loads((tmp / "truth.json").read_text())


def _rows(tmp: Path, name: str) -> list[dict[str, str]]:
    with open(tmp / "evm" / name, newline="") as fh:
        return list(csv.DictReader(fh))


def _paid(tmp: Path, roles: dict[str, dict[str, str]]) -> Counter[str]:
    """Payments into every address (ETH and token transfers), an exchange's gas top-ups of
    its own deposit addresses left out."""
    n: Counter[str] = Counter()
    for t in _rows(tmp, "traces.csv"):
        own = roles.get(t["from_address"], {}).get("role") == "hot_wallet"
        if int(t["value"] or 0) > 0 and t["trace_type"] == "call" and not own:
            n[t["to_address"]] += 1
    for t in _rows(tmp, "token_transfers.csv"):
        n[t["to_address"]] += 1
    return n


def test_the_default_style_is_the_simulations_own_habits(tmp_path: Path) -> None:
    _world(tmp_path / "a", "default")
    _world(tmp_path / "b", "deposits=reused,withdrawal_batch=5-120")  # the defaults, spelt out
    for name in ("traces.csv", "token_transfers.csv", "transactions.csv"):
        assert (tmp_path / "a" / "evm" / name).read_bytes() == (
            tmp_path / "b" / "evm" / name
        ).read_bytes()
    assert "style" not in json.loads((tmp_path / "a" / "truth.json").read_text())


def test_single_use_deposits_are_paid_once(tmp_path: Path) -> None:
    truth = _world(tmp_path, "single-use-deposits")
    deposits = [c["deposit_address"] for c in truth["cashouts"]]
    assert len(deposits) > 20 and len(set(deposits)) == len(deposits)
    paid = _paid(tmp_path, truth["addresses"])
    assert all(paid[d] == 1 for d in deposits)  # ETH or tokens, once
    assert truth["style"]["deposits"] == "single-use"


def test_a_gang_held_to_one_exchange_cashes_out_there(tmp_path: Path) -> None:
    truth = _world(tmp_path, "one-exchange")
    per_campaign: dict[str, set[str]] = {}
    for c in truth["cashouts"]:
        per_campaign.setdefault(c["campaign"], set()).add(c["exchange"])
    assert per_campaign and all(len(ex) == 1 for ex in per_campaign.values())


def test_batched_withdrawals_are_internal_transfers_of_one_call(tmp_path: Path) -> None:
    truth = _world(tmp_path, "big-batches")
    roles = truth["addresses"]
    contract = next(a for a, info in roles.items() if info["role"] == "batch_contract")
    internal = [t for t in _rows(tmp_path, "traces.csv")
                if t["from_address"] == contract and t["trace_address"]]  # fmt: skip
    by_tx = Counter(t["transaction_hash"] for t in internal)
    assert by_tx and max(by_tx.values()) >= 5  # one call pays many customers (every 20 blocks)
    calls = {t["hash"]: t for t in _rows(tmp_path, "transactions.csv")}
    callers = {roles[calls[h]["from_address"]]["role"] for h in by_tx}
    assert callers == {"hot_wallet"}
    assert all(roles[t["to_address"]]["role"] == "receive" for t in internal)


def test_deposits_unswept_at_the_end_hold_their_money(tmp_path: Path) -> None:
    truth = _world(tmp_path, "unswept_end=0.5,deposits=single-use")
    unswept = {c["deposit_address"] for c in truth["cashouts"] if not c["swept"]}
    swept = {c["deposit_address"] for c in truth["cashouts"] if c["swept"]}
    assert unswept and swept
    sent = {t["from_address"] for t in _rows(tmp_path, "traces.csv") if int(t["value"] or 0)}
    sent |= {t["from_address"] for t in _rows(tmp_path, "token_transfers.csv")}
    assert not unswept & sent  # never moved anything on
    assert swept <= sent
