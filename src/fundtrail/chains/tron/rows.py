"""TRON block records into the account chain store's rows (the EVM layout, shared names).

Per transaction: ``native`` (its TRX value, only when it succeeded), ``burn`` (every sun
the transaction info says was burned, owner -> ``burn``), then the block's other moves
(TRC-10 and TRC-20 ``token`` transfers, ``internal`` TRX). TRON burns fees rather than
paying them to the block producer, so there is no ``fee`` row. For every address and
asset, balance = sum in - sum out, exactly (staked TRX counts as the owner's: freezing
moves nothing, as on the node, where the frozen amount stays on the account).
"""

from __future__ import annotations

from fundtrail.chains.evm.records import BURN, PSEUDO_ADDRESSES, BlockRecord
from fundtrail.chains.evm.rows import RowBuilder
from fundtrail.chainstore.schema import NATIVE_ASSET, NO_ADDRESS


class TronRowBuilder(RowBuilder):
    def _id(self, address: str | None, seen: int) -> int:
        if address is None:
            return NO_ADDRESS
        kind = "pseudo" if address in PSEUDO_ADDRESSES else "tron"
        return self.book.id_for(address, kind, seen)

    def add(self, block: BlockRecord) -> None:
        n, t = block.number, block.time
        witness = self._id(block.miner, n)
        self.blocks.add(
            (n, block.hash, block.parent_hash, t, witness, None, block.gas_used, len(block.txs))
        )
        self.block_count += 1
        for tx in block.txs:
            sender = self._id(tx.sender, n)
            to_id = self._id(tx.to, n)
            fee = tx.fee
            self.txs.add(
                (tx.hash, n, tx.index, t, sender, to_id, tx.value, tx.gas_used, 0, fee, tx.status)
            )
            if tx.status == 1 and tx.value > 0:
                self._transfer(
                    tx.hash, n, t, tx.index, -1, -1, sender, to_id, NATIVE_ASSET, tx.value, "native"
                )
            if fee > 0:
                burn = self._id(BURN, n)
                self._transfer(
                    tx.hash, n, t, tx.index, -1, -1, sender, burn, NATIVE_ASSET, fee, "burn"
                )
        for m in block.moves:
            self._move(m, n, t)
