"""The UTXO family's adapter: Bitcoin and its forks (outputs, inputs, multi-input clustering)."""

from __future__ import annotations

from types import ModuleType
from typing import ClassVar

from fundtrail.chains.ledger import Ledger, Shape, TraceKernel
from fundtrail.model.chains import Family


class UtxoLedger(Ledger):
    family: ClassVar[Family] = "utxo"
    shape: ClassVar[Shape] = "utxo"
    heuristics: ClassVar[tuple[str, ...]] = ("multi_input", "change_address")
    default_heuristics: ClassVar[tuple[str, ...]] = ("multi_input",)
    ingest_sources: ClassVar[tuple[str, ...]] = ("blk*.dat files", "raw/hex blocks", "--rpc")

    def trace_kernel(self) -> TraceKernel:
        from fundtrail.analysis.trace.utxo import trace_utxo

        return trace_utxo

    def _reads(self) -> ModuleType:
        from fundtrail.chainstore import utxo_reads

        return utxo_reads


LEDGER = UtxoLedger
