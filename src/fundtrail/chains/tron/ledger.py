"""The TRON family's adapter: account tables like EVM, base58check ``T…`` addresses."""

from __future__ import annotations

from typing import ClassVar

from fundtrail.chains.evm.ledger import AccountLedger
from fundtrail.model.chains import Family


class TronLedger(AccountLedger):
    family: ClassVar[Family] = "tron"
    ingest_sources: ClassVar[tuple[str, ...]] = ("--rpc (java-tron HTTP API)",)


LEDGER = TronLedger
