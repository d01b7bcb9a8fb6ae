"""Address text for millions of addresses at once: bech32/bech32m vectorised with numpy.

One address at a time, bech32 costs ~30 µs in Python; over a column of programs
numpy does the checksum for all of them together, about 50 times faster.
Legacy base58check addresses stay per address (they are the minority).
"""

from __future__ import annotations

import numpy as np

from fundtrail.chains.simulate.btc.script import Kind, address_text
from fundtrail.model.encoding import BECH32_CHARSET, BECH32_CONST, BECH32M_CONST

_GEN = np.array([0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3], dtype=np.uint32)
_CHARS = np.frombuffer(BECH32_CHARSET.encode(), dtype=np.uint8)
_HRP = "bc"
_HRP_EXPANDED = [ord(x) >> 5 for x in _HRP] + [0] + [ord(x) & 31 for x in _HRP]


def _to5(programs: np.ndarray) -> np.ndarray:
    """(n, L) bytes -> (n, ceil(8L/5)) 5-bit groups, zero padded (convertbits with pad)."""
    bits = np.unpackbits(programs, axis=1)
    extra = (-bits.shape[1]) % 5
    if extra:
        bits = np.pad(bits, ((0, 0), (0, extra)))
    groups = bits.reshape(len(programs), -1, 5).astype(np.uint8)
    return (groups * np.array([16, 8, 4, 2, 1], dtype=np.uint8)).sum(axis=2).astype(np.uint8)


def segwit_batch(version: int, programs: np.ndarray) -> list[str]:
    """Bech32 (v0) or bech32m (v1+) mainnet addresses of equal-length witness programs."""
    n = len(programs)
    if n == 0:
        return []
    data = np.concatenate([np.full((n, 1), version, dtype=np.uint8), _to5(programs)], axis=1)
    chk: np.ndarray = np.ones(n, dtype=np.uint32)
    columns = [np.full(n, v, dtype=np.uint32) for v in _HRP_EXPANDED]
    columns += [data[:, i].astype(np.uint32) for i in range(data.shape[1])]
    columns += [np.zeros(n, dtype=np.uint32)] * 6
    for v in columns:
        top = chk >> 25
        chk = ((chk & 0x1FFFFFF) << 5) ^ v
        for i in range(5):
            chk ^= np.where((top >> i) & 1, _GEN[i], 0).astype(np.uint32)
    chk ^= BECH32_CONST if version == 0 else BECH32M_CONST
    checksum = np.stack([(chk >> (5 * (5 - i))) & 31 for i in range(6)], axis=1).astype(np.uint8)
    chars = _CHARS[np.concatenate([data, checksum], axis=1)]
    width = chars.shape[1]
    raw = chars.tobytes().decode("ascii")
    prefix = _HRP + "1"
    return [prefix + raw[i * width : (i + 1) * width] for i in range(n)]


def encode_records(records: np.ndarray) -> list[str]:
    """Address text of registry records (kind, length, program padded to 32 bytes)."""
    records = np.asarray(records)
    kinds = records[:, 0]
    out: list[str] = [""] * len(records)
    for kind, version, length in ((Kind.P2WPKH, 0, 20), (Kind.P2WSH, 0, 32), (Kind.P2TR, 1, 32)):
        idx = np.flatnonzero(kinds == kind)
        if len(idx):
            texts = segwit_batch(version, records[idx, 2 : 2 + length])
            for i, text in zip(idx.tolist(), texts, strict=True):
                out[i] = text
    for i in np.flatnonzero((kinds == Kind.P2PKH) | (kinds == Kind.P2SH_P2WPKH)).tolist():
        out[i] = address_text(int(kinds[i]), records[i, 2:22].tobytes())
    return out
