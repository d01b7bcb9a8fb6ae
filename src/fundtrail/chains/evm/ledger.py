"""The EVM family's adapter: Ethereum-style account chains (ETH, BSC, Polygon, ...)."""

from __future__ import annotations

from types import ModuleType
from typing import ClassVar

from fundtrail.chains.ledger import Ledger, Shape, TraceKernel
from fundtrail.chains.pseudo import ProtocolLedger, describe, problem
from fundtrail.errors import InvalidInputError
from fundtrail.model.chains import Family


class AccountLedger(Ledger):
    """What every account ledger shares: the transfers tables, their reads and kernels."""

    shape: ClassVar[Shape] = "account"
    heuristics: ClassVar[tuple[str, ...]] = ("deposit_address",)
    default_heuristics: ClassVar[tuple[str, ...]] = ("deposit_address",)

    def describe(self, text: str) -> ProtocolLedger | None:
        return describe(text)

    def address_key(self, text: str) -> str:
        if describe(text) is not None:
            return text
        if (wrong := problem(text)) is not None:
            raise InvalidInputError(wrong, field="address")
        return self.parse_address(text).value

    def trace_kernel(self) -> TraceKernel:
        from fundtrail.analysis.trace.acctrace import trace_account

        return trace_account

    def _reads(self) -> ModuleType:
        from fundtrail.chains.evm import reads

        return reads


class EvmLedger(AccountLedger):
    family: ClassVar[Family] = "evm"
    ingest_sources: ClassVar[tuple[str, ...]] = ("--rpc (JSON-RPC)", "--files (ethereum-etl)")


LEDGER = EvmLedger
