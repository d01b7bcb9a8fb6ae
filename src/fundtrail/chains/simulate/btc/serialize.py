"""Bitcoin transaction and block serialization (BIP-141 SegWit, BIP-34 heights, blk*.dat files).

Written from the consensus rules rather than borrowed from the ingest parser,
so the two check each other.
"""

from __future__ import annotations

import hashlib
import struct
from pathlib import Path
from types import TracebackType

MAINNET_MAGIC = bytes.fromhex("f9beb4d9")
GENESIS_HASH = bytes.fromhex("000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f")[
    ::-1
]
REGTEST_BITS = 0x207FFFFF
BLOCK_VERSION = 0x20000000
MAX_BLOCKFILE_SIZE = 128 * 1024 * 1024
WITNESS_MAGIC = bytes.fromhex("aa21a9ed")
SUBSIDY = 50 * 100_000_000

_sha256 = hashlib.sha256
_pack_q = struct.Struct("<q").pack
_pack_i = struct.Struct("<I").pack


def sha256d(data: bytes) -> bytes:
    return _sha256(_sha256(data).digest()).digest()


_SMALL = [bytes((i,)) for i in range(0xFD)]


def varint(n: int) -> bytes:
    if n < 0xFD:
        return _SMALL[n]
    if n <= 0xFFFF:
        return b"\xfd" + n.to_bytes(2, "little")
    if n <= 0xFFFFFFFF:
        return b"\xfe" + n.to_bytes(4, "little")
    return b"\xff" + n.to_bytes(8, "little")


def txout(value: int, script: bytes) -> bytes:
    return _pack_q(value) + varint(len(script)) + script


# An input to serialize: (prev txid in internal byte order, vout, scriptSig, witness, sequence)
TxIn = tuple[bytes, int, bytes, list[bytes] | None, int]


def serialize_tx(
    inputs: list[TxIn], outputs: list[bytes], locktime: int = 0, version: int = 2
) -> tuple[bytes, bytes, bytes]:
    """Return (raw bytes, txid, wtxid), hashes in internal byte order."""
    vin = [varint(len(inputs))]
    witness = False
    for prev, n, script_sig, wit, seq in inputs:
        vin.append(prev + _pack_i(n) + varint(len(script_sig)) + script_sig + _pack_i(seq))
        witness = witness or wit is not None
    head = _pack_i(version)
    body = b"".join(vin) + varint(len(outputs)) + b"".join(outputs)
    tail = _pack_i(locktime)
    txid = sha256d(head + body + tail)
    if not witness:
        return head + body + tail, txid, txid
    wits = []
    for _, _, _, wit, _ in inputs:
        stack = wit or []
        wits.append(varint(len(stack)))
        wits.extend(varint(len(item)) + item for item in stack)
    raw = head + b"\x00\x01" + body + b"".join(wits) + tail
    return raw, txid, sha256d(raw)


def bip34_height(height: int) -> bytes:
    """The height push a coinbase scriptSig starts with (CScript() << height)."""
    if 1 <= height <= 16:
        return bytes((0x50 + height,))
    body = height.to_bytes((height.bit_length() + 8) // 8, "little")
    return bytes((len(body),)) + body


def merkle_root(hashes: list[bytes]) -> bytes:
    level = list(hashes)
    while len(level) > 1:
        if len(level) % 2:
            level.append(level[-1])
        level = [sha256d(level[i] + level[i + 1]) for i in range(0, len(level), 2)]
    return level[0]


def coinbase_tx(
    height: int, payouts: list[bytes], wtxids: list[bytes] | None, tag: bytes
) -> tuple[bytes, bytes]:
    """Coinbase paying ``payouts``; with ``wtxids`` (SegWit block) it carries the commitment."""
    script_sig = bip34_height(height) + bytes((len(tag),)) + tag
    outputs = list(payouts)
    witness = None
    if wtxids is not None:
        reserved = b"\x00" * 32
        root = merkle_root([b"\x00" * 32, *wtxids])
        commitment = WITNESS_MAGIC + sha256d(root + reserved)
        outputs.append(txout(0, b"\x6a\x24" + commitment))
        witness = [reserved]
    raw, txid, _ = serialize_tx(
        [(b"\x00" * 32, 0xFFFFFFFF, script_sig, witness, 0xFFFFFFFF)], outputs
    )
    return raw, txid


def bits_target(bits: int) -> int:
    return (bits & 0xFFFFFF) << (8 * ((bits >> 24) - 3))


def mine_header(
    prev: bytes, merkle: bytes, time: int, bits: int = REGTEST_BITS
) -> tuple[bytes, bytes]:
    """Grind the nonce until the header hash meets its own target; returns (header, hash)."""
    target = bits_target(bits)
    base = _pack_i(BLOCK_VERSION) + prev + merkle + _pack_i(time) + _pack_i(bits)
    nonce = 0
    while True:
        header = base + _pack_i(nonce)
        h = sha256d(header)
        if int.from_bytes(h, "little") <= target:
            return header, h
        nonce += 1


class BlockFileWriter:
    """Append blocks to blk00000.dat, blk00001.dat, ... rolling at Bitcoin Core's 128 MiB."""

    def __init__(self, directory: Path, max_size: int = MAX_BLOCKFILE_SIZE) -> None:
        self.directory = directory
        self.max_size = max_size
        self.index = 0
        directory.mkdir(parents=True, exist_ok=True)
        self._file = open(self._path(0), "wb")  # noqa: SIM115 - closed in close()
        self._size = 0
        self.files = [self._path(0)]

    def _path(self, index: int) -> Path:
        return self.directory / f"blk{index:05d}.dat"

    def write(self, block: bytes) -> None:
        record = MAINNET_MAGIC + _pack_i(len(block)) + block
        if self._size and self._size + len(record) > self.max_size:
            self._file.close()
            self.index += 1
            self._file = open(self._path(self.index), "wb")  # noqa: SIM115
            self.files.append(self._path(self.index))
            self._size = 0
        self._file.write(record)
        self._size += len(record)

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> BlockFileWriter:
        return self

    def __exit__(
        self, t: type[BaseException] | None, v: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
