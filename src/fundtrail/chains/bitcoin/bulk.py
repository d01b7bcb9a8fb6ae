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

from fundtrail.chains.bitcoin.script import Classified, classify
from fundtrail.model.encoding import B58_ALPHABET

_sha256 = hashlib.sha256
_ALPHABET = np.frombuffer(B58_ALPHABET.encode("ascii"), dtype=np.uint8)
_D = np.uint64(58**5)
_POW = np.array([58**4, 58**3, 58**2, 58, 1], dtype=np.uint64)
_DIGITS = 35  # base58 digits of a 200-bit number (58**35 > 2**200)
_BULK_MIN = 16  # below this many payloads the per-item encoder is as fast

_P2PKH_HEAD, _P2PKH_TAIL = b"\x76\xa9\x14", b"\x88\xac"


def base58check_many(payloads: list[bytes]) -> list[str]:
    """``[base58check(p) for p in payloads]`` for 21-byte payloads (version + hash160)."""
    if not payloads:
        return []
    data = b"".join([p + _sha256(_sha256(p).digest()).digest()[:4] for p in payloads])
    rows = len(payloads)
    raw = np.frombuffer(data, dtype=np.uint8).reshape(rows, 25)
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
    starts = (zero_digits - zero_bytes).tolist()  # digit 0 is "1": keep one per zero byte
    text = chars.tobytes().decode("ascii")
    return [text[i * _DIGITS + s : (i + 1) * _DIGITS] for i, s in enumerate(starts)]


def classify_many(scripts: list[bytes]) -> list[Classified]:
    """``[classify(s) for s in scripts]``, with the P2PKH/P2SH base58 done in bulk."""
    out: list[Classified | None] = []
    where: list[int] = []
    payloads: list[bytes] = []
    types: list[str] = []
    for script in scripts:
        n = len(script)
        if n == 25 and script[:3] == _P2PKH_HEAD and script[23:] == _P2PKH_TAIL:
            payloads.append(b"\x00" + script[3:23])
            types.append("p2pkh")
        elif n == 23 and script[0] == 0xA9 and script[1] == 20 and script[22] == 0x87:
            payloads.append(b"\x05" + script[2:22])
            types.append("p2sh")
        else:
            out.append(classify(script))
            continue
        where.append(len(out))
        out.append(None)
    if len(payloads) < _BULK_MIN:
        from fundtrail.chains.bitcoin.script import base58check

        texts = [base58check(p) for p in payloads]
    else:
        texts = base58check_many(payloads)
    for i, t, a in zip(where, types, texts, strict=True):
        out[i] = (t, a)
    return out  # type: ignore[return-value]
