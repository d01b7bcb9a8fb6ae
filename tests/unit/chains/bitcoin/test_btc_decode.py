"""decode: a raw tx or block (file or hex) for a person, without a store."""

from __future__ import annotations

from pathlib import Path

import pytest

from fundtrail.chains.bitcoin.decode import decode
from fundtrail.errors import InvalidInputError

P2WPKH_TX = "57233bf44b82ef3662479e5c80f71ba00c1ae82e8c9739213841f27a2f3d0d79"


def test_decode_tx_hex(test_data: Path) -> None:
    text = (test_data / f"bitcoin/txs/{P2WPKH_TX}.hex").read_text().strip()
    out = decode(text)
    assert out["type"] == "tx" and out["txid"] == P2WPKH_TX and out["segwit"]
    assert out["outputs"][0]["address"] == "bc1qjl8uwezzlech723lpnyuza0h2cdkvxvh54v3dn"
    assert out["outputs"][0]["value"] == 1300076961
    assert {o["script_type"] for o in out["outputs"]} >= {"p2wpkh", "nulldata"}


def test_decode_block_file(test_data: Path) -> None:
    out = decode(str(test_data / "bitcoin/277647.dat.bz2"))
    assert out["type"] == "blocks" and out["count"] == 1
    block = out["blocks"][0]
    assert block["tx_count"] == 213 and block["merkle_ok"] and block["pow_ok"]
    assert block["height_in_coinbase"] == 277647
    assert sum(len(t["inputs"]) for t in block["txs"]) == 733


def test_decode_nonsense_is_a_clear_error() -> None:
    with pytest.raises(InvalidInputError, match="neither an existing file nor hex"):
        decode("not-a-file-or-hex")
    with pytest.raises(InvalidInputError, match="neither a block"):
        decode("0100000001")
