"""Near-sorted orders in linear time: a stable counting sort by a key's top bits.

Why not ``np.argsort``: the id maps sort every batch's queries by home slot, their
candidate ids and the outputs an input batch gathers, only so that a window of work
touches one stretch of a memory-mapped file (:mod:`.hashindex`, :mod:`.outpoints`).
Order *within* a stretch buys nothing, and a full comparison sort of a million 64-bit
keys per call was a fifth of ingest's CPU. Buckets of the top bits (about one bucket per
row) give the same locality in two passes; the sort is stable, so equal keys keep their
position order (the first appearance of a repeated value is met first).
"""

from __future__ import annotations

import numpy as np
from numba import njit

MAX_BITS = 14  # 16k buckets: their counts stay in cache (20 bits was 4x slower)


@njit(cache=True, nogil=True)
def _bucket_order(
    keys: np.ndarray, idx: np.ndarray, mask: np.uint64, shift: np.uint64, buckets: int
) -> np.ndarray:  # pragma: no cover - numba
    counts = np.zeros(buckets + 1, dtype=np.int64)
    for t in range(idx.shape[0]):
        counts[np.int64((keys[idx[t]] & mask) >> shift) + 1] += 1
    for b in range(buckets):
        counts[b + 1] += counts[b]
    out = np.empty(idx.shape[0], dtype=np.int64)
    for t in range(idx.shape[0]):
        k = np.int64((keys[idx[t]] & mask) >> shift)
        out[counts[k]] = idx[t]
        counts[k] += 1
    return out


def bucket_order(keys: np.ndarray, limit: int, idx: np.ndarray | None = None) -> np.ndarray:
    """Positions ``idx`` (default all) of ``keys`` in ascending order of ``key % 2**k`` by
    its top bits, where ``limit`` bounds the keys used (``key & (limit - 1)`` for a power
    of two ``limit``, else keys < ``limit``): exact when there are fewer distinct buckets
    than rows, near-sorted otherwise; stable."""
    if idx is None:
        idx = np.arange(len(keys), dtype=np.int64)
    width = max(1, (int(limit) - 1).bit_length())
    bits = min(width, MAX_BITS, max(8, len(idx).bit_length()))
    mask = np.uint64((1 << width) - 1)
    u = keys if keys.dtype == np.uint64 else keys.view(np.uint64)
    return _bucket_order(
        u, idx.astype(np.int64, copy=False), mask, np.uint64(width - bits), 1 << bits
    )
