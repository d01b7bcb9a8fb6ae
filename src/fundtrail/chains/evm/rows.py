"""Turn :class:`BlockRecord` objects into chain-store rows (blocks, txs, transfers, ...).

Per transaction, in this order:

* ``native``: the transaction's value, ``from -> to`` (or the created contract), only
  when the transaction succeeded;
* ``fee``: the priority part of the gas fee, sender -> the block's miner;
* ``burn``: the base-fee part (``gas_used * base_fee``) plus any blob fee, sender ->
  the ``burn`` pseudo-address.

Before London there is no base fee and the whole fee goes to the miner. Failed
transactions pay gas and move nothing else. Then the block's other moves
(internal, token, reward, genesis) follow. So for every address and asset,
balance = sum of transfers in - sum of transfers out, exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from fundtrail.chains.evm.records import (
    BURN,
    PSEUDO_ADDRESSES,
    BlockRecord,
    Move,
    TxRecord,
    is_pseudo,
)
from fundtrail.chainstore.addressbook import AddressBook
from fundtrail.chainstore.schema import ACCOUNT_SCHEMAS, NATIVE_ASSET, NO_ADDRESS
from fundtrail.chainstore.store import ChainStore

MAX_DECIMAL = 10**38 - 1


@dataclass(slots=True)
class AssetInfo:
    contract: str
    symbol: str | None
    decimals: int | None


class AssetBook:
    """Token contract -> dense asset id (0 is the native coin), like AddressBook for tokens."""

    def __init__(self, store: ChainStore) -> None:
        table = store.read_table("assets")
        self._ids: dict[str, int] = {}
        self.has_native = False
        for row in table.to_pylist():
            if row["asset_id"] == NATIVE_ASSET:
                self.has_native = True
            elif row["contract"]:
                self._ids[row["contract"]] = int(row["asset_id"])
        self.next_id = max([0, *self._ids.values()]) + 1
        self._new: list[AssetInfo] = []
        self.native_symbol = store.chain.native_asset
        self.native_decimals = store.chain.decimals

    def known(self, contract: str) -> bool:
        return contract in self._ids

    def known_set(self) -> set[str]:
        return set(self._ids)

    def add(self, info: AssetInfo) -> int:
        found = self._ids.get(info.contract)
        if found is not None:
            return found
        new = self.next_id
        self.next_id += 1
        self._ids[info.contract] = new
        self._new.append(info)
        return new

    def id_for(self, contract: str | None) -> int:
        if contract is None:
            return NATIVE_ASSET
        found = self._ids.get(contract)
        return found if found is not None else self.add(AssetInfo(contract, None, None))

    def take_new(self) -> pa.Table:
        rows: list[dict[str, object]] = []
        if not self.has_native:
            rows.append(
                {
                    "asset_id": NATIVE_ASSET,
                    "contract": None,
                    "symbol": self.native_symbol,
                    "decimals": self.native_decimals,
                }
            )
            self.has_native = True
        first = self.next_id - len(self._new)
        for i, info in enumerate(self._new):
            rows.append(
                {
                    "asset_id": first + i,
                    "contract": info.contract,
                    "symbol": info.symbol,
                    "decimals": info.decimals,
                }
            )
        self._new = []
        return pa.Table.from_pylist(rows, schema=ACCOUNT_SCHEMAS["assets"])


class _Columns:
    """Rows appended as tuples, turned into columns once (zip in C is the fast transpose)."""

    def __init__(self, names: tuple[str, ...]) -> None:
        self.names = names
        self.rows: list[tuple[object, ...]] = []
        self.add = self.rows.append

    @property
    def data(self) -> dict[str, list[object]]:
        if not self.rows:
            return {n: [] for n in self.names}
        return {
            n: list(col) for n, col in zip(self.names, zip(*self.rows, strict=True), strict=True)
        }


class RowBuilder:
    """Accumulates rows for one atomic batch."""

    def __init__(self, book: AddressBook, assets: AssetBook) -> None:
        self.book = book
        self.assets = assets
        self.blocks = _Columns(tuple(ACCOUNT_SCHEMAS["blocks"].names))
        self.txs = _Columns(tuple(ACCOUNT_SCHEMAS["txs"].names))
        self.transfers = _Columns(tuple(ACCOUNT_SCHEMAS["transfers"].names))
        self.block_count = 0
        self.transfer_count = 0
        self._known: dict[str, int] = {}  # ids looked up ahead by add_all
        # Pseudo-addresses get the first ids, seen "at block 0", so that the addresses
        # first seen at or above any block form a suffix of ids (what rollback relies on).
        for pseudo in PSEUDO_ADDRESSES:
            book.id_for(pseudo, "pseudo", 0)

    address_kind = "evm"  # the addresses table's kind for the chain's own addresses

    def _id(self, address: str | None, seen: int) -> int:
        if address is None:
            return NO_ADDRESS
        found = self._known.get(address)
        if found is not None:
            return found
        return self.book.id_for(address, self._kind(address), seen)

    def add_all(self, blocks: list[BlockRecord]) -> None:
        """``add`` each block, the ids of all their addresses looked up in one call first
        (in the order ``add`` meets them, so new ids and first_seen are exactly those one
        ``add`` at a time gives; one lookup an address costs ~0.5 ms on its own)."""
        order: dict[str, int] = {}
        for blk in blocks:
            met: list[str | None] = [blk.miner]
            for tx in blk.txs:
                met += (tx.sender, tx.to if tx.to is not None else tx.created)
            for m in blk.moves:
                met += (m.sender, m.receiver)
            for a in met:
                if a is not None:
                    order.setdefault(a, blk.number)
        if order:
            names = list(order)
            kinds = [self._kind(a) for a in names]
            seen = np.fromiter(order.values(), dtype=np.int64, count=len(names))
            ids = self.book.assign(pa.array(names, pa.string()), pa.array(kinds), seen)
            self._known.update(zip(names, (int(x) for x in ids), strict=True))
        for blk in blocks:
            self.add(blk)

    def _kind(self, address: str) -> str:
        """The addresses table's kind of ``address``: ``pseudo`` for a protocol account."""
        return "pseudo" if is_pseudo(address) else self.address_kind

    def _fee_split(self, tx: TxRecord, base_fee: int) -> tuple[int, int]:
        """(paid to the block's miner, burned) of ``tx.fee`` (the blob fee is burned apart)."""
        burned = min(tx.gas_used * base_fee, tx.fee)
        return tx.fee - burned, burned

    def add(self, block: BlockRecord) -> None:
        n, t = block.number, block.time
        miner_id = self._id(block.miner, n)
        self.blocks.add(
            (n, block.hash, block.parent_hash, t, miner_id, block.base_fee, block.gas_used,
             len(block.txs))
        )  # fmt: skip
        self.block_count += 1
        base_fee = block.base_fee or 0
        for tx in block.txs:
            sender = self._id(tx.sender, n)
            target = tx.to if tx.to is not None else tx.created
            to_id = self._id(target, n)
            fee = tx.fee
            self.txs.add(
                (tx.hash, n, tx.index, t, sender, to_id, tx.value, tx.gas_used, tx.gas_price,
                 fee + tx.blob_fee, tx.status)
            )  # fmt: skip
            if tx.status == 1 and tx.value > 0:
                self._transfer(
                    tx.hash, n, t, tx.index, -1, -1, sender, to_id, NATIVE_ASSET, tx.value, "native"
                )
            tip, burned = self._fee_split(tx, base_fee)
            burned += tx.blob_fee
            if tip > 0:
                self._transfer(
                    tx.hash, n, t, tx.index, -1, -1, sender, miner_id, NATIVE_ASSET, tip, "fee"
                )
            if burned > 0:
                burn_id = self._id(BURN, n)
                self._transfer(
                    tx.hash, n, t, tx.index, -1, -1, sender, burn_id, NATIVE_ASSET, burned, "burn"
                )
        for m in block.moves:
            self._move(m, n, t)

    def _move(self, m: Move, n: int, t: int) -> None:
        self._transfer(
            m.tx_hash, n, t, m.tx_index, m.log_index, m.trace_index,
            self._id(m.sender, n), self._id(m.receiver, n), self.assets.id_for(m.contract),
            m.value, m.kind,
        )  # fmt: skip

    def add_genesis(self, moves: list[Move], seen: int, time: int = 0) -> None:
        """Genesis allocations found later (block 0 rows, added with the batch that found them)."""
        for m in moves:
            sender, receiver = self._id(m.sender, seen), self._id(m.receiver, seen)
            self._transfer(
                None, 0, time, -1, -1, -1, sender, receiver, NATIVE_ASSET, m.value, "genesis"
            )

    def _transfer(self, tx_hash: str | None, block: int, time: int, tx_index: int, log_index: int,
                  trace_index: int, from_id: int, to_id: int, asset_id: int, value: int,
                  kind: str) -> None:  # fmt: skip
        big = value > MAX_DECIMAL
        self.transfers.add(
            (tx_hash, block, time, tx_index, log_index, trace_index, from_id, to_id, asset_id,
             None if big else value, str(value) if big else None, kind)
        )  # fmt: skip
        self.transfer_count += 1

    def tables(self) -> dict[str, pa.Table]:
        out = {
            "blocks": pa.table(self.blocks.data, schema=ACCOUNT_SCHEMAS["blocks"]),
            "txs": _txs_table(self.txs.data),
            "transfers": pa.table(self.transfers.data, schema=ACCOUNT_SCHEMAS["transfers"]),
            "addresses": self.book.take_new(),
            "assets": self.assets.take_new(),
        }
        return out


def _txs_table(data: dict[str, list[object]]) -> pa.Table:
    # tx value/fee can exceed 38 digits only in theory (total ether supply ~1.2e26 wei).
    return pa.table(data, schema=ACCOUNT_SCHEMAS["txs"])
