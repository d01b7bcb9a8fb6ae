"""TRON's built-in markets decoded into exact moves: TRC-10 sales, Bancor exchanges, the
order book and the shielded pool.

The answers here are constructed, not recorded (no recorded answer of these contracts was
found): built from the field names of tronprotocol/protocol (``core/contract/*.proto``,
``TransactionInfo``, ``Exchange``, ``MarketOrder``) with amounts chosen so that each
actuator's arithmetic (java-tron ``*Actuator.execute``) is exercised, e.g. a sale whose
price does not divide evenly.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from typing import Any

import pytest

from fundtrail.chains.tron.decode import address, decode_block
from fundtrail.chains.tron.legacy import Records, needs
from fundtrail.chains.tron.stub import make_block
from fundtrail.errors import SourceError

OWNER, ISSUER, MAKER, OTHER = ("41" + c * 40 for c in "1234")
TOKEN = "1000001"
TOKEN_HEX, TRX_HEX = TOKEN.encode().hex(), b"_".hex()
MAKER_ORDER, TAKER_ORDER = "aa" * 32, "bb" * 32
T = {h: address(h) for h in (OWNER, ISSUER, MAKER, OTHER)}


def _tx(kind: str, value: dict[str, Any], ret: str = "SUCCESS") -> dict[str, Any]:
    txid = hashlib.sha256(repr((kind, sorted(value.items()))).encode()).hexdigest()
    return {"txID": txid, "ret": [{"contractRet": ret}],
            "raw_data": {"contract": [{"type": kind, "parameter": {"value": value}}]}}  # fmt: skip


def _records() -> Records:
    # fmt: off
    return Records(
        issues={TOKEN: {"id": TOKEN, "owner_address": ISSUER, "trx_num": 2_000_000, "num": 3}},
        exchanges={7: {"exchange_id": 7, "creator_address": OWNER, "first_token_id": TRX_HEX,
                       "first_token_balance": 10**9, "second_token_id": TOKEN_HEX,
                       "second_token_balance": 500}},
        orders={MAKER_ORDER: {"order_id": MAKER_ORDER, "owner_address": MAKER,
                              "sell_token_id": TRX_HEX, "sell_token_quantity": 70},
                TAKER_ORDER: {"order_id": TAKER_ORDER, "owner_address": OWNER,
                              "sell_token_id": TOKEN_HEX, "sell_token_quantity": 10,
                              "sell_token_quantity_return": 3, "state": "CANCELED"}},
    )
    # fmt: on


def _decode(txs_infos: list[tuple[dict[str, Any], dict[str, Any]]]) -> Any:
    txs = [t for t, _ in txs_infos]
    infos = [{"id": t["txID"], **i} for t, i in txs_infos]
    block = make_block(5_000_000, "00" * 32, 1_540_000_000_000, txs)
    return decode_block(block, infos, _records()), block, infos


def _flows(rec: Any) -> Counter[tuple[str, str, str | None, int]]:
    """(from, to, asset, amount) of every move and every transaction's own TRX value."""
    out: Counter[tuple[str, str, str | None, int]] = Counter()
    for tx in rec.txs:
        if tx.status == 1 and tx.value:
            out[(tx.sender, tx.to, None, tx.value)] += 1
    for m in rec.moves:
        out[(m.sender, m.receiver, m.contract, m.value)] += 1
    return out


def test_buying_a_trc10_token_pays_the_issuer_and_credits_the_token_at_its_price() -> None:
    buy = _tx("ParticipateAssetIssueContract",
              {"owner_address": OWNER, "to_address": ISSUER, "asset_name": TOKEN_HEX,
               "amount": 3_333_333})  # fmt: skip
    rec, _, _ = _decode([(buy, {"fee": 0})])
    # 3.333333 TRX at 3 tokens per 2 TRX: floor(3333333 * 3 / 2000000) = 4
    assert _flows(rec) == Counter({(T[OWNER], T[ISSUER], None, 3_333_333): 1,
                                   (T[ISSUER], T[OWNER], TOKEN, 4): 1})  # fmt: skip


def test_bancor_exchange_moves_go_through_the_exchange_pool() -> None:
    pool = "tron-dex:7"
    create = _tx("ExchangeCreateContract",
                 {"owner_address": OWNER, "first_token_id": TRX_HEX, "first_token_balance": 10**9,
                  "second_token_id": TOKEN_HEX, "second_token_balance": 500})  # fmt: skip
    sell_trx = _tx("ExchangeTransactionContract",
                   {"owner_address": OTHER, "exchange_id": 7, "token_id": TRX_HEX,
                    "quant": 1_000_000, "expected": 1})  # fmt: skip
    sell_token = _tx("ExchangeTransactionContract",
                     {"owner_address": OTHER, "exchange_id": 7, "token_id": TOKEN_HEX,
                      "quant": 2, "expected": 1})  # fmt: skip
    inject = _tx(
        "ExchangeInjectContract",
        {"owner_address": OWNER, "exchange_id": 7, "token_id": TOKEN_HEX, "quant": 5},
    )
    withdraw = _tx(
        "ExchangeWithdrawContract",
        {"owner_address": OWNER, "exchange_id": 7, "token_id": TRX_HEX, "quant": 10**7},
    )
    failed = _tx("ExchangeTransactionContract",
                 {"owner_address": OTHER, "exchange_id": 7, "token_id": TRX_HEX, "quant": 99},
                 ret="REVERT")  # fmt: skip
    rec, block, infos = _decode([
        (create, {"exchange_id": 7, "fee": 1_024_000_000}),
        (sell_trx, {"exchange_id": 7, "exchange_received_amount": 3}),
        (sell_token, {"exchange_id": 7, "exchange_received_amount": 3_980_000}),
        (inject, {"exchange_id": 7, "exchange_inject_another_amount": 10_000_000}),
        (withdraw, {"exchange_id": 7, "exchange_withdraw_another_amount": 5}),
        (failed, {"exchange_id": 7, "result": "FAILED", "exchange_received_amount": 1}),
    ])  # fmt: skip
    assert needs(block, infos).exchanges == {7}
    assert _flows(rec) == Counter({
        (T[OWNER], pool, None, 10**9): 1, (T[OWNER], pool, TOKEN, 500): 1,  # opened
        (T[OTHER], pool, None, 1_000_000): 1, (pool, T[OTHER], TOKEN, 3): 1,  # TRX -> token
        (T[OTHER], pool, TOKEN, 2): 1, (pool, T[OTHER], None, 3_980_000): 1,  # token -> TRX
        (T[OWNER], pool, TOKEN, 5): 1, (T[OWNER], pool, None, 10_000_000): 1,  # injected
        (pool, T[OWNER], None, 10**7): 1, (pool, T[OWNER], TOKEN, 5): 1,  # withdrawn
    })  # fmt: skip
    assert rec.txs[0].fee == 1_024_000_000 and rec.txs[-1].status == 0
    # what the pool holds is what went in minus what came out, per asset, exactly
    held: Counter[str | None] = Counter()
    for (a, b, asset, v), k in _flows(rec).items():
        held[asset] += k * v * ((b == pool) - (a == pool))
    assert held == {
        None: 10**9 + 1_000_000 - 3_980_000 + 10_000_000 - 10**7,
        TOKEN: 500 - 3 + 2 + 5 - 5,
    }


def test_the_order_book_pays_taker_and_maker_and_returns_a_cancelled_rest() -> None:
    book = "tron-orderbook"
    sell = _tx("MarketSellAssetContract",
               {"owner_address": OWNER, "sell_token_id": TOKEN_HEX, "sell_token_quantity": 10,
                "buy_token_id": TRX_HEX, "buy_token_quantity": 100})  # fmt: skip
    cancel = _tx("MarketCancelOrderContract", {"owner_address": OWNER, "order_id": TAKER_ORDER})
    rec, block, infos = _decode([
        (sell, {"orderId": TAKER_ORDER, "orderDetails": [
            {"makerOrderId": MAKER_ORDER, "takerOrderId": TAKER_ORDER,
             "fillSellQuantity": 7, "fillBuyQuantity": 70}]}),
        (cancel, {}),
    ])  # fmt: skip
    assert needs(block, infos).orders == {MAKER_ORDER, TAKER_ORDER}
    assert _flows(rec) == Counter({
        (T[OWNER], book, TOKEN, 10): 1,  # the order locks what it sells
        (book, T[OWNER], None, 70): 1,  # the taker gets the maker's TRX
        (book, T[MAKER], TOKEN, 7): 1,  # the maker gets the taker's tokens
        (book, T[OWNER], TOKEN, 3): 1,  # cancelled: the unsold rest comes back
    })  # fmt: skip


def test_shielded_transfers_meet_the_pool_and_never_an_invented_counterparty() -> None:
    pool = "shielded-pool"
    shield = _tx(
        "ShieldedTransferContract",
        {"transparent_from_address": OWNER, "from_amount": 1_000, "binding_signature": "00"},
    )
    unshield = _tx(
        "ShieldedTransferContract",
        {"transparent_to_address": OTHER, "to_amount": 490, "binding_signature": "01"},
    )
    rec, _, _ = _decode([(shield, {"shielded_transaction_fee": 10}),
                         (unshield, {"shielded_transaction_fee": 10})])  # fmt: skip
    assert _flows(rec) == Counter({
        (T[OWNER], pool, "000000", 1_000): 1, (pool, "burn", "000000", 10): 2,
        (pool, T[OTHER], "000000", 490): 1,
    })  # fmt: skip
    assert [tx.sender for tx in rec.txs] == [T[OWNER], pool]


def test_a_record_the_node_does_not_have_is_said() -> None:
    swap = _tx(
        "ExchangeTransactionContract",
        {"owner_address": OTHER, "exchange_id": 8, "token_id": TRX_HEX, "quant": 1},
    )
    with pytest.raises(SourceError, match="no record of its exchange"):
        _decode([(swap, {"exchange_received_amount": 1})])
    buy = _tx(
        "ParticipateAssetIssueContract",
        {"owner_address": OWNER, "to_address": ISSUER, "asset_name": b"1000002".hex(), "amount": 5},
    )
    with pytest.raises(SourceError, match="no issue record of token 1000002"):
        _decode([(buy, {})])
    cancel = _tx("MarketCancelOrderContract", {"owner_address": OWNER, "order_id": "cc" * 32})
    with pytest.raises(SourceError, match="no record of an order"):
        _decode([(cancel, {})])
