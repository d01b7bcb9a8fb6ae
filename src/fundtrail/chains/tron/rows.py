"""TRON block records into the account chain store's rows (the EVM layout and builder).

Per transaction: ``native`` (its TRX value, only when it succeeded), ``burn`` (every sun
the transaction info says was burned, owner -> ``burn``), then the block's other moves
(TRC-10 and TRC-20 ``token`` transfers, ``internal`` TRX). TRON burns fees rather than
paying them to the block producer, so there is no ``fee`` row. For every address and
asset, balance = sum in - sum out, exactly (staked TRX counts as the owner's: freezing
moves nothing, as on the node, where the frozen amount stays on the account).
"""

from __future__ import annotations

from fundtrail.chains.evm.records import TxRecord
from fundtrail.chains.evm.rows import RowBuilder


class TronRowBuilder(RowBuilder):
    address_kind = "tron"

    def _fee_split(self, tx: TxRecord, base_fee: int) -> tuple[int, int]:
        return 0, tx.fee  # every sun of bandwidth, energy and activation is burned
