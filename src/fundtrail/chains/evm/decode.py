"""Decoding of JSON-RPC answers: blocks, receipts, ERC-20 ``Transfer`` logs, call traces.

Everything a node says is validated here: quantities must be hex, addresses 20 bytes,
hashes 32 bytes. Anything else raises :class:`DecodeError` naming the field; the
ingester adds the block number. Token transfers are decoded the way ethereum-etl does
(topics and data words read as one list of four 32-byte words), so non-standard
tokens that put ``from``/``to``/``value`` in the data instead of the topics are read
too, and logs that do not fit are skipped, not guessed at.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from fundtrail.chains.evm.records import MINT, TRANSFER_TOPIC, BlockRecord, Move, TxRecord
from fundtrail.errors import SourceError

_HEXQ = re.compile(r"^0x[0-9a-fA-F]{1,64}$")
_ADDR = re.compile(r"^0x[0-9a-fA-F]{40}$")
_HASH = re.compile(r"^0x[0-9a-fA-F]{64}$")
_DATA = re.compile(r"^0x([0-9a-fA-F]{2})*$")

# callTracer frame types that move value; DELEGATECALL/CALLCODE/STATICCALL do not
# move ether between different accounts.
_VALUE_FRAMES = {"CALL", "CREATE", "CREATE2", "SELFDESTRUCT"}


class DecodeError(SourceError):
    """A node answer (or exported row) that does not have the shape it must have."""


def qty(raw: Any, name: str) -> int:
    """A JSON-RPC quantity (``0x``-hex) as an exact int."""
    if isinstance(raw, str) and _HEXQ.match(raw):
        return int(raw, 16)
    if raw == "0x":
        return 0
    raise DecodeError(f"{name} is not a hex quantity: {str(raw)[:80]!r}")


def opt_qty(raw: Any, name: str) -> int | None:
    return None if raw is None else qty(raw, name)


def address(raw: Any, name: str) -> str:
    if isinstance(raw, str) and _ADDR.match(raw):
        return raw.lower()
    raise DecodeError(f"{name} is not a 20-byte address: {str(raw)[:80]!r}")


def opt_address(raw: Any, name: str) -> str | None:
    return None if raw is None else address(raw, name)


def hash32(raw: Any, name: str) -> str:
    if isinstance(raw, str) and _HASH.match(raw):
        return raw.lower()
    raise DecodeError(f"{name} is not a 32-byte hash: {str(raw)[:80]!r}")


def _obj(raw: Any, name: str) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise DecodeError(f"{name} is not a JSON object: {str(raw)[:80]!r}")
    return raw


# ---- blocks, transactions, receipts ---------------------------------------------------
def decode_block(raw: Any) -> BlockRecord:
    """A block from ``eth_getBlockByNumber(n, true)``; transactions still need receipts."""
    b = _obj(raw, "block")
    block = BlockRecord(
        number=qty(b.get("number"), "block.number"),
        hash=hash32(b.get("hash"), "block.hash"),
        parent_hash=hash32(b.get("parentHash"), "block.parentHash"),
        time=qty(b.get("timestamp"), "block.timestamp"),
        miner=address(b.get("miner"), "block.miner"),
        base_fee=opt_qty(b.get("baseFeePerGas"), "block.baseFeePerGas"),
        gas_used=qty(b.get("gasUsed"), "block.gasUsed"),
    )
    uncles = b.get("uncles") or []
    if not isinstance(uncles, list):
        raise DecodeError("block.uncles is not a list")
    block.uncles = len(uncles)
    txs = b.get("transactions")
    if not isinstance(txs, list):
        raise DecodeError("block.transactions is not a list")
    for i, t in enumerate(txs):
        t = _obj(t, f"transaction {i} (was the block fetched with full transactions?)")
        block.txs.append(
            TxRecord(
                hash=hash32(t.get("hash"), f"transaction {i} hash"),
                index=qty(t.get("transactionIndex"), f"transaction {i} transactionIndex"),
                sender=address(t.get("from"), f"transaction {i} from"),
                to=opt_address(t.get("to"), f"transaction {i} to"),
                value=qty(t.get("value"), f"transaction {i} value"),
                gas_used=0,
                gas_price=opt_qty(t.get("gasPrice"), f"transaction {i} gasPrice") or 0,
                status=1,
            )
        )
    for j, w in enumerate(b.get("withdrawals") or []):
        w = _obj(w, f"withdrawal {j}")
        gwei = qty(w.get("amount"), f"withdrawal {j} amount")
        if gwei:
            block.moves.append(
                Move("reward", "beacon", address(w.get("address"), f"withdrawal {j}"), gwei * 10**9)
            )
    return block


def apply_receipts(block: BlockRecord, receipts: Any) -> None:
    """Fill gas, status and created contract from receipts; add ERC-20 transfers."""
    if not isinstance(receipts, list) or len(receipts) != len(block.txs):
        got = len(receipts) if isinstance(receipts, list) else type(receipts).__name__
        raise DecodeError(f"expected {len(block.txs)} receipts, got {got}")
    for tx, raw in zip(block.txs, receipts, strict=True):
        r = _obj(raw, f"receipt of {tx.hash}")
        if str(r.get("transactionHash", "")).lower() != tx.hash:
            raise DecodeError(f"receipt for {r.get('transactionHash')!r} where {tx.hash} was due")
        tx.gas_used = qty(r.get("gasUsed"), f"receipt {tx.hash} gasUsed")
        price = r.get("effectiveGasPrice")
        if price is not None:
            tx.gas_price = qty(price, f"receipt {tx.hash} effectiveGasPrice")
        status = r.get("status")
        tx.status = 1 if status is None else qty(status, f"receipt {tx.hash} status")
        tx.created = opt_address(r.get("contractAddress"), f"receipt {tx.hash} contractAddress")
        if r.get("blobGasUsed") is not None and r.get("blobGasPrice") is not None:
            tx.blob_fee = qty(r["blobGasUsed"], "blobGasUsed") * qty(
                r["blobGasPrice"], "blobGasPrice"
            )
        logs = r.get("logs") or []
        if tx.status == 1:  # a failed tx emits no logs, but be strict anyway
            block.moves.extend(m for m in (token_transfer(_obj(lg, "log"), tx) for lg in logs) if m)


def token_transfer(log: dict[str, Any], tx: TxRecord | None = None) -> Move | None:
    """An ERC-20/BEP-20 ``Transfer`` log as a move, or None when it is not one."""
    topics = log.get("topics") or []
    if not topics or str(topics[0]).lower() != TRANSFER_TOPIC or log.get("removed"):
        return None
    data = log.get("data") or "0x"
    if not isinstance(data, str) or not _DATA.match(data):
        raise DecodeError(f"log data is not hex: {str(data)[:80]!r}")
    words = [str(t) for t in topics] + _words(data)
    if len(words) != 4:
        return None  # not ERC-20-shaped (wrong count of words): skip, as ethereum-etl does
    try:
        sender, receiver, value = (
            _word_address(words[1]),
            _word_address(words[2]),
            int(words[3], 16),
        )
    except ValueError as exc:
        raise DecodeError(f"Transfer log words are not hex: {words}") from exc
    return Move(
        "token",
        sender,
        receiver,
        value,
        tx_hash=tx.hash if tx else hash32(log.get("transactionHash"), "log transactionHash"),
        tx_index=tx.index if tx else qty(log.get("transactionIndex"), "log transactionIndex"),
        log_index=qty(log.get("logIndex"), "log logIndex"),
        contract=address(log.get("address"), "log address"),
    )


def _words(data: str) -> list[str]:
    body = data[2:]
    return (
        ["0x" + body[i : i + 64] for i in range(0, len(body) - len(body) % 64, 64)] if body else []
    )


def _word_address(word: str) -> str:
    body = word[2:] if word.startswith("0x") else word
    if len(body) > 64:
        raise ValueError(word)
    int(body or "0", 16)
    return "0x" + body.rjust(64, "0")[-40:].lower()


# ---- internal transfers: geth callTracer -------------------------------------------------
def calltracer_moves(block: BlockRecord, traces: Any) -> list[Move]:
    """Value moved inside transactions, from ``debug_traceBlockByNumber`` (callTracer).

    The top frame is the transaction itself (its value is the ``native`` transfer);
    a frame with an ``error`` moved nothing, and neither did anything below it.
    """
    if not isinstance(traces, list) or len(traces) != len(block.txs):
        got = len(traces) if isinstance(traces, list) else type(traces).__name__
        raise DecodeError(f"expected {len(block.txs)} call traces, got {got}")
    moves: list[Move] = []
    for tx, item in zip(block.txs, traces, strict=True):
        top = _obj(_obj(item, "trace").get("result"), f"call trace of {tx.hash}")
        if top.get("error"):
            tx.status = 0  # pre-Byzantium receipts have no status: the trace tells
        moves.extend(_walk_frames(top, tx))
    return moves


def _walk_frames(top: dict[str, Any], tx: TxRecord) -> Iterable[Move]:
    counter = 0
    stack: list[tuple[dict[str, Any], int]] = [(top, 0)]
    while stack:
        frame, depth = stack.pop()
        index = counter
        counter += 1
        if frame.get("error"):
            continue  # failed: nothing in this frame or below it moved
        kind = str(frame.get("type", "")).upper()
        value = qty(frame.get("value") or "0x0", f"trace value in {tx.hash}")
        if depth > 0 and kind in _VALUE_FRAMES and value > 0:
            yield Move(
                "internal",
                address(frame.get("from"), f"trace from in {tx.hash}"),
                address(frame.get("to"), f"trace to in {tx.hash}"),
                value,
                tx_hash=tx.hash,
                tx_index=tx.index,
                trace_index=index,
            )
        children = frame.get("calls") or []
        stack.extend((_obj(c, "trace frame"), depth + 1) for c in reversed(children))


# ---- internal transfers: parity/erigon trace_block ----------------------------------------
def parity_value_traces(traces: Any) -> list[dict[str, Any]]:
    """Every successful value-moving trace of ``trace_block`` (top-level ones included):
    dicts with type, from, to, value, tx_hash, tx_index, trace_address, reward_type."""
    if not isinstance(traces, list):
        raise DecodeError(f"trace_block answer is not a list: {str(traces)[:80]!r}")
    failed: set[tuple[str | None, tuple[int, ...]]] = set()
    out: list[dict[str, Any]] = []
    for i, raw in enumerate(traces):
        t = _obj(raw, f"trace {i}")
        tx_hash = t.get("transactionHash")
        path = tuple(int(x) for x in t.get("traceAddress") or [])
        if t.get("error") is not None:
            failed.add((tx_hash, path))
        if any((tx_hash, path[:k]) in failed for k in range(len(path) + 1)):
            continue
        a = _obj(t.get("action"), f"trace {i} action")
        kind = t.get("type")
        row: dict[str, Any] = {
            "type": kind,
            "tx_hash": tx_hash.lower() if tx_hash else None,
            "tx_index": t.get("transactionPosition"),
            "trace_address": path,
            "trace_index": i,
            "reward_type": None,
        }
        if kind == "call":
            if a.get("callType") not in (None, "call"):
                continue  # delegatecall/staticcall/callcode move no ether between accounts
            row.update(sender=a.get("from"), receiver=a.get("to"), value=a.get("value"))
        elif kind == "create":
            result = t.get("result") or {}
            row.update(sender=a.get("from"), receiver=result.get("address"), value=a.get("value"))
        elif kind == "suicide":
            row.update(
                sender=a.get("address"), receiver=a.get("refundAddress"), value=a.get("balance")
            )
        elif kind == "reward":
            row.update(sender=MINT, receiver=a.get("author"), value=a.get("value"))
            row["reward_type"] = a.get("rewardType")
        else:
            continue
        row["value"] = qty(row["value"] or "0x0", f"trace {i} value")
        if row["value"] == 0:
            continue
        if kind != "reward":
            row["sender"] = address(row["sender"], f"trace {i} from")
        row["receiver"] = address(row["receiver"], f"trace {i} to")
        out.append(row)
    return out


def parity_moves(block: BlockRecord, traces: Any) -> list[Move]:
    """Internal transfers and block/uncle rewards from ``trace_block``."""
    by_hash = {tx.hash: tx for tx in block.txs}
    moves: list[Move] = []
    for raw in traces if isinstance(traces, list) else []:
        if isinstance(raw, dict) and raw.get("error") is not None and not raw.get("traceAddress"):
            failed = by_hash.get(str(raw.get("transactionHash")).lower())
            if failed is not None:
                failed.status = 0  # pre-Byzantium receipts have no status: the trace tells
    for t in parity_value_traces(traces):
        if t["type"] == "reward":
            moves.append(
                Move("reward", MINT, t["receiver"], t["value"], trace_index=t["trace_index"])
            )
            continue
        if not t["trace_address"]:
            continue  # the transaction itself: its value is the native transfer
        tx = by_hash.get(t["tx_hash"])
        if tx is None:
            raise DecodeError(f"trace for transaction {t['tx_hash']} not in the block")
        moves.append(
            Move(
                "internal",
                t["sender"],
                t["receiver"],
                t["value"],
                tx_hash=tx.hash,
                tx_index=tx.index,
                trace_index=t["trace_index"],
            )
        )
    return moves


# ---- token metadata -----------------------------------------------------------------------
def abi_string(raw: Any) -> str | None:
    """``symbol()``/``name()`` output: an ABI string, or a bytes32 (MKR, SAI); None if neither."""
    if not isinstance(raw, str) or not _DATA.match(raw) or len(raw) < 66:
        return None
    data = bytes.fromhex(raw[2:])
    text: bytes | None = None
    if len(data) >= 64:
        offset = int.from_bytes(data[:32], "big")
        if offset + 32 <= len(data):
            length = int.from_bytes(data[offset : offset + 32], "big")
            if offset + 32 + length <= len(data):
                text = data[offset + 32 : offset + 32 + length]
    if text is None and len(data) == 32:
        text = data.rstrip(b"\x00")
    if text is None:
        return None
    try:
        s = text.decode("utf-8").strip("\x00").strip()
    except UnicodeDecodeError:
        return None
    return s if s and s.isprintable() and len(s) <= 64 else None


def abi_uint8(raw: Any) -> int | None:
    """``decimals()`` output: a small unsigned integer, or None."""
    if not isinstance(raw, str) or not _DATA.match(raw) or len(raw) < 66:
        return None
    value = int(raw[2:66], 16)
    return value if value <= 255 else None
