"""The numba loops of the id maps' hash table (:mod:`.hashindex`), one job each.

Every loop works on a range ``order[lo:hi]`` of a batch's queries so that the table can
run a batch window by window; the callers release the mapped pages between windows.
Lookups are split in two passes: :func:`_probe` / :func:`_probe_or_insert` walk the slots
in home-slot order and note, per query, the id whose *hash* matches; :func:`_confirm`
then compares the bytes of those ids in id order. Why: the stored bytes of a batch's hits
lie all over the value column, and a random read of a mapped file leaves a whole
page-cache folio resident (up to megabytes: fault-around, large folios), so checking in
probe order left most of the value column resident; in id order a window of checks
touches one stretch of it. A query whose candidate fails the check (a hash collision, a
stale slot: rare) takes the one-pass loops, :func:`_get` / :func:`_get_or_insert`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit

_M1 = np.uint64(0xFF51AFD7ED558CCD)
_M2 = np.uint64(0xC4CEB9FE1A85EC53)
_S33 = np.uint64(33)
_S29 = np.uint64(29)
_ONE = np.uint64(1)


@njit(cache=True, inline="always")
def _hash(data: np.ndarray, a: int, b: int, seed: np.uint64) -> np.uint64:  # pragma: no cover
    """Seeded 64-bit hash of data[a:b], eight bytes per multiply, murmur3's finaliser."""
    h = seed ^ (np.uint64(b - a) * _M2)
    i = a
    while i + 8 <= b:
        w = np.uint64(0)
        for k in range(8):
            w |= np.uint64(data[i + k]) << np.uint64(8 * k)
        h = (h ^ w) * _M1
        h ^= h >> _S29
        i += 8
    w = np.uint64(0)
    for k in range(b - i):
        w |= np.uint64(data[i + k]) << np.uint64(8 * k)
    h = (h ^ w) * _M2
    h ^= h >> _S33
    h *= _M1
    h ^= h >> _S33
    h *= _M2
    h ^= h >> _S33
    return h | _ONE  # 0 marks an empty slot


@njit(cache=True, inline="always")
def _same(
    x: np.ndarray, xa: int, xb: int, y: np.ndarray, ya: int, yb: int
) -> bool:  # pragma: no cover
    if xb - xa != yb - ya:
        return False
    for k in range(xb - xa):  # noqa: SIM110 - numba compiles loops, not generators
        if x[xa + k] != y[ya + k]:
            return False
    return True


@njit(cache=True, inline="always")
def _stored(ends: np.ndarray, v: Any) -> tuple[int, int]:  # pragma: no cover
    return (ends[v - 1] if v > 0 else 0), ends[v]


@njit(cache=True, inline="always")
def _claim(  # pragma: no cover - numba
    tbl: np.ndarray,
    j: Any,
    h: Any,
    n: int,
    n0: int,
    i: Any,
    out: np.ndarray,
    first_q: np.ndarray,
    slot_of: np.ndarray,
) -> int:
    """Query ``i`` takes empty slot ``j`` with provisional id ``n``; returns the next id."""
    tbl[j, 0] = h
    tbl[j, 1] = np.uint64(n)
    first_q[n - n0] = i
    slot_of[n - n0] = j
    out[i] = n
    return n + 1


@njit(cache=True, nogil=True)
def _query_hashes(
    qdata: np.ndarray, qoffs: np.ndarray, seed: np.uint64, out: np.ndarray
) -> None:  # pragma: no cover - numba
    for i in range(qoffs.shape[0] - 1):
        out[i] = _hash(qdata, qoffs[i], qoffs[i + 1], seed)


@njit(cache=True, nogil=True)
def _stored_hashes(
    ends: np.ndarray, chars: np.ndarray, start: int, stop: int, seed: np.uint64, out: np.ndarray
) -> None:  # pragma: no cover - numba
    for v in range(start, stop):
        a, b = _stored(ends, v)
        out[v - start] = _hash(chars, a, b, seed)


@njit(cache=True, nogil=True)
def _get_or_insert(  # pragma: no cover - numba
    tbl: np.ndarray,
    ends: np.ndarray,
    chars: np.ndarray,
    n0: int,
    n: int,
    qdata: np.ndarray,
    qoffs: np.ndarray,
    qhash: np.ndarray,
    order: np.ndarray,
    lo: int,
    hi: int,
    out: np.ndarray,
    first_q: np.ndarray,
    slot_of: np.ndarray,
) -> int:
    """Id of queries ``order[lo:hi]``, inserting new ones with provisional ids n, n+1, ..
    in processing order (their query in ``first_q``, their slot in ``slot_of``); returns
    the next id. Ids >= n0 are not in the value column yet: they compare with their query."""
    mask = tbl.shape[0] - 1
    umask = np.uint64(mask)
    for t in range(lo, hi):
        i = order[t]
        a, b = qoffs[i], qoffs[i + 1]
        h = qhash[i]
        j = np.int64(h & umask)
        while True:
            k = tbl[j, 0]
            if k == 0:
                n = _claim(tbl, j, h, n, n0, i, out, first_q, slot_of)
                break
            if k == h:
                v = np.int64(tbl[j, 1])
                if v < n0:
                    sa, sb = _stored(ends, v)
                    if _same(chars, sa, sb, qdata, a, b):
                        out[i] = v
                        break
                elif v < n:
                    q = first_q[v - n0]
                    if _same(qdata, qoffs[q], qoffs[q + 1], qdata, a, b):
                        out[i] = v
                        break
            j = (j + 1) & mask
    return n


@njit(cache=True, nogil=True)
def _get(  # pragma: no cover - numba
    tbl: np.ndarray,
    ends: np.ndarray,
    chars: np.ndarray,
    n: int,
    qdata: np.ndarray,
    qoffs: np.ndarray,
    qhash: np.ndarray,
    order: np.ndarray,
    lo: int,
    hi: int,
    out: np.ndarray,
) -> None:
    """For queries ``order[lo:hi]``: the largest id < n whose stored bytes equal the
    query (``out`` starts at -1)."""
    mask = tbl.shape[0] - 1
    umask = np.uint64(mask)
    for t in range(lo, hi):
        i = order[t]
        a, b = qoffs[i], qoffs[i + 1]
        h = qhash[i]
        j = np.int64(h & umask)
        while True:
            k = tbl[j, 0]
            if k == 0:
                break
            if k == h:
                v = np.int64(tbl[j, 1])
                if v < n and v > out[i]:
                    sa, sb = _stored(ends, v)
                    if _same(chars, sa, sb, qdata, a, b):
                        out[i] = v
            j = (j + 1) & mask


@njit(cache=True, nogil=True)
def _place(  # pragma: no cover - numba
    tbl: np.ndarray, qhash: np.ndarray, order: np.ndarray, lo: int, hi: int, base: int
) -> None:
    """Insert hash ``qhash[i]`` with id ``base + i`` for i in ``order[lo:hi]``, unchecked."""
    mask = tbl.shape[0] - 1
    umask = np.uint64(mask)
    for t in range(lo, hi):
        i = order[t]
        h = qhash[i]
        j = np.int64(h & umask)
        while tbl[j, 0] != 0:
            j = (j + 1) & mask
        tbl[j, 0] = h
        tbl[j, 1] = np.uint64(base + i)


@njit(cache=True, nogil=True)
def _set_ids(  # pragma: no cover - numba
    tbl: np.ndarray, slots: np.ndarray, ids: np.ndarray, lo: int, hi: int
) -> None:
    for k in range(lo, hi):
        tbl[slots[k], 1] = np.uint64(ids[k])


@njit(cache=True, nogil=True)
def _move_slots(
    old: np.ndarray, new: np.ndarray, rows: int, start: int, stop: int
) -> None:  # pragma: no cover - numba
    """Re-place slots ``start..stop-1`` of ``old`` whose id is < rows into ``new`` (a
    larger table): old slot i lands near i or i + old capacity, so a window of old
    slots writes two near-sequential windows of the new table."""
    mask = new.shape[0] - 1
    umask = np.uint64(mask)
    for i in range(start, stop):
        h = old[i, 0]
        if h == 0 or np.int64(old[i, 1]) >= rows:
            continue
        j = np.int64(h & umask)
        while new[j, 0] != 0:
            j = (j + 1) & mask
        new[j, 0] = h
        new[j, 1] = old[i, 1]


@njit(cache=True, nogil=True)
def _probe(  # pragma: no cover - numba
    tbl: np.ndarray,
    n: int,
    qhash: np.ndarray,
    order: np.ndarray,
    lo: int,
    hi: int,
    cand: np.ndarray,
) -> None:
    """For queries ``order[lo:hi]``: the largest id < n whose slot has the query's hash
    (``cand`` starts at -1), to be confirmed by :func:`_confirm`."""
    mask = tbl.shape[0] - 1
    umask = np.uint64(mask)
    for t in range(lo, hi):
        i = order[t]
        h = qhash[i]
        j = np.int64(h & umask)
        while True:
            k = tbl[j, 0]
            if k == 0:
                break
            if k == h:
                v = np.int64(tbl[j, 1])
                if v < n and v > cand[i]:
                    cand[i] = v
            j = (j + 1) & mask


@njit(cache=True, nogil=True)
def _probe_or_insert(  # pragma: no cover - numba
    tbl: np.ndarray,
    n0: int,
    n: int,
    qdata: np.ndarray,
    qoffs: np.ndarray,
    qhash: np.ndarray,
    order: np.ndarray,
    lo: int,
    hi: int,
    out: np.ndarray,
    cand: np.ndarray,
    first_q: np.ndarray,
    slot_of: np.ndarray,
) -> int:
    """For queries ``order[lo:hi]``: the first stored id (< n0) whose slot has the query's
    hash goes to ``cand`` (to confirm); a query that meets no such slot is new or a repeat
    of this batch's new values (compared with their query, in memory): new ones get
    provisional ids n, n+1, .. (their query in ``first_q``, slot in ``slot_of``). Returns
    the next id."""
    mask = tbl.shape[0] - 1
    umask = np.uint64(mask)
    for t in range(lo, hi):
        i = order[t]
        a, b = qoffs[i], qoffs[i + 1]
        h = qhash[i]
        j = np.int64(h & umask)
        while True:
            k = tbl[j, 0]
            if k == 0:
                n = _claim(tbl, j, h, n, n0, i, out, first_q, slot_of)
                break
            if k == h:
                v = np.int64(tbl[j, 1])
                if v < n0:
                    cand[i] = v
                    break
                if v < n:
                    q = first_q[v - n0]
                    if _same(qdata, qoffs[q], qoffs[q + 1], qdata, a, b):
                        out[i] = v
                        break
            j = (j + 1) & mask
    return n


@njit(cache=True, nogil=True)
def _confirm(  # pragma: no cover - numba
    ends: np.ndarray,
    chars: np.ndarray,
    qdata: np.ndarray,
    qoffs: np.ndarray,
    cand: np.ndarray,
    order: np.ndarray,
    lo: int,
    hi: int,
    ok: np.ndarray,
) -> None:
    """Whether the stored bytes of ``cand[i]`` equal query i, for i in ``order[lo:hi]``."""
    for t in range(lo, hi):
        i = order[t]
        sa, sb = _stored(ends, cand[i])
        ok[i] = _same(chars, sa, sb, qdata, qoffs[i], qoffs[i + 1])
