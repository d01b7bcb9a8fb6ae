"""ethereum-etl CSV files, with its exact column names and order.

``transactions.csv`` carries the ``receipt_*`` columns as ethereum-etl's
enriched export (stream / BigQuery) does, so one file gives value and fee.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import IO, Any

COLUMNS: dict[str, tuple[str, ...]] = {
    "blocks": (
        "number", "hash", "parent_hash", "nonce", "sha3_uncles", "logs_bloom",
        "transactions_root", "state_root", "receipts_root", "miner", "difficulty",
        "total_difficulty", "size", "extra_data", "gas_limit", "gas_used", "timestamp",
        "transaction_count", "base_fee_per_gas", "withdrawals_root", "withdrawals",
    ),
    "transactions": (
        "hash", "nonce", "block_hash", "block_number", "transaction_index", "from_address",
        "to_address", "value", "gas", "gas_price", "input", "block_timestamp",
        "max_fee_per_gas", "max_priority_fee_per_gas", "transaction_type",
        "receipt_cumulative_gas_used", "receipt_gas_used", "receipt_contract_address",
        "receipt_root", "receipt_status", "receipt_effective_gas_price",
    ),
    "logs": (
        "log_index", "transaction_hash", "transaction_index", "block_hash", "block_number",
        "address", "data", "topics",
    ),
    "token_transfers": (
        "token_address", "from_address", "to_address", "value", "transaction_hash",
        "log_index", "block_number",
    ),
    "tokens": ("address", "symbol", "name", "decimals", "total_supply", "block_number"),
    "traces": (
        "block_number", "transaction_hash", "transaction_index", "from_address", "to_address",
        "value", "input", "output", "trace_type", "call_type", "reward_type", "gas", "gas_used",
        "subtraces", "trace_address", "error", "status", "trace_id",
    ),
}  # fmt: skip


class EtlWriter:
    """One CSV writer per table under ``folder``; rows are plain sequences in column order."""

    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder
        self._files: dict[str, IO[str]] = {}
        self._writers: dict[str, Any] = {}
        for table, cols in COLUMNS.items():
            if table == "tokens":  # one row per token, written by close()
                continue
            f = open(folder / f"{table}.csv", "w", encoding="utf-8", newline="")  # noqa: SIM115
            w = csv.writer(f, lineterminator="\n")
            w.writerow(cols)
            self._files[table] = f
            self._writers[table] = w

    def row(self, table: str, values: list[Any] | tuple[Any, ...]) -> None:
        self._writers[table].writerow(values)

    def close(self, tokens: Sequence[Sequence[object]] = ()) -> None:
        """Close the streams; ``tokens`` rows (address, symbol, name, decimals, supply, block)."""
        for f in self._files.values():
            f.close()
        with open(self.folder / "tokens.csv", "w", encoding="utf-8", newline="") as f:
            w = csv.writer(f, lineterminator="\n")
            w.writerow(COLUMNS["tokens"])
            w.writerows(tokens)

    @property
    def paths(self) -> list[Path]:
        return [self.folder / f"{t}.csv" for t in COLUMNS]

    def __enter__(self) -> EtlWriter:
        return self

    def __exit__(
        self, t: type[BaseException] | None, v: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
