"""Decode a raw block or transaction for a person, without touching the store.

What an investigator does with a raw transaction someone sent them: txids, outputs with
addresses and values, the outpoints the inputs spend.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from fundtrail.chains.bitcoin.blkfile import decode_hex, iter_blocks, load_bytes
from fundtrail.chains.bitcoin.network import BY_MAGIC, MAINNET, Network
from fundtrail.chains.bitcoin.parse import Block, ParseError, Tx, check_pow, parse_block, parse_tx
from fundtrail.chains.bitcoin.script import MAINNET_FORMAT, AddressFormat, classify
from fundtrail.errors import InvalidInputError

_HEX = re.compile(r"(0x)?[0-9a-fA-F\s]+")


def decode(source: str) -> dict[str, Any]:
    """``source`` is a file path (raw, hex, blk*.dat, bz2) or hex text of a block or tx."""
    path = Path(source)
    if _is_file(path):
        data, where = load_bytes(path), path.name
    elif _HEX.fullmatch(source.strip()):
        data, where = decode_hex(source, "argument"), "argument"
    else:
        raise InvalidInputError(
            f"{source[:80]!r} is neither an existing file nor hex of a block or transaction",
            field="source",
        )
    if not data:
        raise InvalidInputError(f"{where}: nothing to decode", field="source")
    net: Network | None = BY_MAGIC.get(data[:4])
    if net is not None:  # blk records: their magic names the network and address format
        blocks = [
            block_dict(parse_block(rb.data, where=rb.where), net.addresses)
            for rb in iter_blocks(data, where, magic=net.magic)
        ]
        out: dict[str, Any] = {"type": "blocks", "count": len(blocks), "blocks": blocks}
        if net is not MAINNET:
            out["network"] = net.name
        return out
    try:
        return block_dict(parse_block(data, where=where))
    except ParseError as block_err:
        try:
            return tx_dict(parse_tx(data))
        except ParseError as tx_err:
            raise InvalidInputError(
                f"{where}: neither a block ({block_err}) nor a transaction ({tx_err})",
                field="source",
            ) from None


def _is_file(path: Path) -> bool:
    try:
        return path.is_file()
    except OSError:  # a long hex string is not a file name
        return False


def block_dict(block: Block, fmt: AddressFormat = MAINNET_FORMAT) -> dict[str, Any]:
    h = block.header
    return {
        "type": "block",
        "hash": h.block_hash,
        "prev_hash": h.prev_block_hash,
        "merkle_root": h.merkle_root[::-1].hex(),
        "merkle_ok": block.merkle_root() == h.merkle_root,
        "pow_ok": check_pow(h),
        "version": h.version,
        "time": h.time,
        "bits": f"{h.bits:08x}",
        "nonce": h.nonce,
        "size": block.size,
        "tx_count": len(block.txs),
        "height_in_coinbase": _bip34_height(block),
        "txs": [tx_dict(tx, fmt) for tx in block.txs],
    }


def tx_dict(tx: Tx, fmt: AddressFormat = MAINNET_FORMAT) -> dict[str, Any]:
    coinbase = tx.is_coinbase
    outputs = []
    for n, (value, script) in enumerate(tx.outputs):
        stype, address = classify(script, fmt)
        outputs.append(
            {
                "n": n,
                "value": value,
                "address": address,
                "script_type": stype,
                "script_hex": script.hex(),
            }
        )
    inputs = [
        {
            "n": n,
            "coinbase": coinbase,
            "spent_txid": None if coinbase else prev[::-1].hex(),
            "spent_n": None if coinbase else index,
            "script_sig_hex": script.hex(),
            "sequence": seq,
            "witness_items": len(tx.witnesses[n]) if tx.witnesses else 0,
        }
        for n, (prev, index, script, seq) in enumerate(tx.inputs)
    ]
    return {
        "type": "tx",
        "txid": tx.txid,
        "version": tx.version,
        "locktime": tx.locktime,
        "segwit": tx.witnesses is not None,
        "size": tx.size,
        "vsize": tx.vsize,
        "is_coinbase": coinbase,
        "total_out": sum(v for v, _ in tx.outputs),
        "inputs": inputs,
        "outputs": outputs,
    }


def _bip34_height(block: Block) -> int | None:
    """Height pushed first in the coinbase script (BIP-34, block version >= 2)."""
    if block.header.version < 2 or not block.txs or not block.txs[0].is_coinbase:
        return None
    script = block.txs[0].inputs[0][2]
    if not script or not 1 <= script[0] <= 8 or len(script) < 1 + script[0]:
        return None
    return int.from_bytes(script[1 : 1 + script[0]], "little")
