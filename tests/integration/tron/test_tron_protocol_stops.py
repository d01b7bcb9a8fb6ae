"""The protocol's own venues end every walk, whatever the tags say: a trace, campaign
linking and screening exposure stop at TRON's built-in exchange pools (services every
trader shares) and at the shielded pool (a privacy pool: what enters is reported; who
withdrew is not tainted by it).

One small world over the stub node (constructed answers, field names from
tronprotocol/protocol; see tests/unit/chains/tron/test_tron_legacy.py):

* block 1: victim V1 pays gang G1 6 TRX, victim V2 pays gang G2 9 TRX; Z (a zen-token
  holder) pays G1 1,000 and G2 800 of the shielded token;
* block 2: G1 and G2 each pay the mule M 100 zen tokens, sell their TRX into exchange 3
  for OLD tokens, and shield the rest of their zen tokens (900 and 700);
* block 3: an ordinary trader T sells OLD into exchange 3 and is paid 4 TRX out of the
  pool; W unshields 490 zen tokens.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from fundtrail.chains.tron.decode import address
from fundtrail.chains.tron.ingest import ingest_rpc
from fundtrail.chains.tron.stub import (
    OLD_TOKEN,
    TRX_TOKEN,
    ZEN_TOKEN,
    NodeData,
    TronStub,
    add_old_zen_market,
    make_block,
)
from fundtrail.chains.tron.stub import contract_tx as _tx
from fundtrail.chainstore.store import ChainStore
from fundtrail.model.chains import get_chain

V1, V2, G1, G2, Z, M, T, W, ISSUER = ("41" + c * 40 for c in "123456789")
OLD, ZEN, TRX = OLD_TOKEN, ZEN_TOKEN, TRX_TOKEN


def _pay(frm: str, to: str, amount: int, asset: str | None = None) -> dict[str, Any]:
    if asset is None:
        return _tx("TransferContract", {"owner_address": frm, "to_address": to, "amount": amount})
    return _tx("TransferAssetContract", {"owner_address": frm, "to_address": to,
                                         "asset_name": asset, "amount": amount})  # fmt: skip


def _swap(owner: str, token: str, quant: int) -> dict[str, Any]:
    return _tx("ExchangeTransactionContract", {"owner_address": owner, "exchange_id": 3,
                                               "token_id": token, "quant": quant,
                                               "expected": 1})  # fmt: skip


def _shield(owner: str, amount: int) -> dict[str, Any]:
    return _tx(
        "ShieldedTransferContract",
        {"transparent_from_address": owner, "from_amount": amount, "binding_signature": owner},
    )


WORLD: dict[str, Any] = {}


def _world() -> NodeData:
    """The blocks of the module docstring; ``WORLD`` names its transactions."""
    pays = [_pay(V1, G1, 6_000_000), _pay(V2, G2, 9_000_000), _pay(Z, G1, 1_000, ZEN),
            _pay(Z, G2, 800, ZEN), _pay(ISSUER, T, 50, OLD)]  # fmt: skip
    gangs = [_pay(G1, M, 100, ZEN), _pay(G2, M, 100, ZEN), _swap(G1, TRX, 6_000_000),
             _swap(G2, TRX, 9_000_000), _shield(G1, 900), _shield(G2, 700)]  # fmt: skip
    unshield = _tx("ShieldedTransferContract", {"transparent_to_address": W, "to_amount": 490,
                                                "binding_signature": "ff"})  # fmt: skip
    later = [_swap(T, OLD, 40), unshield]
    got = {gangs[2]["txID"]: 60, gangs[3]["txID"]: 90, later[0]["txID"]: 4_000_000}
    node, parent = NodeData(), "00" * 32
    for n, txs in ((1, pays), (2, gangs), (3, later)):
        block = make_block(n, parent, 1_600_000_000_000 + 3000 * n, txs)
        node.blocks[n], parent = block, block["blockID"]
        node.infos[n] = [
            {"id": t["txID"], "blockNumber": n, "exchange_id": 3,
             "exchange_received_amount": got.get(t["txID"], 0), "shielded_transaction_fee": 10}
            if t["raw_data"]["contract"][0]["type"] != "TransferContract"
            and t["raw_data"]["contract"][0]["type"] != "TransferAssetContract"
            else {"id": t["txID"], "blockNumber": n}
            for t in txs
        ]  # fmt: skip
    add_old_zen_market(node, ISSUER)
    WORLD.update(pays=pays, gangs=gangs, later=later)
    return node


def _ingest(home: Path) -> ChainStore:
    with TronStub(_world()) as stub:
        ingest_rpc(stub.url, start=1)
    return ChainStore(get_chain("TRX"), home)


def _ids(store: ChainStore) -> dict[str, int]:
    con = store.connect()
    try:
        rows = con.execute("SELECT address_id, address FROM addresses").fetchall()
        return {a: int(i) for i, a in rows}
    finally:
        con.close()


def test_a_trace_into_the_shielded_pool_ends_there_as_a_privacy_pool(home: Path) -> None:
    from fundtrail.analysis.trace.request import TraceRequest
    from fundtrail.analysis.trace.service import trace

    _ingest(home)
    into_g1 = WORLD["pays"][2]["txID"]  # Z pays G1 1,000 zen tokens
    r = trace(TraceRequest.parse("tron", [into_g1]))
    ends = sorted((e.address, e.kind, e.amount, (e.entity or {}).get("label"),
                   (e.entity or {}).get("category")) for e in r.endpoints)  # fmt: skip
    assert ends == [
        (address(M), "held", 100, None, None),
        ("shielded-pool", "cash-out", 900, "TRON shielded pool", "mixer"),
    ]  # W's withdrawal out of the pool is not the gang's money
    assert r.summary["totals"]["ZEN (000000)"]["cash-out"] == 900


def test_exposure_reaches_the_pools_and_nobody_paid_out_of_them(home: Path) -> None:
    from fundtrail.analysis.trace.exposure import indirect_exposure

    store = _ingest(home)
    ids = _ids(store)
    found = indirect_exposure(store, np.array([ids[address(G1)]]), hops=3, home=home)
    name = {i: a for a, i in ids.items()}
    share = {name[int(a)]: float(s) for a, s in zip(found.address, found.share, strict=True)}
    # what G1 paid into the pools is reported there, and M's half of its zen tokens
    assert {"tron-dex:3", "shielded-pool", address(M)} <= set(share), share
    assert share[address(M)] == 0.5
    # the trader paid TRX out of the pool later, and W who withdrew from the shielded
    # pool, received none of G1's money: the pools pass nothing on
    assert address(T) not in share and address(W) not in share, share


def test_two_gangs_at_one_pool_are_not_linked_through_it(home: Path) -> None:
    from fundtrail.analysis.link.meet import Payment, meetings

    _ingest(home)
    pays = [p["txID"] for p in WORLD["pays"]]
    found = meetings("TRX", [
        Payment(0, pays[0], None, 6_000_000), Payment(1, pays[1], None, 9_000_000),
        Payment(0, pays[2], -1, 1_000), Payment(1, pays[3], -1, 800),
    ], 2, home=home).meetings  # fmt: skip
    # both gangs sold TRX at exchange 3 and shielded zen tokens: neither pool links them;
    # the mule both paid does
    assert [(m.a, m.b, m.where) for m in found] == [(0, 1, address(M))], found
