"""Many output scripts classified at once: base58check text for a whole block in numpy.

Why: at ingest most new output scripts are P2PKH/P2SH, and encoding their base58 text
one big-int at a time was the largest single cost after parsing. Here every 25-byte
payload+checksum of a block is one row of a (rows, 7) array of 32-bit limbs, and seven
vectorised long divisions by 58**5 give all 35 digits. The text is exactly what
:func:`~fundtrail.chains.bitcoin.script.base58check` gives (tested against it).
"""

from __future__ import annotations

import hashlib

import numpy as np

from fundtrail.chains.bitcoin.script import (
    _PAIR_CHARS,
    _T10,
    MAINNET_FORMAT,
    AddressFormat,
    Classified,
    base58check,
    classify,
    segwit_address,
    version_states,
)
from fundtrail.model.encoding import B58_ALPHABET, BECH32_CHARSET

_sha256 = hashlib.sha256
_ALPHABET = np.frombuffer(B58_ALPHABET.encode("ascii"), dtype=np.uint8)
_D = np.uint64(58**5)
_POW = np.array([58**4, 58**3, 58**2, 58, 1], dtype=np.uint64)
_DIGITS = 35  # base58 digits of a 200-bit number (58**35 > 2**200)
_BULK_MIN = 16  # below this many payloads the per-item encoder is as fast

_P2PKH_HEAD, _P2PKH_TAIL = b"\x76\xa9\x14", b"\x88\xac"
_T10_NP = np.array(_T10, dtype=np.uint32)
_PAIR_NP = np.frombuffer("".join(_PAIR_CHARS).encode("ascii"), dtype=np.uint8).reshape(1024, 2)
# (script type, witness version) of the bulk segwit groups, by (first byte, program length)
_SEGWIT = {(0x00, 20): ("p2wpkh", 0), (0x00, 32): ("p2wsh", 0), (0x51, 32): ("p2tr", 1)}


def base58check_many(payloads: list[bytes]) -> list[str]:
    """``[base58check(p) for p in payloads]`` for 21-byte payloads (version + hash160)."""
    if not payloads:
        return []
    data = b"".join([p + _sha256(_sha256(p).digest()).digest()[:4] for p in payloads])
    rows = len(payloads)
    chars, first = base58_chars(np.frombuffer(data, dtype=np.uint8).reshape(rows, 25))
    text = chars.tobytes().decode("ascii")
    return [text[i * _DIGITS + s : (i + 1) * _DIGITS] for i, s in enumerate(first.tolist())]


def base58_chars(raw: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Base58 of each row of (rows, 25) bytes (payload + checksum): an (rows, 35) ASCII
    matrix and, per row, the column its text starts at (leading "1"s kept per zero byte)."""
    rows = raw.shape[0]
    padded = np.zeros((rows, 28), dtype=np.uint8)
    padded[:, 3:] = raw
    limbs = padded.view(">u4").astype(np.uint64)  # (rows, 7), most significant first
    digits = np.empty((rows, _DIGITS), dtype=np.uint64)
    shift = np.uint64(32)
    for chunk in range(_DIGITS // 5 - 1, -1, -1):  # least significant five digits first
        rem = np.zeros(rows, dtype=np.uint64)
        for j in range(limbs.shape[1]):
            cur = (rem << shift) | limbs[:, j]
            limbs[:, j] = cur // _D
            rem = cur % _D
        digits[:, chunk * 5 : chunk * 5 + 5] = (rem[:, None] // _POW) % np.uint64(58)
    chars = _ALPHABET[digits]
    # leading zero digits of the number, and leading zero bytes of the data ("1" each)
    zero_digits = np.argmax(digits != 0, axis=1)
    zero_digits[~digits.any(axis=1)] = _DIGITS
    zero_bytes = np.argmax(raw != 0, axis=1)
    zero_bytes[~raw.any(axis=1)] = 25
    return chars, (zero_digits - zero_bytes).astype(np.int64)  # digit 0 is "1"


def segwit_many(version: int, programs: list[bytes], hrp: str = "bc") -> list[str]:
    """``[segwit_address(version, p, hrp) for p in programs]`` for programs of one
    length, 20 or 32 bytes: the same 10-bits-per-step checksum, over all rows at once."""
    n = len(programs)
    if n < _BULK_MIN:
        return [segwit_address(version, p, hrp) for p in programs]
    size = len(programs[0])
    raw = np.frombuffer(b"".join(programs), dtype=np.uint8).reshape(n, size)
    chars = bech32_chars(version, raw, hrp)
    width = chars.shape[1]
    text = chars.tobytes().decode("ascii")
    prefix = hrp + "1" + BECH32_CHARSET[version]
    return [prefix + text[i * width : (i + 1) * width] for i in range(n)]


def bech32_chars(version: int, raw: np.ndarray, hrp: str = "bc") -> np.ndarray:
    """The bech32/bech32m data and checksum characters (after ``hrp1`` and the version
    character) of each row of (n, 20) or (n, 32) witness programs, an ASCII matrix."""
    n, size = raw.shape
    padded = np.zeros((n, size + (-size) % 5), dtype=np.uint8)
    padded[:, :size] = raw
    b = padded.reshape(n, -1, 5).astype(np.uint64)
    c = (b[..., 0] << 32) | (b[..., 1] << 24) | (b[..., 2] << 16) | (b[..., 3] << 8) | b[..., 4]
    pairs = np.stack([c >> 30, (c >> 20) & 1023, (c >> 10) & 1023, c & 1023], axis=2)
    pairs = pairs.reshape(n, -1).astype(np.uint32)
    if size == 32:
        pairs = pairs[:, :26]  # 256 bits = 52 five-bit groups, the last one zero-padded
    chk = np.full(n, version_states(hrp)[version], dtype=np.uint32)
    low, table = np.uint32(0xFFFFF), _T10_NP
    ten, twenty = np.uint32(10), np.uint32(20)
    for j in range(pairs.shape[1]):
        chk = ((chk & low) << ten) ^ pairs[:, j] ^ table[chk >> twenty]
    for _ in range(3):  # six zero groups
        chk = ((chk & low) << ten) ^ table[chk >> twenty]
    chk ^= np.uint32(1 if version == 0 else 0x2BC830A3)
    tail = np.stack([chk >> twenty, (chk >> ten) & np.uint32(1023), chk & np.uint32(1023)], 1)
    return _PAIR_NP[np.concatenate([pairs, tail], axis=1)].reshape(n, -1)


def classify_many(scripts: list[bytes], fmt: AddressFormat = MAINNET_FORMAT) -> list[Classified]:
    """``[classify(s, fmt) for s in scripts]``, with base58 (P2PKH/P2SH) and bech32
    (P2WPKH, P2WSH, P2TR) text done in bulk."""
    out: list[Classified | None] = []
    where: list[int] = []
    payloads: list[bytes] = []
    types: list[str] = []
    seg: dict[tuple[int, int], tuple[list[int], list[bytes]]] = {k: ([], []) for k in _SEGWIT}
    for script in scripts:
        n = len(script)
        if n == 25 and script[:3] == _P2PKH_HEAD and script[23:] == _P2PKH_TAIL:
            payloads.append(fmt.p2pkh + script[3:23])
            types.append("p2pkh")
        elif n == 23 and script[0] == 0xA9 and script[1] == 20 and script[22] == 0x87:
            payloads.append(fmt.p2sh + script[2:22])
            types.append("p2sh")
        elif (n == 22 or n == 34) and script[1] == n - 2 and (script[0], n - 2) in seg:
            rows, programs = seg[(script[0], n - 2)]
            rows.append(len(out))
            programs.append(script[2:])
            out.append(None)
            continue
        else:
            out.append(classify(script, fmt))
            continue
        where.append(len(out))
        out.append(None)
    if len(payloads) < _BULK_MIN:
        texts = [base58check(p) for p in payloads]
    else:
        texts = base58check_many(payloads)
    for i, t, a in zip(where, types, texts, strict=True):
        out[i] = (t, a)
    for key, (rows, programs) in seg.items():
        stype, version = _SEGWIT[key]
        for i, a in zip(rows, segwit_many(version, programs, fmt.hrp), strict=True):
            out[i] = (stype, a)
    return out  # type: ignore[return-value]
