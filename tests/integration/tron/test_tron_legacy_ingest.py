"""The built-in markets over the node API: ingest asks the stub node for the records the
legacy contracts need (a token's sale price, an exchange's pair, an order's owner), once
per run, and stores the moves with the protocol's pools as pseudo-addresses that the read
commands show as they are.

Constructed answers (not recorded), from tronprotocol/protocol's field names: see
tests/unit/chains/tron/test_tron_legacy.py for each contract's arithmetic.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fundtrail.chains.tron.decode import address
from fundtrail.chains.tron.ingest import ingest_rpc
from fundtrail.chains.tron.stub import NodeData, TronStub, list_trc10, make_block, open_exchange
from fundtrail.chains.tron.stub import contract_tx as _tx
from fundtrail.chainstore.store import ChainStore
from fundtrail.cli.main import app
from fundtrail.errors import SourceError
from fundtrail.model.chains import get_chain

BUYER, ISSUER, TRADER = ("41" + c * 40 for c in "567")
TOKEN_HEX, TRX_HEX = b"1000001".hex(), b"_".hex()


def _node() -> NodeData:
    """Block 1: a TRC-10 sale and a swap on exchange 3; block 2: another swap there."""
    buy = _tx(
        "ParticipateAssetIssueContract",
        {
            "owner_address": BUYER,
            "to_address": ISSUER,
            "asset_name": TOKEN_HEX,
            "amount": 6_000_000,
        },
    )
    swaps = [_tx("ExchangeTransactionContract",
                 {"owner_address": TRADER, "exchange_id": 3, "token_id": TRX_HEX,
                  "quant": q, "expected": 1}) for q in (1_000_000, 2_000_000)]  # fmt: skip
    node = NodeData()
    parent = "00" * 32
    for n, txs, got in ((1, [buy, swaps[0]], 4), (2, [swaps[1]], 7)):
        block = make_block(n, parent, 1_540_000_000_000 + 3000 * n, txs)
        node.blocks[n] = block
        node.infos[n] = [{"id": t["txID"], "blockNumber": n, "exchange_id": 3,
                          "exchange_received_amount": got} for t in txs]  # fmt: skip
        parent = block["blockID"]
    list_trc10(node, ISSUER, {"1000001": "Old"}, num=2)
    open_exchange(node, 3, ISSUER, (TOKEN_HEX, 1000), (TRX_HEX, 10**9))
    return node


def _balances(home: Path) -> dict[tuple[str, str | None], int]:
    con = ChainStore(get_chain("TRX"), home).connect()
    try:
        rows = con.execute(
            """SELECT a.address, s.contract, sum(m.value)::BIGINT FROM (
                 SELECT to_id AS id, asset_id, value::HUGEINT AS value FROM transfers
                 UNION ALL SELECT from_id, asset_id, -value::HUGEINT FROM transfers) m
               JOIN addresses a ON a.address_id = m.id JOIN assets s USING (asset_id)
               GROUP BY ALL HAVING sum(m.value) <> 0"""
        ).fetchall()
        kinds = dict(con.execute("SELECT address, script_type FROM addresses").fetchall())
    finally:
        con.close()
    assert kinds["tron-dex:3"] == "pseudo"
    return {(a, c): v for a, c, v in rows}


def test_legacy_contracts_ingest_with_their_records_looked_up_once(home: Path) -> None:
    with TronStub(_node()) as stub:
        ingest_rpc(stub.url, start=1, batch_blocks=1)
        calls = dict(stub.calls)
    assert calls["/wallet/getexchangebyid"] == 1  # two batches, one exchange: asked once
    assert calls["/wallet/getassetissuebyid"] >= 1
    b = {k: v for k, v in _balances(home).items() if k[0] != "T9yD14Nj9j7xAB4dbGeiX9h8unkKHxuWwb"}
    buyer, issuer, trader = address(BUYER), address(ISSUER), address(TRADER)
    assert b == {
        (buyer, None): -6_000_000, (buyer, "1000001"): 12,  # 6 TRX at 2 tokens per TRX
        (issuer, None): 6_000_000, (issuer, "1000001"): -12,
        (trader, None): -3_000_000, (trader, "1000001"): 11,  # 4 + 7 out of the pool
        ("tron-dex:3", None): 3_000_000, ("tron-dex:3", "1000001"): -11,
    }  # fmt: skip
    res = CliRunner().invoke(app, ["address", trader, "--chain", "tron", "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["balance"] == -3_000_000
    swap = _node().blocks[2]["transactions"][0]["txID"]
    res = CliRunner().invoke(app, ["tx", swap, "--chain", "tron"], env={"COLUMNS": "240"})
    assert res.exit_code == 0, res.output
    assert "tron-dex:3" in res.output, res.output


def test_a_node_without_the_exchange_record_stops_ingest_naming_it(home: Path) -> None:
    node = _node()
    node.exchanges.clear()
    with TronStub(node) as stub, pytest.raises(SourceError, match="no record of its exchange"):
        ingest_rpc(stub.url, start=1)
    assert not ChainStore(get_chain("TRX"), home).meta.get("evm_next")  # nothing stored


def test_a_trace_converts_at_a_bancor_pool_though_no_tag_names_it(home: Path) -> None:
    """The protocol's exchanges are services by construction: a victim's TRX sold there
    for the token is followed as the token, at the transaction's rate, both ways."""
    from fundtrail.analysis.trace.request import TraceRequest
    from fundtrail.analysis.trace.service import trace

    node = _node()
    victim = "41" + "8" * 40
    pay = _tx("TransferContract", {"owner_address": victim, "to_address": TRADER,
                                   "amount": 1_500_000})  # fmt: skip
    block = make_block(3, node.blocks[2]["blockID"], 1_540_000_009_000, [pay])
    node.blocks[3] = block
    node.infos[3] = [{"id": pay["txID"], "blockNumber": 3}]
    sell = _tx("ExchangeTransactionContract", {"owner_address": TRADER, "exchange_id": 3,
                                               "token_id": TRX_HEX, "quant": 1_500_000,
                                               "expected": 1})  # fmt: skip
    node.blocks[4] = make_block(4, block["blockID"], 1_540_000_012_000, [sell])
    node.infos[4] = [{"id": sell["txID"], "blockNumber": 4, "exchange_id": 3,
                      "exchange_received_amount": 5}]  # fmt: skip
    with TronStub(node) as stub:
        ingest_rpc(stub.url, start=1)
    r = trace(TraceRequest.parse("tron", [pay["txID"]]))
    (swap,) = r.summary["swaps"]
    assert (swap["pool"], swap["txid"]) == ("tron-dex:3", sell["txID"])
    # the trader's 1.5 TRX were all the victim's (its earlier TRX went into the pool first)
    (bought,) = swap["bought"]
    assert (bought["amount"], bought["paid_back"]) == (5, 5)
    held = [(e.address, e.asset, e.amount) for e in r.endpoints]
    assert held == [(address(TRADER), "OLD (1000001)", 5)]
    # backward from the swap: the tokens the pool paid turn back through it into the TRX
    # that paid for them, the same 1.5 TRX the swap's other leg traces: the victim's, once
    back = trace(TraceRequest.parse("tron", [sell["txID"]], direction="backward"))
    assert [(e.address, e.asset, e.amount) for e in back.endpoints] == [
        (address(victim), "TRX", 1_500_000)]  # fmt: skip
    (swap,) = back.summary["swaps"]
    assert swap["direction"] == "backward" and swap["bought"]["amount"] == 5
    assert swap["sold"] == [{"asset": "TRX", "amount": 1_500_000, "paid_in": 1_500_000}]
