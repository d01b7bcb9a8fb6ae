"""Tiny block factory for tests: real-format blocks mined at bits 0x207fffff on any parent.

Blocks built here satisfy their own proof-of-work target (two hashes on average) and
carry correct merkle roots, exactly what the ingest checks.
"""

from __future__ import annotations

import hashlib
import struct

from fundtrail.chains.bitcoin.parse import bits_to_target, merkle_root, parse_tx

MAGIC = bytes.fromhex("f9beb4d9")
TIP_255 = "00000000d0a75c861fabf9ff7b92022f60e4afeed9331fe5aa073d8e4706fe3c"
HAL_TX = "f4184fc596403b9d638783cf57adfe4c75c605f6356fbc91338530e9831e9e16"
HAL = "1Q2TWHE3GMdB6BZKafqwxXtWAWgFt5Jvm3"
SATOSHI_170 = "12cbQLTFMXRnSzktFkuoG3eHoMeFtpTu3S"
EASY_BITS = 0x207FFFFF
COIN = 100_000_000


def _varint(n: int) -> bytes:
    if n < 0xFD:
        return bytes([n])
    if n <= 0xFFFF:
        return b"\xfd" + struct.pack("<H", n)
    return b"\xfe" + struct.pack("<I", n)


def p2wpkh(tag: int) -> bytes:
    return b"\x00\x14" + hashlib.sha256(b"k%d" % tag).digest()[:20]


def p2tr(tag: int) -> bytes:
    return b"\x51\x20" + hashlib.sha256(b"t%d" % tag).digest()


def tx(
    inputs: list[tuple[str, int]],
    outputs: list[tuple[int, bytes]],
    *,
    coinbase_tag: int | None = None,
    witness: bool = False,
) -> bytes:
    """Serialize a tx; ``coinbase_tag`` makes a coinbase with a unique scriptSig."""
    body = b""
    if coinbase_tag is not None:
        sig = b"\x04" + struct.pack("<I", coinbase_tag)
        body += _varint(1) + b"\0" * 32 + b"\xff\xff\xff\xff" + _varint(len(sig)) + sig
        body += b"\xff\xff\xff\xff"
    else:
        body += _varint(len(inputs))
        for txid, n in inputs:
            body += bytes.fromhex(txid)[::-1] + struct.pack("<I", n) + b"\x00\xfe\xff\xff\xff"
    body += _varint(len(outputs))
    for value, script in outputs:
        body += struct.pack("<q", value) + _varint(len(script)) + script
    n_in = 1 if coinbase_tag is not None else len(inputs)
    if witness:  # one 64-byte "signature" per input, as a key-path Taproot spend has
        wit = b"".join(b"\x01\x40" + b"\x5a" * 64 for _ in range(n_in))
        return struct.pack("<i", 2) + b"\x00\x01" + body + wit + b"\0\0\0\0"
    return struct.pack("<i", 2) + body + b"\0\0\0\0"


def txid(raw: bytes) -> str:
    return parse_tx(raw).txid


def block(prev_hash: str, txs: list[bytes], *, time: int, bits: int = EASY_BITS) -> bytes:
    hashes = [parse_tx(t).hash for t in txs]
    root = merkle_root(hashes)
    target = bits_to_target(bits)
    body = _varint(len(txs)) + b"".join(txs)
    for nonce in range(1 << 32):
        header = struct.pack(
            "<i32s32sIII", 0x20000000, bytes.fromhex(prev_hash)[::-1], root, time, bits, nonce
        )
        digest = hashlib.sha256(hashlib.sha256(header).digest()).digest()
        if int.from_bytes(digest, "little") <= target:
            return header + body
    raise AssertionError("no nonce found")


def block_hash(raw: bytes) -> str:
    return hashlib.sha256(hashlib.sha256(raw[:80]).digest()).digest()[::-1].hex()


def records(*blocks: bytes) -> bytes:
    return b"".join(MAGIC + struct.pack("<I", len(b)) + b for b in blocks)


def simple_chain(prev_hash: str, n: int, *, tag: int, time: int) -> list[bytes]:
    """``n`` blocks on ``prev_hash``, each with a coinbase paying a P2TR output of ``tag``."""
    out = []
    for i in range(n):
        cb = tx([], [(50 * COIN, p2tr(tag * 1000 + i))], coinbase_tag=tag * 1000 + i)
        raw = block(prev_hash, [cb], time=time + i * 600)
        out.append(raw)
        prev_hash = block_hash(raw)
    return out
