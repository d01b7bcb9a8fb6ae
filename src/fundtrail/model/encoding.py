"""Address encodings: base58check (BIP-13 era) and bech32 / bech32m (BIP-173, BIP-350).

Hand-written because they are tiny, hot at ingest time, and must give precise
error messages (which character, which checksum) rather than a bare failure.
"""

from __future__ import annotations

import hashlib
import threading
from functools import reduce
from typing import Any

from fundtrail.errors import InvalidInputError

B58_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_B58_INDEX = {c: i for i, c in enumerate(B58_ALPHABET)}

BECH32_CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_BECH32_INDEX = {c: i for i, c in enumerate(BECH32_CHARSET)}
_BECH32_ONLY = {ord(c): None for c in BECH32_CHARSET}
_BECH32_DIGITS = bytes(_BECH32_INDEX.get(chr(b), 0) for b in range(256))
BECH32_CONST = 1
BECH32M_CONST = 0x2BC830A3


def sha256d(data: bytes) -> bytes:
    return hashlib.sha256(hashlib.sha256(data).digest()).digest()


def hash160(data: bytes) -> bytes:
    return hashlib.new("ripemd160", hashlib.sha256(data).digest()).digest()


def b58encode(data: bytes) -> str:
    n = int.from_bytes(data, "big")
    out = []
    while n:
        n, r = divmod(n, 58)
        out.append(B58_ALPHABET[r])
    pad = len(data) - len(data.lstrip(b"\0"))
    return "1" * pad + "".join(reversed(out))


_B58_ONLY = {ord(c): None for c in B58_ALPHABET}  # str.translate: delete the alphabet
_B58_DIGITS = bytes(_B58_INDEX.get(chr(b), 0) for b in range(256))  # bytes.translate


def b58decode(text: str) -> bytes:
    if text.translate(_B58_ONLY):  # something outside the alphabet: say what and where
        pos, ch = next((i, c) for i, c in enumerate(text) if c not in _B58_INDEX)
        raise InvalidInputError(
            f"invalid base58 character {ch!r} at position {pos} in {text!r}", field="address"
        )
    n = 0
    for digit in text.encode("ascii").translate(_B58_DIGITS):
        n = n * 58 + digit
    body = n.to_bytes((n.bit_length() + 7) // 8, "big") if n else b""
    pad = len(text) - len(text.lstrip("1"))
    return b"\0" * pad + body


def b58check_encode(payload: bytes) -> str:
    return b58encode(payload + sha256d(payload)[:4])


def b58check_decode(text: str) -> bytes:
    raw = b58decode(text)
    if len(raw) < 5:
        raise InvalidInputError(f"base58check address {text!r} is too short", field="address")
    payload, check = raw[:-4], raw[-4:]
    if sha256d(payload)[:4] != check:
        raise InvalidInputError(
            f"base58check checksum mismatch in {text!r} (mistyped character?)", field="address"
        )
    return payload


_GEN = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)
# the XOR of the generators selected by each 5-bit value of the top bits (BIP-173's inner loop)
_GEN_OF_TOP = tuple(
    reduce(int.__xor__, (g for i, g in enumerate(_GEN) if (top >> i) & 1), 0) for top in range(32)
)


def _polymod(values: list[int]) -> int:
    chk = 1
    for v in values:
        chk = ((chk & 0x1FFFFFF) << 5 ^ v) ^ _GEN_OF_TOP[chk >> 25]
    return chk


def _hrp_expand(hrp: str) -> list[int]:
    return [ord(x) >> 5 for x in hrp] + [0] + [ord(x) & 31 for x in hrp]


def convertbits(data: bytes | list[int], frombits: int, tobits: int, pad: bool = True) -> list[int]:
    acc = bits = 0
    ret: list[int] = []
    maxv = (1 << tobits) - 1
    for value in data:
        if value < 0 or value >> frombits:
            raise InvalidInputError("invalid bech32 data value", field="address")
        acc = (acc << frombits) | value
        bits += frombits
        while bits >= tobits:
            bits -= tobits
            ret.append((acc >> bits) & maxv)
    if pad:
        if bits:
            ret.append((acc << (tobits - bits)) & maxv)
    elif bits >= frombits or ((acc << (tobits - bits)) & maxv):
        raise InvalidInputError("invalid bech32 padding", field="address")
    return ret


def _from_5bit(groups: list[int]) -> bytes:
    """``bytes(convertbits(groups, 5, 8, pad=False))`` for groups already in 0..31: one
    integer built and cut, instead of a bit loop per group."""
    acc = 0
    for g in groups:
        acc = acc << 5 | g
    extra = 5 * len(groups) % 8
    if extra >= 5 or acc & ((1 << extra) - 1):
        raise InvalidInputError("invalid bech32 padding", field="address")
    return (acc >> extra).to_bytes(5 * len(groups) // 8, "big")


def segwit_encode(hrp: str, version: int, program: bytes) -> str:
    const = BECH32_CONST if version == 0 else BECH32M_CONST
    data = [version, *convertbits(program, 8, 5)]
    values = _hrp_expand(hrp) + data
    polymod = _polymod([*values, 0, 0, 0, 0, 0, 0]) ^ const
    checksum = [(polymod >> 5 * (5 - i)) & 31 for i in range(6)]
    return hrp + "1" + "".join(BECH32_CHARSET[d] for d in data + checksum)


def segwit_decode(text: str) -> tuple[str, int, bytes]:
    """Decode a segwit address; returns (hrp, witness version, program)."""
    if text.lower() != text and text.upper() != text:
        raise InvalidInputError(
            f"bech32 address {text!r} mixes upper and lower case", field="address"
        )
    s = text.lower()
    pos = s.rfind("1")
    if pos < 1 or pos + 7 > len(s) or len(s) > 90:
        raise InvalidInputError(f"malformed bech32 address {text!r}", field="address")
    hrp, body = s[:pos], s[pos + 1 :]
    if body.translate(_BECH32_ONLY):  # something outside the charset: say what and where
        i, ch = next((i, c) for i, c in enumerate(body) if c not in _BECH32_INDEX)
        raise InvalidInputError(
            f"invalid bech32 character {ch!r} at position {pos + 1 + i} in {text!r}",
            field="address",
        )
    data = list(body.encode("ascii").translate(_BECH32_DIGITS))
    const = _polymod(_hrp_expand(hrp) + data)
    if const not in (BECH32_CONST, BECH32M_CONST):
        raise InvalidInputError(
            f"bech32 checksum mismatch in {text!r} (mistyped character?)", field="address"
        )
    version = data[0]
    if version > 16:
        raise InvalidInputError(f"invalid witness version {version} in {text!r}", field="address")
    program = _from_5bit(data[1:-6])
    if not 2 <= len(program) <= 40:
        raise InvalidInputError(f"invalid witness program length in {text!r}", field="address")
    if version == 0 and len(program) not in (20, 32):
        raise InvalidInputError(f"invalid v0 witness program length in {text!r}", field="address")
    expected = BECH32_CONST if version == 0 else BECH32M_CONST
    if const != expected:
        kind = "bech32" if version == 0 else "bech32m"
        raise InvalidInputError(
            f"witness v{version} address {text!r} must use the {kind} checksum", field="address"
        )
    return hrp, version, program


def keccak256(data: bytes) -> bytes:
    """Keccak-256 (Ethereum's, not SHA3-256) of ``data``."""
    oneshot = _keccak_oneshot()
    if oneshot is None:
        from Crypto.Hash import keccak

        return keccak.new(digest_bits=256, data=data).digest()
    return oneshot(data)


_KECCAK: list[Any] = []
_KECCAK_OUT = threading.local()


def _keccak_oneshot() -> Any:
    """pycryptodome's one-call Keccak with a per-thread output buffer: a quarter of the
    cost of building a hash object (every EIP-55 address check hashes once). None when
    this pycryptodome has no such function (then the public API is used)."""
    if not _KECCAK:
        try:
            from Crypto.Hash import keccak
            from Crypto.Util import _raw_api

            fn = keccak._raw_keccak_lib.keccak_oneshot
            buffer, new_buffer = _raw_api.ffi.buffer, _raw_api.create_string_buffer

            def oneshot(data: bytes) -> bytes:
                out = getattr(_KECCAK_OUT, "buf", None)
                if out is None:
                    out = _KECCAK_OUT.buf = new_buffer(32)
                if fn(data, len(data), out, 32, 64, 24, 0x01):  # capacity 64 B, 24 rounds
                    raise ValueError("keccak failed")
                return bytes(buffer(out))

            if oneshot(b"") != keccak.new(digest_bits=256, data=b"").digest():
                raise ValueError("keccak_oneshot disagrees")
            _KECCAK.append(oneshot)
        except Exception:  # another pycryptodome (ctypes back end, renamed internals)
            _KECCAK.append(None)
    return _KECCAK[0]


def eip55(hex40: str) -> str:
    """Return the EIP-55 mixed-case checksum form of a 40-hex-digit address."""
    lower = hex40.lower()
    digest = keccak256(lower.encode("ascii")).hex()
    return "0x" + "".join(
        c.upper() if int(d, 16) >= 8 else c for c, d in zip(lower, digest[:40], strict=True)
    )
