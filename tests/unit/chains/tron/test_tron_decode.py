"""TRON answers decoded into exact moves: real transaction infos (tests/data/tron)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from fundtrail.chains.tron.decode import address, decode_block, trc10_id
from fundtrail.chains.tron.stub import make_block
from fundtrail.errors import SourceError

DATA = Path(__file__).resolve().parents[3] / "data" / "tron"
OWNER_HEX = "416e3b44b96104b26f84057974a1f0c9880f7c9b13"  # an account of transactions.json


def _infos() -> dict[str, dict[str, Any]]:
    return {i["id"][:8]: i for i in json.loads((DATA / "infos.json").read_text())}


def _call(txid: str, ret: str) -> dict[str, Any]:
    """A USDT call by OWNER (the body is not recorded for these infos; only the info is)."""
    value = {"owner_address": OWNER_HEX, "contract_address": "41a614f803b6fd780986a42c78ec9c7f77e6ded13c",
             "data": "a9059cbb"}  # fmt: skip
    return {"txID": txid, "ret": [{"contractRet": ret}],
            "raw_data": {"contract": [{"type": "TriggerSmartContract", "parameter": {"value": value}}]}}  # fmt: skip


def test_addresses_in_every_spelling_are_one_base58check_address() -> None:
    assert (
        address("41a614f803b6fd780986a42c78ec9c7f77e6ded13c")
        == "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t"
    )
    assert (
        address("a614f803b6fd780986a42c78ec9c7f77e6ded13c") == "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t"
    )
    assert address("0x" + "0" * 24 + "a614f803b6fd780986a42c78ec9c7f77e6ded13c") == (
        "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t"
    )
    with pytest.raises(SourceError, match="not a TRON address"):
        address("42" + "00" * 20)
    assert trc10_id("1005065") == "1005065"
    assert trc10_id("54726f6e696373") == "Tronics"  # before ids, a TRC-10 was named in hex


def test_a_usdt_transfer_log_is_exact_in_token_units() -> None:
    info = _infos()["b69c51db"]
    blk = make_block(66861993, "00" * 32, 1731235554000, [_call(info["id"], "SUCCESS")])
    rec = decode_block(blk, [info])
    (move,) = rec.moves
    assert (move.kind, move.contract, move.value) == (
        "token",
        "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t",
        3500000,
    )
    assert move.sender == address("60e6e92e57d61a9d68b5d95275cc9667d9e6c7c9")
    assert move.receiver == address("cdae4e9a6287333a3f7df432b050af7b17e79e63")
    assert rec.txs[0].fee == 345000 and rec.txs[0].status == 1


def test_a_failed_call_pays_its_fee_and_moves_nothing() -> None:
    info = _infos()["e63a324a"]
    blk = make_block(66860010, "00" * 32, 1731229605000, [_call(info["id"], "OUT_OF_ENERGY")])
    rec = decode_block(blk, [info])
    assert rec.moves == []
    (tx,) = rec.txs
    assert (tx.status, tx.fee, tx.value) == (0, 16500120, 0)


def test_a_block_whose_infos_are_missing_is_refused() -> None:
    info = _infos()["b69c51db"]
    blk = make_block(66861993, "00" * 32, 1731235554000, [_call(info["id"], "SUCCESS")])
    with pytest.raises(SourceError, match="no transaction info"):
        decode_block(blk, [])
