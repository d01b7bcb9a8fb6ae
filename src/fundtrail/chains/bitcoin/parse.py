"""Hand-written parser of serialized Bitcoin blocks and transactions (legacy, SegWit, Taproot).

Why hand-written: ingest speed is bounded by this loop. It reads ``bytes`` with
``struct.unpack_from`` and inline varints, makes one small tuple per input and output,
and never copies the block. Any overrun (truncated data, a length or count that runs
past the end) is a :class:`ParseError` that names the offset.

Hashes are kept as raw 32-byte values in internal (little-endian) order; ``txid`` /
``hash`` properties give the usual display hex (reversed).
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass

from fundtrail.errors import SourceError

_sha256 = hashlib.sha256
_U16 = struct.Struct("<H").unpack_from
_U32 = struct.Struct("<I").unpack_from
_I32 = struct.Struct("<i").unpack_from
_U64 = struct.Struct("<Q").unpack_from
_HEADER = struct.Struct("<i32s32sIII").unpack_from
_IN_HEAD = struct.Struct("<32sIB").unpack_from  # prev hash, prev index, first script-length byte
_OUT_HEAD = struct.Struct("<QB").unpack_from  # value, first script-length byte

HEADER_SIZE = 80


class ParseError(SourceError):
    """Bytes that are not a valid block or transaction; the message names the offset."""


def sha256d(data: bytes) -> bytes:
    return _sha256(_sha256(data).digest()).digest()


# An input: (prev_hash internal order, prev index, scriptSig, sequence).
TxIn = tuple[bytes, int, bytes, int]
# An output: (value in satoshi, scriptPubKey).
TxOut = tuple[int, bytes]


@dataclass(slots=True)
class Tx:
    """One transaction as it was serialized. ``witnesses`` is None for legacy txs."""

    hash: bytes  # txid, internal byte order
    version: int
    inputs: list[TxIn]
    outputs: list[TxOut]
    locktime: int
    witnesses: list[list[bytes]] | None
    size: int  # serialized bytes including witness
    base_size: int  # bytes without witness data

    @property
    def txid(self) -> str:
        return self.hash[::-1].hex()

    @property
    def vsize(self) -> int:
        weight = self.base_size * 3 + self.size
        return (weight + 3) // 4

    @property
    def is_coinbase(self) -> bool:
        return (
            len(self.inputs) == 1 and self.inputs[0][1] == 0xFFFFFFFF and not any(self.inputs[0][0])
        )


@dataclass(slots=True)
class BlockHeader:
    version: int
    prev_hash: bytes  # internal order
    merkle_root: bytes  # internal order
    time: int
    bits: int
    nonce: int
    hash: bytes  # internal order

    @property
    def block_hash(self) -> str:
        return self.hash[::-1].hex()

    @property
    def prev_block_hash(self) -> str:
        return self.prev_hash[::-1].hex()


@dataclass(slots=True)
class Block:
    header: BlockHeader
    txs: list[Tx]
    size: int

    @property
    def hash(self) -> str:
        return self.header.block_hash

    def merkle_root(self) -> bytes:
        return merkle_root([tx.hash for tx in self.txs])

    def __reduce__(self) -> tuple[object, tuple[object, ...]]:
        """Pickle as plain tuples: parser workers send blocks back, and the dataclass
        default (a Python ``__setstate__`` per object) made unpickling cost as much as
        parsing."""
        h = self.header
        header = (h.version, h.prev_hash, h.merkle_root, h.time, h.bits, h.nonce, h.hash)
        txs = [
            (t.hash, t.version, t.inputs, t.outputs, t.locktime, t.witnesses, t.size, t.base_size)
            for t in self.txs
        ]
        return _rebuild_block, (header, txs, self.size)


def _rebuild_block(header: tuple, txs: list[tuple], size: int) -> Block:
    return Block(BlockHeader(*header), [Tx(*t) for t in txs], size)


def merkle_root(hashes: list[bytes]) -> bytes:
    """Bitcoin's merkle root over txids (internal order); odd levels repeat the last hash."""
    if not hashes:
        return b"\0" * 32
    level = hashes
    while len(level) > 1:
        if len(level) & 1:
            level = [*level, level[-1]]
        level = [sha256d(level[i] + level[i + 1]) for i in range(0, len(level), 2)]
    return level[0]


def parse_header(raw: bytes, offset: int = 0) -> BlockHeader:
    if len(raw) - offset < HEADER_SIZE:
        raise ParseError(
            f"block header at offset {offset} needs 80 bytes, only {len(raw) - offset} present"
        )
    version, prev, merkle, time, bits, nonce = _HEADER(raw, offset)
    digest = sha256d(raw[offset : offset + HEADER_SIZE])
    return BlockHeader(version, prev, merkle, time, bits, nonce, digest)


def parse_block(raw: bytes, *, where: str = "block") -> Block:
    """Parse one serialized block; the whole buffer must be the block (no trailing bytes)."""
    raw = bytes(raw)
    header = parse_header(raw)
    try:
        count, pos = _varint(raw, HEADER_SIZE)
        if count > len(raw):
            raise ParseError(f"{where}: transaction count {count} exceeds the block size")
        txs = []
        for _ in range(count):
            tx, pos = _parse_tx(raw, pos)
            txs.append(tx)
    except (IndexError, struct.error) as exc:
        raise ParseError(f"{where}: truncated: data ends inside a transaction ({exc})") from None
    except _Overrun as exc:
        raise ParseError(f"{where}: {exc}") from None
    if pos != len(raw):
        raise ParseError(
            f"{where}: {len(raw) - pos} unexpected bytes after the last transaction at offset {pos}"
        )
    return Block(header, txs, len(raw))


def parse_tx(raw: bytes) -> Tx:
    """Parse one serialized transaction (the whole buffer)."""
    raw = bytes(raw)
    try:
        tx, pos = _parse_tx(raw, 0)
    except (IndexError, struct.error) as exc:
        raise ParseError(f"transaction: truncated: data ends early ({exc})") from None
    except _Overrun as exc:
        raise ParseError(f"transaction: {exc}") from None
    if pos != len(raw):
        raise ParseError(f"transaction: {len(raw) - pos} unexpected bytes after offset {pos}")
    return tx


class _Overrun(Exception):
    pass


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    n = data[pos]
    if n < 0xFD:
        return n, pos + 1
    if n == 0xFD:
        return _U16(data, pos + 1)[0], pos + 3
    if n == 0xFE:
        return _U32(data, pos + 1)[0], pos + 5
    return _U64(data, pos + 1)[0], pos + 9


def _parse_tx(data: bytes, start: int) -> tuple[Tx, int]:
    end = len(data)
    version = _I32(data, start)[0]
    pos = start + 4
    segwit = data[pos] == 0 and data[pos + 1] != 0
    if segwit:
        if data[pos + 1] != 1:
            raise _Overrun(f"unknown transaction flag {data[pos + 1]} at offset {pos + 1}")
        pos += 2
    body_start = pos
    # inputs
    n = data[pos]
    if n < 0xFD:
        pos += 1
    else:
        n, pos = _varint(data, pos)
    if n * 41 > end - pos:
        raise _Overrun(f"input count {n} at offset {pos} runs past the end of the data")
    inputs: list[TxIn] = []
    append_in = inputs.append
    for _ in range(n):
        prev, index, ln = _IN_HEAD(data, pos)
        pos += 37
        if ln >= 0xFD:
            ln, pos = _varint(data, pos - 1)
        script = data[pos : pos + ln]
        pos += ln
        if pos + 4 > end:
            raise _Overrun(f"input script of length {ln} runs past the end at offset {pos - ln}")
        append_in((prev, index, script, _U32(data, pos)[0]))
        pos += 4
    # outputs
    n = data[pos]
    if n < 0xFD:
        pos += 1
    else:
        n, pos = _varint(data, pos)
    if n * 9 > end - pos:
        raise _Overrun(f"output count {n} at offset {pos} runs past the end of the data")
    outputs: list[TxOut] = []
    append_out = outputs.append
    for _ in range(n):
        value, ln = _OUT_HEAD(data, pos)
        pos += 9
        if ln >= 0xFD:
            ln, pos = _varint(data, pos - 1)
        if pos + ln > end:
            raise _Overrun(f"output script of length {ln} runs past the end at offset {pos}")
        append_out((value, data[pos : pos + ln]))
        pos += ln
    body_end = pos
    witnesses: list[list[bytes]] | None = None
    if segwit:
        witnesses = []
        for _ in range(len(inputs)):
            k = data[pos]
            if k < 0xFD:
                pos += 1
            else:
                k, pos = _varint(data, pos)
            if k > end - pos:
                raise _Overrun(f"witness item count {k} at offset {pos} runs past the end")
            items = []
            for _ in range(k):
                ln = data[pos]
                if ln < 0xFD:
                    pos += 1
                else:
                    ln, pos = _varint(data, pos)
                if pos + ln > end:
                    raise _Overrun(f"witness item of length {ln} runs past the end at {pos}")
                items.append(data[pos : pos + ln])
                pos += ln
            witnesses.append(items)
    if pos + 4 > end:
        raise _Overrun(f"locktime at offset {pos} runs past the end of the data")
    locktime = _U32(data, pos)[0]
    pos += 4
    if segwit:
        stripped = data[start : start + 4] + data[body_start:body_end] + data[pos - 4 : pos]
        txhash = _sha256(_sha256(stripped).digest()).digest()
        base = len(stripped)
    else:
        txhash = _sha256(_sha256(data[start:pos]).digest()).digest()
        base = pos - start
    return Tx(txhash, version, inputs, outputs, locktime, witnesses, pos - start, base), pos


def bits_to_target(bits: int) -> int:
    """The 256-bit target encoded by a header's compact ``bits``."""
    exponent = bits >> 24
    mantissa = bits & 0x007FFFFF
    if bits & 0x00800000:
        return 0  # negative targets are invalid: nothing satisfies them
    if exponent <= 3:
        return mantissa >> (8 * (3 - exponent))
    return mantissa << (8 * (exponent - 3))


def block_work(bits: int) -> int:
    """Expected hashes to find a block at ``bits``: the measure of a chain's work."""
    target = bits_to_target(bits)
    return (1 << 256) // (target + 1) if target > 0 else 0


def check_pow(header: BlockHeader) -> bool:
    """True when the header's hash meets the target in its own bits (cheap garbage check)."""
    target = bits_to_target(header.bits)
    return target > 0 and int.from_bytes(header.hash, "little") <= target
