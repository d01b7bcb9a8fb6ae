"""Double SHA-256 of many byte ranges in one compiled loop: txids, merkle trees, checksums.

Why: through ``hashlib`` a txid costs ~1.3 µs, nearly all of it Python call overhead (two
hash objects and two digests per transaction); that was ~40% of the bulk generator and a
large share of the parser. Here a numba loop calls OpenSSL's ``SHA256_Init/Update/Final``
(the libcrypto that ``hashlib`` itself uses, SHA-NI where the CPU has it) directly on
offsets into one buffer: ~0.27 µs per txid on this machine. Where that libcrypto API is
missing the same functions loop over ``hashlib`` (same results, slower), so nothing here
is required for correctness.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import hashlib
from typing import Any

import numpy as np

_sha256 = hashlib.sha256


def _find_libcrypto() -> str | None:
    name = ctypes.util.find_library("crypto")
    if not name:
        return None
    try:
        lib = ctypes.CDLL(name)
        for sym in ("SHA256_Init", "SHA256_Update", "SHA256_Final"):
            getattr(lib, sym)
    except (OSError, AttributeError):
        return None
    return name


_LIB = _find_libcrypto()
COMPILED = _LIB is not None

if COMPILED:
    import llvmlite.binding as _llvm
    from numba import njit, types

    _llvm.load_library_permanently(_LIB)
    _init: Any = types.ExternalFunction("SHA256_Init", types.intc(types.voidptr))
    _update: Any = types.ExternalFunction(
        "SHA256_Update", types.intc(types.voidptr, types.voidptr, types.uintp)
    )
    _final: Any = types.ExternalFunction("SHA256_Final", types.intc(types.voidptr, types.voidptr))

    @njit(cache=True, nogil=True)
    def _dsha_parts(data, starts, ends, out):  # type: ignore[no-untyped-def]  # pragma: no cover
        """out[i] = sha256d(concatenation of data[starts[i, k]:ends[i, k]] over k)."""
        ctx = np.empty(256, np.uint8)
        tmp = np.empty(32, np.uint8)
        c, tp = ctx.ctypes.data, tmp.ctypes.data
        base, ob = data.ctypes.data, out.ctypes.data
        for i in range(starts.shape[0]):
            _init(c)
            for k in range(starts.shape[1]):
                a, b = starts[i, k], ends[i, k]
                if b > a:
                    _update(c, base + a, b - a)
            _final(tp, c)
            _init(c)
            _update(c, tp, 32)
            _final(ob + 32 * i, c)

    @njit(cache=True, nogil=True)
    def _merkle(ids):  # type: ignore[no-untyped-def]  # pragma: no cover
        """Bitcoin's merkle root of (n, 32) hashes, in place in one buffer."""
        n = ids.shape[0]
        level = np.zeros((n + 1) * 32, np.uint8)
        level[: n * 32] = ids.reshape(-1)
        ctx = np.empty(256, np.uint8)
        tmp = np.empty(32, np.uint8)
        c, tp, lv = ctx.ctypes.data, tmp.ctypes.data, level.ctypes.data
        while n > 1:
            if n & 1:
                level[n * 32 : (n + 1) * 32] = level[(n - 1) * 32 : n * 32]
                n += 1
            for i in range(n // 2):
                _init(c)
                _update(c, lv + 64 * i, 64)
                _final(tp, c)
                _init(c)
                _update(c, tp, 32)
                _final(lv + 32 * i, c)
            n //= 2
        return level[:32].copy()


def sha256d_parts(data: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """(n, 32) uint8: the double SHA-256 of each row's ranges ``data[starts[i,k]:ends[i,k]]``
    joined (empty ranges skipped). ``starts``/``ends`` are (n, k) int64."""
    data = np.ascontiguousarray(data, dtype=np.uint8)
    starts = np.ascontiguousarray(starts, dtype=np.int64)
    ends = np.ascontiguousarray(ends, dtype=np.int64)
    if starts.ndim == 1:
        starts, ends = starts[:, None], ends[:, None]
    n = starts.shape[0]
    out = np.empty((n, 32), dtype=np.uint8)
    if n == 0:
        return out
    if len(data) and starts.size and (starts.min() < 0 or ends.max() > len(data)):
        raise ValueError("hash range outside the data")
    if COMPILED:
        _dsha_parts(data if len(data) else np.zeros(1, np.uint8), starts, ends, out)
        return out
    view = data.tobytes()
    for i in range(n):
        h = _sha256()
        for a, b in zip(starts[i].tolist(), ends[i].tolist(), strict=True):
            if b > a:
                h.update(view[a:b])
        out[i] = np.frombuffer(_sha256(h.digest()).digest(), np.uint8)
    return out


def sha256d_rows(rows: np.ndarray) -> np.ndarray:
    """(n, 32) double SHA-256 of each row of an (n, w) uint8 matrix."""
    rows = np.ascontiguousarray(rows, dtype=np.uint8)
    n, w = rows.shape
    starts = np.arange(n, dtype=np.int64) * w
    return sha256d_parts(rows.reshape(-1), starts, starts + w)


def merkle_root(ids: np.ndarray | bytes) -> bytes:
    """Merkle root (internal order) of txids given as (n, 32) uint8 or 32-byte values back
    to back; odd levels repeat the last hash; no txids gives 32 zero bytes."""
    arr = np.frombuffer(ids, np.uint8) if isinstance(ids, bytes | bytearray) else ids
    arr = np.ascontiguousarray(arr, dtype=np.uint8).reshape(-1, 32)
    if not len(arr):
        return b"\0" * 32
    if COMPILED:
        return bytes(_merkle(arr))
    level = [r.tobytes() for r in arr]
    while len(level) > 1:
        if len(level) & 1:
            level.append(level[-1])
        level = [
            _sha256(_sha256(level[i] + level[i + 1]).digest()).digest()
            for i in range(0, len(level), 2)
        ]
    return level[0]
