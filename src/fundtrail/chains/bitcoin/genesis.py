"""The Bitcoin mainnet genesis block, built in so that a file starting at height 1 continues it.

Assembled from its well-known fields rather than pasted as an opaque blob; a test checks
that it hashes to the famous 000000000019d6...e26f.
"""

from __future__ import annotations

import struct

from fundtrail.chains.bitcoin.parse import Block, parse_block

GENESIS_HASH = "000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f"
MAINNET_MAGIC = bytes.fromhex("f9beb4d9")

_COINBASE_SCRIPT = bytes.fromhex(
    "04ffff001d0104455468652054696d65732030332f4a616e2f32303039204368616e63656c6c6f72"
    "206f6e206272696e6b206f66207365636f6e64206261696c6f757420666f722062616e6b73"
)
_SATOSHI_KEY = bytes.fromhex(
    "04678afdb0fe5548271967f1a67130b7105cd6a828e03909a67962e0ea1f61deb649f6bc3f4cef38c4f3"
    "5504e51ec112de5c384df7ba0b8d578a4c702b6bf11d5f"
)


def _coinbase() -> bytes:
    script_out = bytes([len(_SATOSHI_KEY)]) + _SATOSHI_KEY + b"\xac"
    return (
        struct.pack("<i", 1)
        + b"\x01"
        + b"\0" * 32
        + b"\xff\xff\xff\xff"
        + bytes([len(_COINBASE_SCRIPT)])
        + _COINBASE_SCRIPT
        + b"\xff\xff\xff\xff"
        + b"\x01"
        + struct.pack("<q", 50 * 100_000_000)
        + bytes([len(script_out)])
        + script_out
        + b"\0\0\0\0"
    )


def genesis_raw() -> bytes:
    merkle = bytes.fromhex("4a5e1e4baab89f3a32518a88c31bc87f618f76673e2cc77ab2127b7afdeda33b")
    header = struct.pack(
        "<i32s32sIII", 1, b"\0" * 32, merkle[::-1], 1231006505, 0x1D00FFFF, 2083236893
    )
    return header + b"\x01" + _coinbase()


def genesis_block() -> Block:
    return parse_block(genesis_raw(), where="genesis block")
