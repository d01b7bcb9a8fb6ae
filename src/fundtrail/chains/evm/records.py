"""What one EVM block contributes to the ledger, whatever it was read from (RPC or files).

Both readers (``ingest`` over JSON-RPC, ``etl_files`` over ethereum-etl exports) produce
:class:`BlockRecord` objects; ``rows`` turns them into chain-store rows. Value that
appears or disappears outside a transaction's ``from -> to`` has a *pseudo-address*
as its other side, so every balance is ``sum(in) - sum(out)`` exactly:

===============  ====================================================================
``genesis``      genesis allocations (kind ``genesis``)
``burn``         EIP-1559 base fee and EIP-4844 blob fee, destroyed (kind ``burn``)
``mint``         block and uncle rewards, created by the protocol (kind ``reward``)
``beacon``       beacon-chain withdrawals credited after Shanghai (kind ``reward``)
===============  ====================================================================

TRON's built-in markets hold value in the protocol's own ledgers, which are pseudo-addresses
too (see ``chains/tron/legacy.py``): ``tron-dex:N`` (Bancor exchange N), ``tron-orderbook``
and ``shielded-pool``. They get ids when first met, like any address; what each is
(and whether a trace ends there) is said in ``chains/pseudo.py``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from fundtrail.chains.pseudo import (  # the protocol ledgers are described in one place
    BEACON,
    BURN,
    DEX_POOL_PREFIX,
    GENESIS,
    MINT,
    ORDER_BOOK,
    PSEUDO_ADDRESSES,
    SHIELDED_POOL,
    is_pseudo,
)

TRANSFER_TOPIC = "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef"

__all__ = [
    "BEACON", "BURN", "DEX_POOL_PREFIX", "GENESIS", "MINT", "ORDER_BOOK", "PSEUDO_ADDRESSES",
    "SHIELDED_POOL", "TRANSFER_TOPIC", "BlockRecord", "Move", "TxRecord", "is_pseudo",
]  # fmt: skip


@dataclass(slots=True)
class TxRecord:
    """A transaction with its receipt: who paid what gas, and whether it succeeded."""

    hash: str
    index: int
    sender: str
    to: str | None  # None: contract creation (see ``created``)
    value: int
    gas_used: int
    gas_price: int  # effective gas price actually paid, wei per gas
    status: int  # 1 success, 0 failed (failed txs pay gas, move nothing)
    created: str | None = None  # contract address a creation made
    blob_fee: int = 0  # EIP-4844 blob gas fee, burned

    @property
    def fee(self) -> int:
        return self.gas_used * self.gas_price


@dataclass(slots=True)
class Move:
    """A value movement other than a transaction's own value and gas."""

    kind: str  # internal | token | reward | genesis
    sender: str
    receiver: str
    value: int
    tx_hash: str | None = None
    tx_index: int = -1
    log_index: int = -1
    trace_index: int = -1
    contract: str | None = None  # token contract; None for the native coin


@dataclass(slots=True)
class BlockRecord:
    number: int
    hash: str
    parent_hash: str
    time: int
    miner: str
    base_fee: int | None
    gas_used: int
    txs: list[TxRecord] = field(default_factory=list)
    moves: list[Move] = field(default_factory=list)
    uncles: int = 0  # how many uncle (ommer) headers the block includes

    def token_contracts(self) -> set[str]:
        return {m.contract for m in self.moves if m.contract is not None}

    def addresses(self) -> set[str]:
        found = {self.miner}
        for tx in self.txs:
            found.add(tx.sender)
            if tx.to is not None:
                found.add(tx.to)
            if tx.created is not None:
                found.add(tx.created)
        for m in self.moves:
            found.add(m.sender)
            found.add(m.receiver)
        return {a for a in found if not is_pseudo(a)}
