"""A whole real mainnet block (79072107: 619 transactions, recorded as gRPC bytes, see
tests/data/tron/MANIFEST.md) served by the stub in the HTTP API's form and ingested over
it: the store must hold exactly the transfers the block's transactions carry.

The transfers expected are computed here from the block answer itself (not from
fundtrail's decoder), and that answer is checked against the hashed bytes by re-encoding
each transfer's parameter with the test's own protobuf encoder.

No transaction infos were recorded for this block, so the stub serves each transaction an
info with its id and block only (constructed, not recorded): fees, TRC-20 ``Transfer``
logs and internal transactions are not known, and the test asserts that none is invented
(the 150-odd USDT ``transfer`` calls in the block give no token rows without their logs).
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

from fundtrail.chains.tron import wire
from fundtrail.chains.tron.ingest import ingest_rpc
from fundtrail.chains.tron.stub import NodeData, TronStub
from fundtrail.chainstore.store import ChainStore
from fundtrail.model.chains import get_chain
from fundtrail.model.encoding import b58check_encode

DATA = Path(__file__).resolve().parents[2] / "data" / "tron"
N = 79072107


def _answer() -> dict[str, Any]:
    rec = json.loads((DATA / "blockext_79072107.json").read_text())
    return wire.block_answer(bytes.fromhex(rec["blockExtention"].removeprefix("0x")))


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        out.append((n & 0x7F) | (0x80 if n > 0x7F else 0))
        n >>= 7
        if not n:
            return bytes(out)


def _encode(fields: list[tuple[int, bytes | int]]) -> bytes:
    out = b""
    for number, value in fields:
        if isinstance(value, int):
            out += _varint(number << 3) + _varint(value)
        else:
            out += _varint(number << 3 | 2) + _varint(len(value)) + value
    return out


def _expected(answer: dict[str, Any]) -> Counter[tuple[str, str, str, str | None, int]]:
    """(txid, from, to, asset, amount) of every TRX and TRC-10 transfer in the answer, each
    one's parameter found byte for byte in the transaction's hashed raw_data."""
    out: Counter[tuple[str, str, str, str | None, int]] = Counter()
    b58 = lambda h: b58check_encode(bytes.fromhex(h))  # noqa: E731
    for tx in answer["transactions"]:
        assert tx["ret"][0]["contractRet"] == "SUCCESS"
        contract = tx["raw_data"]["contract"][0]
        v = contract["parameter"]["value"]
        raw = bytes.fromhex(tx["raw_data_hex"])
        if contract["type"] == "TransferContract":
            param = _encode([(1, bytes.fromhex(v["owner_address"])),
                             (2, bytes.fromhex(v["to_address"])), (3, v["amount"])])  # fmt: skip
            assert param in raw
            out[(tx["txID"], b58(v["owner_address"]), b58(v["to_address"]), None,
                 v["amount"])] += 1  # fmt: skip
        elif contract["type"] == "TransferAssetContract":
            param = _encode([(1, bytes.fromhex(v["asset_name"])),
                             (2, bytes.fromhex(v["owner_address"])),
                             (3, bytes.fromhex(v["to_address"])), (4, v["amount"])])  # fmt: skip
            assert param in raw
            token = bytes.fromhex(v["asset_name"]).decode()
            out[(tx["txID"], b58(v["owner_address"]), b58(v["to_address"]), token,
                 v["amount"])] += 1  # fmt: skip
        elif contract["type"] == "TriggerSmartContract" and v.get("call_value"):
            out[(tx["txID"], b58(v["owner_address"]), b58(v["contract_address"]), None,
                 v["call_value"])] += 1  # fmt: skip
    return out


def test_the_whole_recorded_block_ingests_to_exactly_its_transfers(home: Path) -> None:
    answer = _answer()
    t = answer["block_header"]["raw_data"]["timestamp"]
    infos = [{"id": tx["txID"], "blockNumber": N, "blockTimeStamp": t}
             for tx in answer["transactions"]]  # fmt: skip
    with TronStub(NodeData({N: answer}, {N: infos})) as stub:
        report = ingest_rpc(stub.url, start=N)
    assert (report.first, report.last, report.blocks, report.txs) == (N, N, 1, 619)
    expected = _expected(answer)
    assert sum(expected.values()) == 230 + 38  # TRX transfers + TRC-10 transfers
    con = ChainStore(get_chain("TRX"), home).connect()
    try:
        stored = Counter(
            con.execute(
                """SELECT t.tx_hash, f.address, r.address, a.contract, t.value::BIGINT
                   FROM transfers t JOIN addresses f ON f.address_id = t.from_id
                   JOIN addresses r ON r.address_id = t.to_id
                   JOIN assets a ON a.asset_id = t.asset_id"""
            ).fetchall()
        )
        txs = con.execute(
            "SELECT count(*), sum(status), sum(fee)::BIGINT FROM txs WHERE block = ?", [N]
        ).fetchone()
        block = con.execute("SELECT hash FROM blocks WHERE number = ?", [N]).fetchone()
    finally:
        con.close()
    assert stored == expected
    assert txs == (619, 619, 0)  # every one succeeded; no fee is known without the infos
    assert block == (answer["blockID"],)
