"""Reader of ethereum-etl exports (the blockchain-etl layout, as in the public BigQuery
datasets), CSV or JSON lines, with ethereum-etl's exact column names.

A folder holds some of: ``blocks``, ``transactions`` (with ``receipt_*`` columns, or a
separate ``receipts`` file), ``token_transfers`` (else ``logs``, decoded here),
``tokens``, ``traces``. Each may be one file (``blocks.csv``, ``blocks.json``) or many
(``blocks_000100_000199.csv``, or ``blocks/start_block=.../*.csv`` as ``export_all``
writes). Trace types: ``call``, ``create``, ``suicide``, ``reward`` and ``genesis``.
A bad row raises :class:`SourceError` naming the file, line and column.
"""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from fundtrail.chains.evm.decode import DecodeError, token_transfer
from fundtrail.chains.evm.records import BEACON, GENESIS, MINT, BlockRecord, Move, TxRecord
from fundtrail.chains.evm.rows import AssetInfo
from fundtrail.errors import SourceError

TABLES = ("blocks", "transactions", "receipts", "token_transfers", "logs", "tokens", "traces")
csv.field_size_limit(1 << 30)

Row = dict[str, Any]


def _files(folder: Path, table: str) -> list[Path]:
    found = []
    for path in sorted(folder.rglob("*")):
        if path.suffix not in (".csv", ".json", ".jsonl") or not path.is_file():
            continue
        stem = path.stem
        in_dir = any(p.name == table for p in path.parents if p != folder and folder in p.parents)
        if stem == table or stem.startswith(table + "_") or in_dir:
            if table == "tokens" and stem.startswith("token_transfers"):
                continue
            found.append(path)
    return found


def _rows(path: Path) -> Iterator[tuple[int, Row]]:
    """(line number, row) of a CSV or JSON-lines file; empty CSV cells become None."""
    with open(path, newline="", encoding="utf-8") as fh:
        if path.suffix == ".csv":
            for line, row in enumerate(csv.DictReader(fh), start=2):
                yield line, {k: (v if v != "" else None) for k, v in row.items()}
        else:
            for line, text in enumerate(fh, start=1):
                if text.strip():
                    try:
                        yield line, json.loads(text)
                    except ValueError as exc:
                        raise SourceError(f"{path}:{line}: not a JSON object: {exc}") from exc


class _Cell:
    """Typed access to one row's columns, errors naming file, line and column."""

    def __init__(self, path: Path, line: int, row: Row) -> None:
        self.where = f"{path}:{line}"
        self.row = row

    def raw(self, col: str) -> Any:
        return self.row.get(col)

    def num(self, col: str, default: int | None = None) -> int:
        v = self.row.get(col)
        if v is None:
            if default is not None:
                return default
            raise SourceError(f"{self.where}: column {col!r} is missing or empty")
        if isinstance(v, bool):
            raise SourceError(f"{self.where}: column {col!r} is not an integer: {v!r}")
        if isinstance(v, int):
            return v
        s = str(v).strip()
        try:
            return int(s, 16) if s.startswith("0x") else int(s)
        except ValueError:
            raise SourceError(
                f"{self.where}: column {col!r} is not an integer: {s[:40]!r}"
            ) from None

    def opt_int(self, col: str) -> int | None:
        return None if self.row.get(col) is None else self.num(col)

    def addr(self, col: str) -> str:
        v = self.row.get(col)
        if not isinstance(v, str) or len(v) != 42 or not v.startswith("0x"):
            raise SourceError(f"{self.where}: column {col!r} is not an address: {v!r}")
        try:
            int(v[2:], 16)
        except ValueError:
            raise SourceError(f"{self.where}: column {col!r} is not an address: {v!r}") from None
        return v.lower()

    def opt_addr(self, col: str) -> str | None:
        return None if self.row.get(col) is None else self.addr(col)

    def text(self, col: str) -> str:
        v = self.row.get(col)
        if not isinstance(v, str) or not v:
            raise SourceError(f"{self.where}: column {col!r} is missing or empty")
        return v.lower()


class EtlExport:
    """An export folder, loaded and grouped by block."""

    def __init__(self, folder: Path) -> None:
        if not folder.is_dir():
            raise SourceError(f"{folder} is not a folder of ethereum-etl exports")
        self.folder = folder
        self.paths = {t: _files(folder, t) for t in TABLES}
        if not self.paths["blocks"]:
            raise SourceError(
                f"no blocks file (blocks.csv / blocks.json) under {folder}: "
                "export blocks with ethereum-etl first"
            )
        self._by_block: dict[str, dict[int, list[_Cell]]] = {}
        self._tokens: dict[str, AssetInfo] | None = None

    def _grouped(self, table: str) -> dict[int, list[_Cell]]:
        if table not in self._by_block:
            groups: dict[int, list[_Cell]] = defaultdict(list)
            key = "number" if table == "blocks" else "block_number"
            for path in self.paths[table]:
                for line, row in _rows(path):
                    cell = _Cell(path, line, row)
                    groups[cell.num(key)].append(cell)
            self._by_block[table] = groups
        return self._by_block[table]

    def block_numbers(self) -> list[int]:
        return sorted(self._grouped("blocks"))

    def token_info(self, contracts: list[str]) -> list[AssetInfo]:
        if self._tokens is None:
            self._tokens = {}
            for path in self.paths["tokens"]:
                for line, row in _rows(path):
                    c = _Cell(path, line, row)
                    sym = c.raw("symbol")
                    dec = c.raw("decimals")
                    try:
                        decimals = int(dec) if dec is not None else None
                    except (TypeError, ValueError):
                        decimals = None
                    info = AssetInfo(c.addr("address"), str(sym) if sym else None, decimals)
                    self._tokens[info.contract] = info
        return [self._tokens.get(c, AssetInfo(c, None, None)) for c in contracts]

    def blocks(self, numbers: list[int]) -> list[BlockRecord]:
        return [self._block(n) for n in numbers]

    def _block(self, n: int) -> BlockRecord:
        (b, *dups) = self._grouped("blocks")[n]
        if dups:
            raise SourceError(f"{dups[0].where}: block {n} appears twice")
        block = BlockRecord(
            number=n,
            hash=b.text("hash"),
            parent_hash=b.text("parent_hash"),
            time=b.num("timestamp"),
            miner=b.addr("miner"),
            base_fee=b.opt_int("base_fee_per_gas"),
            gas_used=b.num("gas_used", 0),
        )
        receipts = {c.text("transaction_hash"): c for c in self._grouped("receipts").get(n, [])}
        for t in sorted(
            self._grouped("transactions").get(n, []), key=lambda c: c.num("transaction_index")
        ):
            block.txs.append(self._tx(t, receipts))
        traces = self._grouped("traces").get(n, [])
        self._apply_trace_status(block, traces)
        block.moves.extend(self._withdrawals(b))
        block.moves.extend(self._tokens_moved(n, block))
        block.moves.extend(self._trace_moves(block, traces))
        return block

    def _tx(self, t: _Cell, receipts: dict[str, _Cell]) -> TxRecord:
        h = t.text("hash")
        r = receipts.get(h)
        if r is not None:
            gas_used, status = r.opt_int("gas_used"), r.opt_int("status")
            price, created = r.opt_int("effective_gas_price"), r.opt_addr("contract_address")
        else:
            gas_used, status = t.opt_int("receipt_gas_used"), t.opt_int("receipt_status")
            price = t.opt_int("receipt_effective_gas_price")
            created = t.opt_addr("receipt_contract_address")
        if gas_used is None:
            raise SourceError(
                f"{t.where}: transaction {h} has no receipt (no receipt_gas_used column and no "
                "receipts file): export receipts too, gas fees cannot be known without them"
            )
        blob = (t.opt_int("receipt_blob_gas_used") or 0) * (
            t.opt_int("receipt_blob_gas_price") or 0
        )
        return TxRecord(
            hash=h,
            index=t.num("transaction_index"),
            sender=t.addr("from_address"),
            to=t.opt_addr("to_address"),
            value=t.num("value", 0),
            gas_used=gas_used,
            gas_price=price if price is not None else t.num("gas_price", 0),
            status=1 if status is None else status,
            created=created,
            blob_fee=blob,
        )

    def _withdrawals(self, b: _Cell) -> list[Move]:
        raw = b.raw("withdrawals")
        if not raw:
            return []
        try:
            items = json.loads(f"[{raw}]") if isinstance(raw, str) else raw
            return [
                Move("reward", BEACON, str(w["address"]).lower(), int(w["amount"]) * 10**9)
                for w in items
                if int(w["amount"])
            ]
        except (ValueError, KeyError, TypeError) as exc:
            raise SourceError(f"{b.where}: column 'withdrawals' is malformed: {exc}") from exc

    def _tokens_moved(self, n: int, block: BlockRecord) -> list[Move]:
        index = {tx.hash: tx.index for tx in block.txs}
        moves: list[Move] = []
        if self.paths["token_transfers"]:
            for c in self._grouped("token_transfers").get(n, []):
                h = c.text("transaction_hash")
                moves.append(
                    Move(
                        "token",
                        c.addr("from_address"),
                        c.addr("to_address"),
                        c.num("value"),
                        tx_hash=h,
                        tx_index=index.get(h, -1),
                        log_index=c.num("log_index"),
                        contract=c.addr("token_address"),
                    )
                )
        else:
            for c in self._grouped("logs").get(n, []):
                topics = c.raw("topics") or []
                log = {
                    "topics": topics.split(",") if isinstance(topics, str) else topics,
                    "data": c.raw("data") or "0x",
                    "address": c.raw("address"),
                    "transactionHash": c.raw("transaction_hash"),
                    "transactionIndex": hex(c.num("transaction_index")),
                    "logIndex": hex(c.num("log_index")),
                }
                try:
                    m = token_transfer(log)
                except DecodeError as exc:
                    raise SourceError(f"{c.where}: {exc}") from exc
                if m is not None:
                    moves.append(m)
        moves.sort(key=lambda m: m.log_index)
        return moves

    @staticmethod
    def _path(c: _Cell) -> tuple[int, ...]:
        raw = c.raw("trace_address")
        if raw is None or raw == "" or raw == []:
            return ()
        parts = raw.split(",") if isinstance(raw, str) else raw
        return tuple(int(p) for p in parts)

    def _apply_trace_status(self, block: BlockRecord, traces: list[_Cell]) -> None:
        """Pre-Byzantium receipts carry no status: a failed top-level trace tells it."""
        by_hash = {tx.hash: tx for tx in block.txs}
        for c in traces:
            h = c.raw("transaction_hash")
            if h and not self._path(c) and (c.raw("error") or c.raw("status") in ("0", 0)):
                tx = by_hash.get(h.lower())
                if tx is not None:
                    tx.status = 0

    def _trace_moves(self, block: BlockRecord, traces: list[_Cell]) -> list[Move]:
        index = {tx.hash: tx.index for tx in block.txs}
        failed: set[tuple[str | None, tuple[int, ...]]] = set()
        moves: list[Move] = []
        for i, c in enumerate(traces):
            kind = c.raw("trace_type")
            h = c.raw("transaction_hash")
            h = h.lower() if h else None
            path = self._path(c)
            if c.raw("error") or c.raw("status") in ("0", 0):
                failed.add((h, path))
            if any((h, path[:k]) in failed for k in range(len(path) + 1)):
                continue
            value = c.num("value", 0)
            if value == 0:
                continue
            if kind == "genesis":
                moves.append(Move("genesis", GENESIS, c.addr("to_address"), value, trace_index=i))
            elif kind == "reward":
                moves.append(Move("reward", MINT, c.addr("to_address"), value, trace_index=i))
            elif kind in ("call", "create", "suicide") and (path or kind == "suicide"):
                if kind == "call" and c.raw("call_type") not in (None, "call"):
                    continue
                moves.append(
                    Move(
                        "internal",
                        c.addr("from_address"),
                        c.addr("to_address"),
                        value,
                        tx_hash=h,
                        tx_index=index.get(h or "", -1),
                        trace_index=i,
                    )
                )
        return moves
