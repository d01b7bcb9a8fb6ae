"""A disk-backed open-addressing hash table from byte strings to dense ids, exact and crash-safe.

Why this design (measured against the candidates in ``bench/idmap.py``):

* The keys an ingest batch asks for are random (hashes of addresses and txids), so any
  index bigger than memory costs one random page per lookup whatever its shape. An open
  addressing table (linear probing, load <= 0.65) needs about one probe per lookup; sorted
  runs need one binary search per run, and an LSM needs compactions that rewrite the
  index. The table is a memory-mapped file of 16-byte slots ``(hash, id)``; lookups and
  inserts are numba loops over a whole batch.
* **Exact.** A slot only says "maybe": every hash match is confirmed by comparing the
  query's bytes with the bytes stored for that id (address text, txid) in the id-ordered
  value column. Colliding hashes just probe on, so two different addresses never share
  an id, whatever an attacker grinds; the hash is seeded per store.
* **Crash-safe without a log.** Slots are only ever written into empty slots, and a slot
  whose id is not (or no longer) in the committed value column fails the byte check, so
  slots left by a batch that crashed before its commit, or by a rolled-back reorg, are
  harmless. A rollback is a truncation of the value column.
* **Bounded memory.** The process touches pages of the map only while a batch is looked
  up and drops them afterwards (:func:`~fundtrail.chainstore.budget.release`); the
  table grows by rebuilding into a table twice the size: from the value column (which
  drops stale slots), or, while every slot is known to be live (:attr:`HashTable.exact`),
  by moving the old slots in slot order, which writes the new file almost sequentially
  instead of at random (the rebuilds were a quarter of the id maps' cost on ingest).
"""

from __future__ import annotations

import json
import os
import secrets
import uuid
from pathlib import Path
from typing import Any

import numpy as np
from numba import njit

from fundtrail.chainstore.budget import release

MAX_LOAD = 0.65
MIN_CAPACITY = 1 << 12
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


@njit(cache=True, nogil=True)
def _get_or_insert(  # pragma: no cover - numba
    tbl: np.ndarray,
    ends: np.ndarray,
    chars: np.ndarray,
    n0: int,
    qdata: np.ndarray,
    qoffs: np.ndarray,
    qvalid: np.ndarray,
    seed: np.uint64,
    out: np.ndarray,
    first_q: np.ndarray,
) -> int:
    """Id of each query, inserting new ones as n0, n0+1, ... in query order; returns the
    next id. Ids >= n0 are not in the value column yet: they compare with their query."""
    mask = tbl.shape[0] - 1
    umask = np.uint64(mask)
    n = n0
    for i in range(qoffs.shape[0] - 1):
        if not qvalid[i]:
            out[i] = -1
            continue
        a, b = qoffs[i], qoffs[i + 1]
        h = _hash(qdata, a, b, seed)
        j = np.int64(h & umask)
        while True:
            k = tbl[j, 0]
            if k == 0:
                tbl[j, 0] = h
                tbl[j, 1] = np.uint64(n)
                first_q[n - n0] = i
                out[i] = n
                n += 1
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
    qvalid: np.ndarray,
    seed: np.uint64,
    out: np.ndarray,
) -> None:
    """The largest id < n whose stored bytes equal each query, or -1."""
    mask = tbl.shape[0] - 1
    umask = np.uint64(mask)
    for i in range(qoffs.shape[0] - 1):
        out[i] = -1
        if not qvalid[i]:
            continue
        a, b = qoffs[i], qoffs[i + 1]
        h = _hash(qdata, a, b, seed)
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
def _insert_stored(  # pragma: no cover - numba
    tbl: np.ndarray, ends: np.ndarray, chars: np.ndarray, start: int, stop: int, seed: np.uint64
) -> None:
    """Insert ids start..stop-1 of the value column (rebuilds, catching up), unchecked."""
    mask = tbl.shape[0] - 1
    umask = np.uint64(mask)
    for v in range(start, stop):
        a, b = _stored(ends, v)
        h = _hash(chars, a, b, seed)
        j = np.int64(h & umask)
        while tbl[j, 0] != 0:
            j = (j + 1) & mask
        tbl[j, 0] = h
        tbl[j, 1] = np.uint64(v)


@njit(cache=True, nogil=True)
def _move_slots(old: np.ndarray, new: np.ndarray, rows: int) -> None:  # pragma: no cover
    """Re-place every slot of ``old`` whose id is < rows into ``new`` (a larger table)."""
    mask = new.shape[0] - 1
    umask = np.uint64(mask)
    for i in range(old.shape[0]):
        h = old[i, 0]
        if h == 0 or np.int64(old[i, 1]) >= rows:
            continue
        j = np.int64(h & umask)
        while new[j, 0] != 0:
            j = (j + 1) & mask
        new[j, 0] = h
        new[j, 1] = old[i, 1]


class HashTable:
    """The slot file of one id map, with its capacity and seed in ``<name>.json``."""

    def __init__(self, folder: Path, name: str) -> None:
        self.folder, self.name = folder, name
        self._state_path = folder / f"{name}.json"
        state = self._read_state()
        self.seed = np.uint64(int(str(state["seed"])))
        self.capacity = int(str(state["capacity"]))
        self.file = folder / str(state["file"])
        self.indexed = int(str(state.get("indexed", 0)))  # value rows inserted as of save()
        # True while every slot is known to name the bytes its id has: the file was
        # created empty or rebuilt from the values in this process, and no id was cut
        # back since (a crash before this run, or a rollback, can leave stale slots)
        self.exact = self._created
        self._sweep()
        self.slots = self._map(self.file, self.capacity)

    def _read_state(self) -> dict[str, object]:
        self._created = True
        if self._state_path.exists():
            state: dict[str, object] = json.loads(self._state_path.read_text())
            if (self.folder / str(state["file"])).exists():
                self._created = False
                return state
            seed = int(str(state["seed"]))
        else:
            seed = secrets.randbits(63)
        return self._new_file(MIN_CAPACITY, seed)

    def _new_file(self, capacity: int, seed: int) -> dict[str, object]:
        name = f"{self.name}-{capacity}-{uuid.uuid4().hex[:8]}.slots"
        with open(self.folder / name, "wb") as fh:
            fh.truncate(capacity * 16)
        return {"file": name, "capacity": capacity, "seed": seed, "indexed": 0}

    def _write_state(self) -> None:
        tmp = self._state_path.with_suffix(".json.tmp")
        data = {
            "file": self.file.name,
            "capacity": self.capacity,
            "seed": int(self.seed),
            "indexed": self.indexed,
        }
        tmp.write_text(json.dumps(data))
        os.replace(tmp, self._state_path)

    def _sweep(self) -> None:
        for f in self.folder.glob(f"{self.name}-*.slots"):
            if f != self.file:
                f.unlink(missing_ok=True)

    @staticmethod
    def _map(path: Path, capacity: int) -> np.memmap:
        return np.memmap(path, dtype=np.uint64, mode="r+", shape=(capacity, 2))

    def needs_rebuild(self, rows: int) -> bool:
        return rows > self.capacity * MAX_LOAD

    def rebuild(self, ends: np.ndarray, chars: np.ndarray, rows: int, extra: int) -> None:
        """A new slot file for ``rows + extra`` ids at <= half load, filled from the values
        (ids 0..rows-1), or from the old slots while they are :attr:`exact`."""
        capacity = MIN_CAPACITY
        while capacity * 0.5 < rows + extra:
            capacity *= 2
        state = self._new_file(capacity, int(self.seed))
        path = self.folder / str(state["file"])
        slots = self._map(path, capacity)
        if self.exact and self.indexed >= rows:
            _move_slots(self.slots, slots, rows)
        else:
            _insert_stored(slots, ends, chars, 0, rows, self.seed)
        self.exact = True
        slots.flush()
        release(slots)
        old = self.slots
        self.slots, self.file, self.capacity = slots, path, capacity
        self.indexed = rows
        self._write_state()
        release(old)
        del old
        self._sweep()

    def save(self, rows: int) -> None:
        """Slots durable, and the state file naming them (``rows`` values indexed)."""
        self.slots.flush()
        self.indexed = rows
        self._write_state()

    def release(self) -> None:
        release(self.slots)
