"""Offline checks that a recorded TRON block is what it says it is.

Recorded answers are only worth replaying if nobody edited them: every check here
recomputes a hash the chain itself commits to, from the bytes alone.

* a transaction id is the SHA-256 of its ``raw_data`` bytes (``raw_data_hex``);
* a block id is the block number (8 bytes, big-endian) followed by the last 24 bytes of
  the SHA-256 of the header's ``raw_data`` bytes;
* the header's ``txTrieRoot`` is the Merkle root of the SHA-256 of each whole transaction
  (signatures and result included), paired left to right, an odd last node carried up
  unchanged (java-tron's ``MerkleTree``);
* the witness signature over SHA-256(header raw) recovers (secp256k1) to the key of the
  account that signed the block: the producing witness itself, or the key its witness
  permission names (``signer`` says which; checking the permission needs chain state);
* addresses are 21 bytes starting 0x41 and carry a valid base58check.

Any mismatch is a :class:`SourceError` naming the block, the transaction and what differs.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from fundtrail.chains.tron import wire
from fundtrail.errors import InvalidInputError, SourceError
from fundtrail.model.encoding import b58check_decode, b58check_encode, keccak256

_P = 2**256 - 2**32 - 977
_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
_G = (
    0x79BE667EF9DCBBAC55A06295CE870B07029BFCDB2DCE28D959F2815B16F81798,
    0x483ADA7726A3C4655DA4FBFC0E1108A8FD17B448A68554199C47D08FFB10D4B8,
)
_Point = tuple[int, int] | None


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def tx_id(raw_data: bytes) -> str:
    return sha256(raw_data).hex()


def block_id(number: int, raw_header: bytes) -> str:
    return number.to_bytes(8, "big").hex() + sha256(raw_header)[8:].hex()


def merkle_root(leaves: Sequence[bytes]) -> bytes:
    """java-tron's transaction Merkle root of ``leaves`` (32-byte hashes); 32 zero bytes
    for an empty block."""
    level = list(leaves)
    if not level:
        return bytes(32)
    while len(level) > 1:
        level = [sha256(level[i] + level[i + 1]) if i + 1 < len(level) else level[i]
                 for i in range(0, len(level), 2)]  # fmt: skip
    return level[0]


def header_raw(raw: dict[str, Any]) -> bytes:
    """The protobuf bytes of a header's ``raw_data`` as the HTTP API shows it (fields in
    number order, defaults left out, as java-tron serialises them)."""
    out = bytearray()
    for number, name, kind in (
        (1, "timestamp", "int"), (2, "txTrieRoot", "hex"), (3, "parentHash", "hex"),
        (7, "number", "int"), (8, "witness_id", "int"), (9, "witness_address", "hex"),
        (10, "version", "int"), (11, "accountStateRoot", "hex"),
    ):  # fmt: skip
        value = raw.get(name)
        if value in (None, 0, ""):
            continue
        if kind == "int":
            out += _varint(number << 3) + _varint(int(value))
        else:
            data = bytes.fromhex(str(value))
            out += _varint(number << 3 | 2) + _varint(len(data)) + data
    return bytes(out)


def _varint(n: int) -> bytes:
    if n < 0:
        n += 1 << 64
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def address(hex41: str | bytes, what: str) -> str:
    """Base58check ``T…`` of a 21-byte address, checked both ways."""
    raw = bytes.fromhex(hex41) if isinstance(hex41, str) else hex41
    if len(raw) != 21 or raw[0] != 0x41:
        raise SourceError(f"{what}: {raw.hex()!r} is not a 21-byte TRON address")
    text = b58check_encode(raw)
    try:
        back = b58check_decode(text)
    except InvalidInputError as exc:  # pragma: no cover - encode and decode disagree
        raise SourceError(f"{what}: base58check of {raw.hex()} does not decode") from exc
    if back != raw:
        raise SourceError(f"{what}: base58check of {raw.hex()} does not round-trip")
    return text


def signer(digest: bytes, signature: bytes) -> str:
    """The ``T…`` address whose key made ``signature`` (r || s || v) over ``digest``."""
    if len(signature) != 65:
        raise SourceError(f"a TRON signature is 65 bytes, not {len(signature)}")
    r = int.from_bytes(signature[:32], "big")
    s = int.from_bytes(signature[32:64], "big")
    v = signature[64] - 27 if signature[64] >= 27 else signature[64]
    if not (0 < r < _N and 0 < s < _N and v in (0, 1, 2, 3)):
        raise SourceError("signature values are out of range")
    x = r + (v >> 1) * _N
    y2 = (pow(x, 3, _P) + 7) % _P
    y = pow(y2, (_P + 1) // 4, _P)
    if y * y % _P != y2:
        raise SourceError("signature r is not on the curve")
    if y & 1 != v & 1:
        y = _P - y
    e = int.from_bytes(digest, "big") % _N
    r_inv = pow(r, -1, _N)
    q = _add(_mul(s * r_inv % _N, (x, y)), _mul((-e * r_inv) % _N, _G))
    if q is None:
        raise SourceError("signature recovers to no key")
    pub = q[0].to_bytes(32, "big") + q[1].to_bytes(32, "big")
    return b58check_encode(b"\x41" + keccak256(pub)[-20:])


def _add(a: _Point, b: _Point) -> _Point:
    if a is None:
        return b
    if b is None:
        return a
    if a[0] == b[0] and (a[1] + b[1]) % _P == 0:
        return None
    if a == b:
        m = 3 * a[0] * a[0] * pow(2 * a[1], -1, _P) % _P
    else:
        m = (b[1] - a[1]) * pow(b[0] - a[0], -1, _P) % _P
    x = (m * m - a[0] - b[0]) % _P
    return x, (m * (a[0] - x) - a[1]) % _P


def _mul(k: int, point: _Point) -> _Point:
    out: _Point = None
    while k:
        if k & 1:
            out = _add(out, point)
        point = _add(point, point)
        k >>= 1
    return out


@dataclass(frozen=True, slots=True)
class BlockCheck:
    """What a checked block is: its number, id, transaction ids, producer and signer."""

    number: int
    block_id: str
    txids: tuple[str, ...]
    witness: str
    signer: str


def check_header(raw_header: bytes, signature: bytes, claimed_id: str | None) -> BlockCheck:
    """Check one header's id (when one is claimed) and recover its signer."""
    raw = wire.read(raw_header)
    number = wire.one_int(raw, 7)
    bid = block_id(number, raw_header)
    if claimed_id is not None and claimed_id.lower().removeprefix("0x") != bid:
        raise SourceError(f"block {number}: id {claimed_id} is not {bid} (from its header)")
    witness = address(wire.one_bytes(raw, 9), f"block {number} witness")
    who = signer(sha256(raw_header), signature)
    return BlockCheck(number, bid, (), witness, who)


def check_extension(extension: bytes) -> BlockCheck:
    """Check a gRPC ``BlockExtention`` end to end: block id, every txid, the Merkle root,
    the witness address and signature."""
    top = wire.read(extension)
    header = wire.read(wire.one_bytes(top, 2))
    raw_header = wire.one_bytes(header, 1)
    head = check_header(raw_header, wire.one_bytes(header, 2), wire.one_bytes(top, 3).hex())
    n = head.number
    leaves, txids = [], []
    for index, te in enumerate(wire.all_bytes(top, 1)):
        tef = wire.read(te)
        tx = wire.one_bytes(tef, 1)
        computed = tx_id(wire.one_bytes(wire.read(tx), 1))
        claimed_tx = wire.one_bytes(tef, 2).hex()
        if claimed_tx != computed:
            raise SourceError(
                f"block {n}: transaction {index} claims id {claimed_tx}, "
                f"its raw_data hashes to {computed}"
            )
        leaves.append(sha256(tx))
        txids.append(computed)
    root = merkle_root(leaves).hex()
    claimed = wire.one_bytes(wire.read(raw_header), 2).hex()
    if root != claimed:
        raise SourceError(f"block {n}: txTrieRoot {claimed} is not the Merkle root {root} "
                          f"of its {len(leaves)} transactions")  # fmt: skip
    return BlockCheck(n, head.block_id, tuple(txids), head.witness, head.signer)


def check_answer(block: dict[str, Any]) -> BlockCheck:
    """Check an HTTP block answer: blockID from its header fields, every txID from its
    ``raw_data_hex``, the witness address and signature. (Its Merkle root needs the whole
    transactions' bytes, which the JSON does not keep exactly: check those where recorded
    with :func:`check_extension`.)"""
    try:
        header = block["block_header"]
        raw_header = header_raw(header["raw_data"])
        head = check_header(raw_header, bytes.fromhex(header.get("witness_signature") or ""),
                            str(block.get("blockID") or ""))  # fmt: skip
    except (KeyError, TypeError, ValueError) as exc:
        raise SourceError(f"not a TRON block answer: {exc}") from exc
    txids = []
    for index, tx in enumerate(block.get("transactions") or []):
        computed = tx_id(bytes.fromhex(tx.get("raw_data_hex") or ""))
        if tx.get("txID") != computed:
            raise SourceError(
                f"block {head.number}: transaction {index} claims id {tx.get('txID')}, "
                f"its raw_data_hex hashes to {computed}"
            )
        txids.append(computed)
    return BlockCheck(head.number, head.block_id, tuple(txids), head.witness, head.signer)
