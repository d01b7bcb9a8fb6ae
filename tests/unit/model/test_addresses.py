"""Addresses are validated with their checksums at the door, with errors that name the problem."""

from __future__ import annotations

import pytest

from fundtrail.errors import InvalidInputError
from fundtrail.model.addresses import parse_address


@pytest.mark.parametrize(
    ("text", "chain", "kind"),
    [
        ("1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa", "BTC", "p2pkh"),  # genesis coinbase
        ("3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy", "BTC", "p2sh"),
        ("bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq", "BTC", "p2wpkh"),
        ("bc1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3qccfmv3", "BTC", "p2wsh"),
        ("bc1p5d7rjq7g6rdk2yhzks9smlaqtedr4dekq08ge8ztwac72sfr9rusxg3297", "BTC", "p2tr"),
        ("0x01e2919679362dFBC9ee1644Ba9C6da6D6245BB1", "ETH", "evm"),
        ("TBHTJqAy4DhHhmT3dNceJYNRz4SdLofLre", "TRX", "tron"),
        ("LNf2JDiuunBz7GMDKFYHN4rq5meXWxiwfb", "LTC", "p2pkh"),
    ],
)
def test_valid_addresses_parse_with_their_kind(text: str, chain: str, kind: str) -> None:
    assert parse_address(text, chain).kind == kind


def test_evm_addresses_are_keyed_lowercase_and_shown_eip55() -> None:
    a = parse_address("0x01e2919679362dfbc9ee1644ba9c6da6d6245bb1", "ETH")
    assert a.value == "0x01e2919679362dfbc9ee1644ba9c6da6d6245bb1"
    assert a.display == "0x01e2919679362dFBC9ee1644Ba9C6da6D6245BB1"


@pytest.mark.parametrize(
    ("text", "chain", "needle"),
    [
        ("1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNb", "BTC", "checksum"),
        ("1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfN0", "BTC", "invalid character '0'"),
        ("bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdx", "BTC", "checksum"),
        ("bc1Qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq", "BTC", "mixes upper and lower"),
        ("0x01e2919679362dFBC9ee1644Ba9C6da6D6245Bb1", "ETH", "EIP-55 checksum"),
        ("0x01e29196", "ETH", "40 hex digits"),
        ("", "BTC", "empty"),
    ],
)
def test_mistyped_addresses_name_the_problem(text: str, chain: str, needle: str) -> None:
    with pytest.raises(InvalidInputError, match=needle):
        parse_address(text, chain)


def test_taproot_address_with_bech32_v0_checksum_is_refused() -> None:
    # BIP-350: witness v1+ must use bech32m; this is the same program with the v0 checksum
    from fundtrail.model.encoding import segwit_decode, segwit_encode

    good = "bc1p5d7rjq7g6rdk2yhzks9smlaqtedr4dekq08ge8ztwac72sfr9rusxg3297"
    _, _, program = segwit_decode(good)
    assert segwit_encode("bc", 1, program) == good
