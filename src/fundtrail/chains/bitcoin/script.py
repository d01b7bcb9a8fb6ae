"""Output scripts to (script type, address), the way block explorers show them.

P2PK is shown as the P2PKH address of its key (the explorers' convention) with the
script type kept as ``p2pk``; bare multisig, OP_RETURN (``nulldata``) and anything
non-standard get no address. Encoders are local and table-driven because they run
once per new output script at ingest.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass

from fundtrail.model.encoding import B58_ALPHABET, BECH32_CHARSET

_sha256 = hashlib.sha256

OP_0, OP_1, OP_16 = 0x00, 0x51, 0x60
OP_RETURN, OP_DUP, OP_HASH160, OP_EQUAL = 0x6A, 0x76, 0xA9, 0x87
OP_EQUALVERIFY, OP_CHECKSIG, OP_CHECKMULTISIG = 0x88, 0xAC, 0xAE

Classified = tuple[str, str | None]

NULLDATA: Classified = ("nulldata", None)
NONSTANDARD: Classified = ("nonstandard", None)
MULTISIG: Classified = ("multisig", None)


@dataclass(frozen=True, slots=True)
class AddressFormat:
    """How a network writes addresses: base58 version bytes and the bech32 prefix."""

    p2pkh: bytes
    p2sh: bytes
    hrp: str


MAINNET_FORMAT = AddressFormat(b"\x00", b"\x05", "bc")  # 1..., 3..., bc1...
TESTNET_FORMAT = AddressFormat(b"\x6f", b"\xc4", "tb")  # m/n..., 2..., tb1...


def _hash160(data: bytes) -> bytes:
    return hashlib.new("ripemd160", _sha256(data).digest()).digest()


_B58_PAIRS = [a + b for a in B58_ALPHABET for b in B58_ALPHABET]  # 58*58 two-digit strings
_B58_CHUNK = 58**10


def base58check(payload: bytes) -> str:
    """Base58check text of ``payload``: ten digits per big-int division, two per table lookup."""
    data = payload + _sha256(_sha256(payload).digest()).digest()[:4]
    n = int.from_bytes(data, "big")
    pairs = _B58_PAIRS
    chunks = []
    while n:
        n, r = divmod(n, _B58_CHUNK)
        r, d0 = divmod(r, 3364)
        r, d1 = divmod(r, 3364)
        r, d2 = divmod(r, 3364)
        r, d3 = divmod(r, 3364)
        chunks.append(pairs[r] + pairs[d3] + pairs[d2] + pairs[d1] + pairs[d0])
    text = "".join(reversed(chunks)).lstrip("1")
    pad = len(data) - len(data.lstrip(b"\0"))
    return "1" * pad + text


_GEN = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)
_GEN_TABLE = [0] * 32
for _top in range(32):
    for _i in range(5):
        if (_top >> _i) & 1:
            _GEN_TABLE[_top] ^= _GEN[_i]


def _polymod(chk: int, values: list[int]) -> int:
    table = _GEN_TABLE
    for v in values:
        chk = ((chk & 0x1FFFFFF) << 5 ^ v) ^ table[chk >> 25]
    return chk


def _hrp_state(hrp: str) -> int:
    return _polymod(1, [ord(x) >> 5 for x in hrp] + [0] + [ord(x) & 31 for x in hrp])


_BC_STATE = _hrp_state("bc")


# Two bech32 checksum steps at once: the top 10 bits of the state pick one table entry.
_T10 = [0] * 1024
for _h in range(1024):
    _g = _GEN_TABLE[_h >> 5]
    _T10[_h] = ((_g & 0x1FFFFFF) << 5) ^ _GEN_TABLE[(_h & 31) ^ (_g >> 25)]
_PAIR_CHARS = [BECH32_CHARSET[p >> 5] + BECH32_CHARSET[p & 31] for p in range(1024)]


@functools.cache
def version_states(hrp: str) -> tuple[int, ...]:
    """The bech32 checksum state after ``hrp`` and each witness version 0..16."""
    state = _hrp_state(hrp)
    return tuple(_polymod(state, [v]) for v in range(17))


def segwit_address(version: int, program: bytes, hrp: str = "bc") -> str:
    """bech32 (v0) or bech32m (v1+) address of a witness program (BIP-173/BIP-350).

    20- and 32-byte programs (all of P2WPKH, P2WSH, P2TR) take a fast path that handles
    10 bits per step; anything else takes the plain 5-bit path.
    """
    n = len(program)
    if (n != 20 and n != 32) or not 0 <= version <= 16:
        return _segwit_generic(version, program, hrp)
    padded = program + b"\0\0\0" if n == 32 else program
    pairs: list[int] = []
    for i in range(0, len(padded), 5):
        c = int.from_bytes(padded[i : i + 5], "big")
        pairs += (c >> 30, (c >> 20) & 1023, (c >> 10) & 1023, c & 1023)
    if n == 32:
        del pairs[26:]  # 256 bits = 52 five-bit groups, the last one zero-padded
    chk, table = version_states(hrp)[version], _T10
    for p in pairs:
        chk = ((chk & 0xFFFFF) << 10) ^ p ^ table[chk >> 20]
    for _ in range(3):  # six zero groups
        chk = ((chk & 0xFFFFF) << 10) ^ table[chk >> 20]
    chk ^= 1 if version == 0 else 0x2BC830A3
    chars = _PAIR_CHARS
    return (
        hrp
        + "1"
        + BECH32_CHARSET[version]
        + "".join([chars[p] for p in pairs])
        + chars[chk >> 20]
        + chars[(chk >> 10) & 1023]
        + chars[chk & 1023]
    )


def _segwit_generic(version: int, program: bytes, hrp: str = "bc") -> str:
    acc = int.from_bytes(program, "big")
    nbits = len(program) * 8
    pad = (-nbits) % 5
    acc <<= pad
    groups = (nbits + pad) // 5
    data = [version] + [(acc >> (5 * (groups - 1 - i))) & 31 for i in range(groups)]
    state = _BC_STATE if hrp == "bc" else _hrp_state(hrp)
    const = 1 if version == 0 else 0x2BC830A3
    polymod = _polymod(state, [*data, 0, 0, 0, 0, 0, 0]) ^ const
    charset = BECH32_CHARSET
    return (
        hrp
        + "1"
        + "".join([charset[d] for d in data])
        + "".join([charset[(polymod >> 5 * (5 - i)) & 31] for i in range(6)])
    )


def _is_pubkey(key: bytes) -> bool:
    return (len(key) == 33 and key[0] in (2, 3)) or (len(key) == 65 and key[0] == 4)


def classify(script: bytes, fmt: AddressFormat = MAINNET_FORMAT) -> Classified:
    """(script type, address or None) of an output script; never raises on garbage."""
    n = len(script)
    if (
        n == 25
        and script[0] == OP_DUP
        and script[1] == OP_HASH160
        and script[2] == 20
        and (script[23] == OP_EQUALVERIFY and script[24] == OP_CHECKSIG)
    ):
        return "p2pkh", base58check(fmt.p2pkh + script[3:23])
    if n == 22 and script[0] == OP_0 and script[1] == 20:
        return "p2wpkh", segwit_address(0, script[2:], fmt.hrp)
    if n == 23 and script[0] == OP_HASH160 and script[1] == 20 and script[22] == OP_EQUAL:
        return "p2sh", base58check(fmt.p2sh + script[2:22])
    if n == 34 and script[1] == 32:
        if script[0] == OP_0:
            return "p2wsh", segwit_address(0, script[2:], fmt.hrp)
        if script[0] == OP_1:
            return "p2tr", segwit_address(1, script[2:], fmt.hrp)
    if n and script[0] == OP_RETURN:
        return NULLDATA
    if (n == 67 or n == 35) and script[0] == n - 2 and script[-1] == OP_CHECKSIG:
        key = script[1:-1]
        if _is_pubkey(key):
            return "p2pk", base58check(fmt.p2pkh + _hash160(key))
        return NONSTANDARD
    if 4 <= n <= 42 and OP_1 <= script[0] <= OP_16 and script[1] == n - 2 and 2 <= n - 2 <= 40:
        version = script[0] - OP_1 + 1
        return f"witness_v{version}", segwit_address(version, script[2:], fmt.hrp)
    if n and script[-1] == OP_CHECKMULTISIG and _is_multisig(script):
        return MULTISIG
    return NONSTANDARD


def _is_multisig(script: bytes) -> bool:
    """m <pubkey>... n OP_CHECKMULTISIG with 1 <= m <= n <= 20 and well-formed pushes."""
    m = script[0] - OP_1 + 1
    if not OP_1 <= script[0] <= OP_16:
        return False
    pos, keys, end = 1, 0, len(script) - 2
    while pos < end:
        ln = script[pos]
        if ln not in (33, 65) or pos + 1 + ln > end:
            return False
        pos += 1 + ln
        keys += 1
    n_op = script[-2]
    return pos == end and OP_1 <= n_op <= OP_16 and n_op - OP_1 + 1 == keys and 1 <= m <= keys


def address_of(script: bytes, fmt: AddressFormat = MAINNET_FORMAT) -> str | None:
    return classify(script, fmt)[1]
