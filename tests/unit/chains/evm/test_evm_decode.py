"""Decoding node answers: ERC-20 Transfer logs (standard and not), ABI strings, strictness."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fundtrail.chains.evm.decode import (
    DecodeError,
    abi_string,
    abi_uint8,
    address,
    calltracer_moves,
    parity_moves,
    qty,
    token_transfer,
)
from fundtrail.chains.evm.records import TRANSFER_TOPIC, BlockRecord, TxRecord

DATA = Path(__file__).resolve().parents[3] / "data" / "evm"
A = "0x" + "11" * 20
B = "0x" + "22" * 20
TOKEN = "0x" + "33" * 20


def _word(hex_body: str) -> str:
    return "0x" + hex_body.rjust(64, "0")


def _log(topics: list[str], data: str) -> dict[str, object]:
    return {"topics": topics, "data": data, "address": TOKEN, "logIndex": "0x5",
            "transactionHash": "0x" + "ab" * 32, "transactionIndex": "0x1"}  # fmt: skip


def test_real_logs_decode_to_ethereum_etl_token_transfers() -> None:
    logs = list(csv.DictReader((DATA / "etl/csv_483920/logs.csv").open()))
    expected = list(csv.DictReader((DATA / "rpc/block_483920/expected_token_transfers.csv").open()))
    got = []
    for row in logs:
        log = {"topics": row["topics"].split(","), "data": row["data"], "address": row["address"],
               "logIndex": hex(int(row["log_index"])), "transactionHash": row["transaction_hash"],
               "transactionIndex": hex(int(row["transaction_index"]))}  # fmt: skip
        m = token_transfer(log)
        assert m is not None
        got.append((m.contract, m.sender, m.receiver, str(m.value), m.tx_hash, str(m.log_index)))
    assert got == [
        (e["token_address"], e["from_address"], e["to_address"], e["value"],
         e["transaction_hash"], e["log_index"])
        for e in expected
    ]  # fmt: skip


def test_non_standard_transfer_with_everything_in_data() -> None:
    # some early tokens index nothing: from, to and value are three data words
    data = "0x" + A[2:].rjust(64, "0") + B[2:].rjust(64, "0") + hex(10**30)[2:].rjust(64, "0")
    m = token_transfer(_log([TRANSFER_TOPIC], data))
    assert m is not None and (m.sender, m.receiver, m.value, m.log_index) == (A, B, 10**30, 5)


def test_all_indexed_transfer_reads_the_fourth_topic_as_value() -> None:
    topics = [TRANSFER_TOPIC, _word(A[2:]), _word(B[2:]), _word("7")]
    m = token_transfer(_log(topics, "0x"))
    assert m is not None and m.value == 7


@pytest.mark.parametrize(
    ("topics", "data"),
    [
        ([TRANSFER_TOPIC, _word(A[2:])], _word("1")),  # three words: not ERC-20 shaped
        ([TRANSFER_TOPIC, _word(A[2:]), _word(B[2:])], "0x"),  # value missing
        (["0x" + "00" * 32, _word(A[2:]), _word(B[2:])], _word("1")),  # another event
        ([], "0x"),
    ],
)
def test_logs_that_are_not_erc20_transfers_are_skipped(topics: list[str], data: str) -> None:
    assert token_transfer(_log(topics, data)) is None


def test_removed_logs_are_skipped_and_bad_data_is_an_error() -> None:
    topics = [TRANSFER_TOPIC, _word(A[2:]), _word(B[2:])]
    assert token_transfer({**_log(topics, _word("1")), "removed": True}) is None
    with pytest.raises(DecodeError, match="log data is not hex"):
        token_transfer(_log(topics, "0xzz"))


def test_abi_strings_and_bytes32_symbols() -> None:
    eos = "0x454f53" + "00" * 29
    assert abi_string(eos) == "EOS"  # bytes32 symbol (EOS, MKR style)
    eth = _word("20") + _word("3")[2:] + "455448".ljust(64, "0")
    assert abi_string(eth) == "ETH"
    assert abi_string("0x") is None and abi_string(None) is None
    assert abi_string(_word("20") + _word("0")[2:]) is None  # empty string: unknown
    assert abi_string("0x" + "ff" * 32) is None  # not text
    assert abi_uint8(_word("12")) == 18 and abi_uint8(_word("1000")) is None
    assert abi_uint8("0x") is None


def test_quantities_and_addresses_are_strict() -> None:
    assert qty("0x1bc16d674ec80000", "value") == 2 * 10**18
    for bad in ("12", "0x", 12, None, "0xg1"):
        if bad == "0x":
            assert qty(bad, "v") == 0
            continue
        with pytest.raises(DecodeError, match="v is not a hex quantity"):
            qty(bad, "v")
    assert address(A.upper().replace("0X", "0x"), "to") == A
    with pytest.raises(DecodeError, match="to is not a 20-byte address"):
        address("0x1234", "to")


def _error_block() -> tuple[BlockRecord, list[TxRecord]]:
    block = BlockRecord(1000895, "0x" + "00" * 32, "0x" + "00" * 32, 0, A, None, 0)
    txs = [
        TxRecord("0xa2f089480e6fd907e786a88d928ba20feeca2ca37ffa84c2d54bae42f5d989c9", 0,
                 "0xad9253df75b066c67aff5cdd9d6d2b9245444726",
                 "0x627da06356442122f08e2203c749978151e55800", 10**18, 21000, 1, 1),
        TxRecord("0xc7fec96b2dd4cadaade2721dc9b5386a39ab00e96e7c1060e441f273801b39de", 1,
                 "0x9288fe5be3be048b5c7a68bfd4b9a0746b7e4a00",
                 "0xe05ff93a9978bbb48356accc74088f3841fc5d72", 11 * 10**17, 21000, 1, 1),
    ]  # fmt: skip
    block.txs.extend(txs)
    return block, txs


@pytest.mark.parametrize("style", ["geth", "parity"])
def test_pre_byzantium_failure_is_read_from_the_top_trace(style: str) -> None:
    """Block 1000895: the first transaction ran out of gas; its receipt has no status."""
    block, txs = _error_block()
    folder = DATA / "traces" / style / "block_with_error"
    answer = json.loads(next(folder.glob("web3_response.*.json")).read_text())["result"]
    moves = calltracer_moves(block, answer) if style == "geth" else parity_moves(block, answer)
    assert [tx.status for tx in txs] == [0, 1]
    assert [m.kind for m in moves] == ([] if style == "geth" else ["reward"])


def test_mainnet_rewards_equal_what_trace_block_reported() -> None:
    """Block 508110 (one uncle): parity reported 5.15625 ETH to the miner and 3.75 ETH for
    the uncle; the uncle's header is not in the fixtures, 508108 is the uncle number that
    the 3.75 ETH implies (two blocks back)."""
    from fundtrail.chains.evm.rewards import base_reward, reward_moves

    miner = "0x2a65aca4d5fc5b5c859090a6c34d164135398226"
    block = BlockRecord(508110, "0x" + "00" * 32, "0x" + "00" * 32, 0, miner, None, 0, uncles=1)
    moves = reward_moves(block, [(508108, miner)])
    assert [(m.receiver, m.value) for m in moves] == [
        (miner, 5_156_250_000_000_000_000),
        (miner, 3_750_000_000_000_000_000),
    ]
    expected = [
        json.loads(x)
        for x in (DATA / "traces/parity/blocks_508110_508110/expected_traces.json")
        .read_text()
        .splitlines()
    ]
    parity = sorted(t["value"] for t in expected if t["trace_type"] == "reward")
    assert sorted(m.value for m in moves) == parity
    assert [base_reward(n) for n in (0, 4_370_000, 7_280_000, 15_537_393, 15_537_394)] == [
        5 * 10**18,
        3 * 10**18,
        2 * 10**18,
        2 * 10**18,
        0,
    ]


@given(
    st.binary(min_size=20, max_size=20),
    st.binary(min_size=20, max_size=20),
    st.integers(min_value=0, max_value=2**256 - 1),
)
def test_indexed_and_data_only_transfers_decode_the_same(frm: bytes, to: bytes, value: int) -> None:
    standard = _log([TRANSFER_TOPIC, _word(frm.hex()), _word(to.hex())], _word(f"{value:x}"))
    data_only = _log([TRANSFER_TOPIC], "0x" + frm.hex().rjust(64, "0") + to.hex().rjust(64, "0")
                     + f"{value:x}".rjust(64, "0"))  # fmt: skip
    a, b = token_transfer(standard), token_transfer(data_only)
    assert a is not None and b is not None
    assert (a.sender, a.receiver, a.value) == (b.sender, b.receiver, b.value)
    assert (a.sender, a.receiver, a.value) == ("0x" + frm.hex(), "0x" + to.hex(), value)
