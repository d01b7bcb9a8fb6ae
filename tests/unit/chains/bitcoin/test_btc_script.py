"""Output script -> (script type, address): real outputs and the BIP-173/BIP-350 vectors."""

from __future__ import annotations

import bz2
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fundtrail.chains.bitcoin.parse import parse_block, parse_tx
from fundtrail.chains.bitcoin.script import classify
from fundtrail.model.addresses import parse_address

SATOSHI_KEY = (
    "04678afdb0fe5548271967f1a67130b7105cd6a828e03909a67962e0ea1f61deb649f6bc3f4cef38c4f3"
    "5504e51ec112de5c384df7ba0b8d578a4c702b6bf11d5f"
)


@pytest.mark.parametrize(
    ("script_hex", "kind", "address"),
    [
        # P2PK of the genesis coinbase: shown as its P2PKH address, type kept
        (f"41{SATOSHI_KEY}ac", "p2pk", "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa"),
        (
            "76a91462e907b15cbf27d5425399ebf6f0fb50ebb88f1888ac",
            "p2pkh",
            "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa",
        ),
        (
            "a914f815b036d9bbbce5e9f2a00abd1bf3dc91e9551087",
            "p2sh",
            "3QJmV3qfvL9SuYo34YihAf3sRCW3qSinyC",
        ),
        # BIP-173 vectors
        (
            "0014751e76e8199196d454941c45d1b3a323f1433bd6",
            "p2wpkh",
            "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4",
        ),
        (
            "00201863143c14c5166804bd19203356da136c985678cd4d27a1b8c6329604903262",
            "p2wsh",
            "bc1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3qccfmv3",
        ),
        # BIP-350 vectors (bech32m for witness v1+)
        (
            "512079be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798",
            "p2tr",
            "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0",
        ),
        (
            "5210751e76e8199196d454941c45d1b3a323",
            "witness_v2",
            "bc1zw508d6qejxtdg4y5r3zarvaryvaxxpcs",
        ),
        ("6002751e", "witness_v16", "bc1sw50qgdz25j"),
    ],
)
def test_standard_scripts_map_to_checksummed_addresses(
    script_hex: str, kind: str, address: str
) -> None:
    assert classify(bytes.fromhex(script_hex)) == (kind, address)
    normalised = address.lower() if address.lower().startswith("bc1") else address
    assert parse_address(address, "BTC").value == normalised  # our own validator agrees


@pytest.mark.parametrize(
    ("script_hex", "kind"),
    [
        ("6a0b68656c6c6f20776f726c64", "nulldata"),  # OP_RETURN "hello world"
        ("6a", "nulldata"),
        # bare 1-of-2 multisig
        ("5121" + "02" + "11" * 32 + "21" + "03" + "22" * 32 + "52ae", "multisig"),
        ("", "nonstandard"),
        ("4cff01", "nonstandard"),  # PUSHDATA1 of 255 bytes with one byte present: garbage
        ("00" + "0f" + "11" * 15, "nonstandard"),  # witness v0 with a 15-byte program: invalid
        ("41" + "05" * 65 + "ac", "nonstandard"),  # P2PK-shaped but not a public key
        ("ffffffff", "nonstandard"),
    ],
)
def test_scripts_without_an_address(script_hex: str, kind: str) -> None:
    assert classify(bytes.fromhex(script_hex)) == (kind, None)


def test_real_segwit_outputs(test_data: Path) -> None:
    name = "0ed31a69f6ceca5ed3444fc1eba41cd23c7a9476211cb64d8448423809569901.hex"
    tx = parse_tx(bytes.fromhex((test_data / "bitcoin/txs" / name).read_text()))
    kinds = [classify(s) for _, s in tx.outputs]
    assert ("p2wsh", "bc1qwqdg6squsna38e46795at95yu9atm8azzmyvckulcc7kytlcckxswvvzej") in kinds


def test_every_address_in_block_574200_matches_python_bitcoinlib(test_data: Path) -> None:
    from bitcoin.core import x
    from bitcoin.core.script import CScript
    from bitcoin.wallet import CBitcoinAddress, P2PKHBitcoinAddress

    block = parse_block(bz2.decompress((test_data / "bitcoin/574200.blk.bz2").read_bytes()))
    checked = 0
    for tx in block.txs:
        for _, script in tx.outputs:
            kind, ours = classify(script)
            if kind == "p2pk":
                ref = str(P2PKHBitcoinAddress.from_pubkey(x(script[1:-1].hex())))
            elif kind in ("p2pkh", "p2sh", "p2wpkh", "p2wsh"):
                ref = str(CBitcoinAddress.from_scriptPubKey(CScript(script)))
            else:
                assert ours is None
                continue
            assert ours == ref
            checked += 1
    assert checked == 8150 - 976  # every output but the OP_RETURNs


@given(st.binary(max_size=80))
@settings(max_examples=300, deadline=None)
def test_any_bytes_classify_without_error_to_a_valid_address(script: bytes) -> None:
    kind, address = classify(script)
    if address is not None:
        assert parse_address(address, "BTC").kind in {kind, "p2pkh"}  # p2pk shows as p2pkh


@given(
    st.sampled_from([b"\x00\x14", b"\x00\x20", b"\x51\x20", b"\xa9\x14", b"\x60\x02"]), st.data()
)
@settings(max_examples=200, deadline=None)
def test_standard_templates_with_any_payload_round_trip(prefix: bytes, data: st.DataObject) -> None:
    size = prefix[1]
    script = prefix + data.draw(st.binary(min_size=size, max_size=size))
    if prefix == b"\xa9\x14":
        script += b"\x87"
    kind, address = classify(script)
    assert address is not None and parse_address(address, "BTC").kind == kind
