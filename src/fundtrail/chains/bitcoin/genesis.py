"""Genesis blocks, built in so that a file starting at height 1 continues one.

Assembled from their well-known fields (see :mod:`fundtrail.chains.bitcoin.network`)
rather than pasted as opaque blobs; a test checks that each hashes to its network's
famous genesis hash (mainnet's 000000000019d6...e26f).
"""

from __future__ import annotations

import struct

from fundtrail.chains.bitcoin.network import MAINNET, Network
from fundtrail.chains.bitcoin.parse import Block, merkle_root, parse_block, parse_tx

GENESIS_HASH = MAINNET.genesis_hash
MAINNET_MAGIC = MAINNET.magic


def _push(data: bytes) -> bytes:
    if len(data) < 0x4C:
        return bytes([len(data)]) + data
    return b"\x4c" + bytes([len(data)]) + data  # OP_PUSHDATA1


def _coinbase(net: Network) -> bytes:
    # scriptSig: <486604799> <4> <message>, as CreateGenesisBlock writes it
    script_sig = _push(struct.pack("<I", 0x1D00FFFF)) + _push(b"\x04") + _push(net.genesis_message)
    script_out = _push(net.genesis_key) + b"\xac"
    return (
        struct.pack("<i", 1)
        + b"\x01"
        + b"\0" * 32
        + b"\xff\xff\xff\xff"
        + bytes([len(script_sig)])
        + script_sig
        + b"\xff\xff\xff\xff"
        + b"\x01"
        + struct.pack("<q", 50 * 100_000_000)
        + bytes([len(script_out)])
        + script_out
        + b"\0\0\0\0"
    )


def genesis_raw(net: Network = MAINNET) -> bytes:
    coinbase = _coinbase(net)
    merkle = merkle_root([parse_tx(coinbase).hash])
    header = struct.pack(
        "<i32s32sIII",
        1,
        b"\0" * 32,
        merkle,
        net.genesis_time,
        net.genesis_bits,
        net.genesis_nonce,
    )
    return header + b"\x01" + coinbase


def genesis_block(net: Network = MAINNET) -> Block:
    return parse_block(genesis_raw(net), where=f"{net.name} genesis block")
