"""Value moved by TRON's built-in markets: TRC-10 sales, Bancor exchanges, the order book
and the shielded pool.

These contracts move value without a ``to_address`` paying ``amount``; what moved is in the
transaction info (java-tron's actuators write it there) or, where the info is silent, in
a chain record the node serves (a token's issue, an exchange's pair, an order's owner).
Where the other side is not an account but the protocol's own ledger, it is a
*pseudo-address* (never an invented counterparty):

=====================  ===============================================================
``tron-dex:N``          Bancor exchange N (``ExchangeCreate/Inject/Withdraw/Transaction``)
``tron-orderbook``      the order book (``MarketSellAsset`` / ``MarketCancelOrder``)
``shielded-pool``       the shielded pool: ``ShieldedTransferContract``'s hidden side
=====================  ===============================================================

Per contract (field names from tronprotocol/protocol ``core/contract/*.proto`` and
``TransactionInfo``; semantics from java-tron's ``*Actuator.execute``):

* ``ParticipateAssetIssueContract``: ``amount`` sun owner -> ``to_address`` (the issuer),
  and ``floor(amount * num / trx_num)`` of the token issuer -> owner (``num``/``trx_num``
  from the token's issue record: the info does not say it).
* ``ExchangeCreateContract``: both opening balances owner -> ``tron-dex:N`` (N: the
  info's ``exchange_id``).
* ``ExchangeInjectContract``: ``quant`` of ``token_id`` and the info's
  ``exchange_inject_another_amount`` of the pair's other token, owner -> pool.
* ``ExchangeWithdrawContract``: ``quant`` and ``exchange_withdraw_another_amount``,
  pool -> owner.
* ``ExchangeTransactionContract``: ``quant`` of ``token_id`` owner -> pool, the info's
  ``exchange_received_amount`` of the other token pool -> owner.
* ``MarketSellAssetContract``: ``sell_token_quantity`` owner -> ``tron-orderbook``; per
  ``orderDetails`` entry, ``fillBuyQuantity`` of the buy token to the owner and
  ``fillSellQuantity`` of the sell token to the maker order's owner (from the order).
* ``MarketCancelOrderContract``: the order's ``sell_token_quantity_return`` of its sell
  token back to the owner (the order record keeps what was returned).
* ``ShieldedTransferContract``: ``from_amount`` ``transparent_from_address`` -> pool,
  ``to_amount`` pool -> ``transparent_to_address``, the info's
  ``shielded_transaction_fee`` pool -> ``burn``; all in the node's shielded token
  (java-tron's ``node.zenTokenId``).

Not recorded: a taker's or maker's dust that the order book returns when a match would
buy nothing (``sell_token_quantity_return`` at match time, in another order's record).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fundtrail.chains.evm.records import BURN, DEX_POOL_PREFIX, ORDER_BOOK, SHIELDED_POOL, Move
from fundtrail.chains.tron.fields import address, integer, trc10_id
from fundtrail.errors import SourceError

TRX_TOKEN = "_"  # how TRC-10 fields name TRX itself
SHIELDED_TOKEN = "000000"  # java-tron's default node.zenTokenId
LEGACY_CONTRACTS = frozenset(
    {
        "ParticipateAssetIssueContract", "ExchangeCreateContract", "ExchangeInjectContract",
        "ExchangeWithdrawContract", "ExchangeTransactionContract", "MarketSellAssetContract",
        "MarketCancelOrderContract", "ShieldedTransferContract",
    }
)  # fmt: skip


def pool(exchange_id: int) -> str:
    return f"{DEX_POOL_PREFIX}{exchange_id}"


@dataclass
class Records:
    """The chain records the decoding needs, as the node answered them: token issues by
    id (or old name), exchanges by id, market orders by id (hex)."""

    issues: dict[str, dict[str, Any]] = field(default_factory=dict)
    exchanges: dict[int, dict[str, Any]] = field(default_factory=dict)
    orders: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass
class Needs:
    """Which records a block's legacy contracts need looked up."""

    issues: set[str] = field(default_factory=set)
    exchanges: set[int] = field(default_factory=set)
    orders: set[str] = field(default_factory=set)

    def __bool__(self) -> bool:
        return bool(self.issues or self.exchanges or self.orders)


def needs(block: dict[str, Any], infos: list[dict[str, Any]]) -> Needs:
    """The records :func:`moves` will ask for, for the successful legacy contracts of a block."""
    out = Needs()
    by_id = {str(i.get("id")): i for i in infos if isinstance(i, dict)}
    for tx in block.get("transactions") or []:
        contract = ((tx.get("raw_data") or {}).get("contract") or [{}])[0]
        kind = contract.get("type")
        if kind not in LEGACY_CONTRACTS:
            continue
        value = (contract.get("parameter") or {}).get("value") or {}
        info = by_id.get(str(tx.get("txID") or "").lower()) or {}
        if kind == "ParticipateAssetIssueContract":
            out.issues.add(trc10_id(value.get("asset_name")))
        elif kind in ("ExchangeInjectContract", "ExchangeWithdrawContract",
                      "ExchangeTransactionContract"):  # fmt: skip
            out.exchanges.add(integer(value.get("exchange_id"), "exchange_id"))
        elif kind == "MarketSellAssetContract":
            out.orders |= {str(d.get("makerOrderId")) for d in info.get("orderDetails") or []}
        elif kind == "MarketCancelOrderContract":
            out.orders.add(str(value.get("order_id")))
    return out


@dataclass(slots=True)
class Legacy:
    """What one legacy contract contributes: the transaction's own ``to`` and TRX value
    (its ``native`` row) and the other moves."""

    to: str | None
    trx: int
    moves: list[Move]


def moves(
    kind: str,
    value: dict[str, Any],
    info: dict[str, Any],
    owner: str,
    txid: str,
    index: int,
    records: Records,
) -> Legacy:
    """The value a successful legacy contract moved (see the module docstring)."""
    what = f"tx {txid} ({kind})"
    out = Legacy(None, 0, [])

    def move(sender: str, receiver: str, token: str, amount: int) -> None:
        if amount <= 0:
            return
        if token == TRX_TOKEN:
            out.moves.append(Move("internal", sender, receiver, amount, txid, index))
        else:
            out.moves.append(Move("token", sender, receiver, amount, txid, index, -1, -1, token))

    if kind == "ParticipateAssetIssueContract":
        issuer = address(value.get("to_address"))
        token = trc10_id(value.get("asset_name"))
        paid = integer(value.get("amount"), f"{what} amount")
        issue = records.issues.get(token)
        if issuer is None:
            raise SourceError(f"{what}: no to_address (the token's issuer)")
        if not issue:
            raise SourceError(f"{what}: the node has no issue record of token {token} "
                              "(getassetissuebyid), so what was bought is unknown")  # fmt: skip
        trx_num, num = integer(issue.get("trx_num"), "trx_num"), integer(issue.get("num"), "num")
        if trx_num == 0:
            raise SourceError(f"{what}: token {token}'s issue record has trx_num 0")
        out.to, out.trx = issuer, paid
        move(issuer, owner, token, paid * num // trx_num)
    elif kind == "ExchangeCreateContract":
        where = pool(integer(info.get("exchange_id"), f"{what} exchange_id"))
        out.to = where
        for side in ("first", "second"):
            token = trc10_id(value.get(f"{side}_token_id"))
            amount = integer(value.get(f"{side}_token_balance"), f"{what} {side}_token_balance")
            if token == TRX_TOKEN:
                out.trx += amount
            else:
                move(owner, where, token, amount)
    elif kind in ("ExchangeInjectContract", "ExchangeWithdrawContract",
                  "ExchangeTransactionContract"):  # fmt: skip
        number = integer(value.get("exchange_id"), f"{what} exchange_id")
        where = pool(number)
        token = trc10_id(value.get("token_id"))
        other = _other_token(records.exchanges.get(number), token, what)
        quant = integer(value.get("quant"), f"{what} quant")
        out.to = where
        if kind == "ExchangeInjectContract":
            _pay(out, move, owner, where, token, quant)
            move(owner, where, other, integer(info.get("exchange_inject_another_amount"), what))
        elif kind == "ExchangeWithdrawContract":
            move(where, owner, token, quant)
            move(where, owner, other, integer(info.get("exchange_withdraw_another_amount"), what))
        else:
            _pay(out, move, owner, where, token, quant)
            move(where, owner, other, integer(info.get("exchange_received_amount"), what))
    elif kind == "MarketSellAssetContract":
        sell = trc10_id(value.get("sell_token_id"))
        buy = trc10_id(value.get("buy_token_id"))
        out.to = ORDER_BOOK
        _pay(out, move, owner, ORDER_BOOK, sell,
             integer(value.get("sell_token_quantity"), f"{what} sell_token_quantity"))  # fmt: skip
        for d in info.get("orderDetails") or []:
            move(ORDER_BOOK, owner, buy, integer(d.get("fillBuyQuantity"), f"{what} fill"))
            maker = _order_owner(records.orders.get(str(d.get("makerOrderId"))), what)
            move(ORDER_BOOK, maker, sell, integer(d.get("fillSellQuantity"), f"{what} fill"))
    elif kind == "MarketCancelOrderContract":
        order = records.orders.get(str(value.get("order_id"))) or {}
        _order_owner(order, what)  # the node must know the order it cancels
        out.to = ORDER_BOOK
        returned = integer(order.get("sell_token_quantity_return"), f"{what} return")
        move(ORDER_BOOK, owner, trc10_id(order.get("sell_token_id")), returned)
    elif kind == "ShieldedTransferContract":
        sender = address(value.get("transparent_from_address"))
        receiver = address(value.get("transparent_to_address"))
        if sender is not None:
            move(sender, SHIELDED_POOL, SHIELDED_TOKEN, integer(value.get("from_amount"), what))
        if receiver is not None:
            move(SHIELDED_POOL, receiver, SHIELDED_TOKEN, integer(value.get("to_amount"), what))
        fee = integer(info.get("shielded_transaction_fee"), f"{what} shielded_transaction_fee")
        move(SHIELDED_POOL, BURN, SHIELDED_TOKEN, fee)
        out.to = SHIELDED_POOL if receiver is None else receiver
    return out


def _pay(out: Legacy, move: Any, owner: str, where: str, token: str, amount: int) -> None:
    """What the owner puts in: TRX as the transaction's own value, a token as a move."""
    if token == TRX_TOKEN:
        out.trx += amount
    else:
        move(owner, where, token, amount)


def _other_token(exchange: dict[str, Any] | None, token: str, what: str) -> str:
    if not exchange:
        raise SourceError(f"{what}: the node has no record of its exchange (getexchangebyid)")
    first = trc10_id(exchange.get("first_token_id"))
    second = trc10_id(exchange.get("second_token_id"))
    if token == first:
        return second
    if token == second:
        return first
    raise SourceError(f"{what}: token {token} is not one of its exchange's ({first}, {second})")


def _order_owner(order: dict[str, Any] | None, what: str) -> str:
    who = address(order.get("owner_address")) if order else None
    if who is None:
        raise SourceError(f"{what}: the node has no record of an order it names "
                          "(getmarketorderbyid)")  # fmt: skip
    return who
