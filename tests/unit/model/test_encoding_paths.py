"""The address decoders' table-driven paths give exactly what BIP-173's bit loops and a
digit-by-digit base58 give, and the same errors naming the bad character."""

from __future__ import annotations

import os
import random

import pytest

from fundtrail.errors import InvalidInputError
from fundtrail.model import encoding as E


def polymod_reference(values: list[int]) -> int:
    gen = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)
    chk = 1
    for v in values:
        top = chk >> 25
        chk = (chk & 0x1FFFFFF) << 5 ^ v
        for i in range(5):
            chk ^= gen[i] if ((top >> i) & 1) else 0
    return chk


def b58decode_reference(text: str) -> bytes:
    n = 0
    for ch in text:
        n = n * 58 + E.B58_ALPHABET.index(ch)
    body = n.to_bytes((n.bit_length() + 7) // 8, "big") if n else b""
    return b"\0" * (len(text) - len(text.lstrip("1"))) + body


def test_polymod_and_base58_match_the_reference() -> None:
    rng = random.Random(7)
    for _ in range(5000):
        values = [rng.randrange(32) for _ in range(rng.randrange(100))]
        assert E._polymod(values) == polymod_reference(values)
        text = "".join(rng.choice(E.B58_ALPHABET) for _ in range(rng.randrange(50)))
        assert E.b58decode(text) == b58decode_reference(text)


def test_five_bit_groups_match_convertbits_including_bad_padding() -> None:
    rng = random.Random(8)
    for _ in range(5000):
        groups = [rng.randrange(32) for _ in range(rng.randrange(70))]
        try:
            expected: bytes | None = bytes(E.convertbits(groups, 5, 8, pad=False))
        except InvalidInputError:
            expected = None
        if expected is None:
            with pytest.raises(InvalidInputError, match="padding"):
                E._from_5bit(groups)
        else:
            assert E._from_5bit(groups) == expected


def test_segwit_round_trip_and_errors_name_the_character() -> None:
    rng = random.Random(9)
    for _ in range(500):
        version = rng.choice([0, 1, 2, 16])
        size = rng.choice([20, 32]) if version == 0 else rng.randrange(2, 41)
        program = os.urandom(size)
        assert E.segwit_decode(E.segwit_encode("bc", version, program)) == ("bc", version, program)
    good = "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"
    with pytest.raises(InvalidInputError, match=r"invalid bech32 character 'b' at position 41"):
        E.segwit_decode(good[:-1] + "b")
    with pytest.raises(InvalidInputError, match="invalid bech32 character 'é' at position 41"):
        E.segwit_decode(good[:-1] + "é")
    with pytest.raises(InvalidInputError, match="checksum mismatch"):
        E.segwit_decode(good[:-1] + "p")
    with pytest.raises(InvalidInputError, match="invalid base58 character '0' at position 2"):
        E.b58decode("ab0c")
