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
  harmless. A rollback is a truncation of the value column. Stale slots count toward
  the load (:attr:`HashTable.used`, reserved before a batch writes), so they can never
  fill the table: the rebuild they trigger reads the values and drops them.
* **Bounded memory, whatever the table's size.** A batch's queries are probed in order
  of their home slot (:func:`home_order`), in windows of the batch, and the pages of the
  table and of the value column a window touched are dropped before the next
  (:func:`~fundtrail.chainstore.budget.release`, sized by
  :func:`~fundtrail.chainstore.budget.touch_windows`): a million random lookups into a
  table of gigabytes used to leave a page per key resident, so peak memory grew with the
  chain. Hash matches are confirmed against the value column in id order, a stretch of
  it per window (:mod:`.hashkernels` says why). New values get provisional ids in probe
  order, renumbered afterwards in order of first appearance (the ids' contract).
* **Growth.** The table grows by rebuilding into a table twice the size: from the value
  column (which drops stale slots), or, while every slot is known to be live
  (:attr:`HashTable.exact`), by moving the old slots in slot order, which writes the new
  file almost sequentially instead of at random (the rebuilds were a quarter of the id
  maps' cost on ingest). Both go window by window too: a growth used to touch the whole
  old and new tables at once (4.6 GB at 50M transactions).
"""

from __future__ import annotations

import json
import os
import secrets
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

from fundtrail.chainstore.bucketorder import bucket_order
from fundtrail.chainstore.budget import (
    FAULT_AROUND,
    WINDOW_SHARE,
    chunk_rows,
    release,
    touch_windows,
)
from fundtrail.chainstore.hashkernels import (
    _confirm,
    _get,
    _get_or_insert,
    _move_slots,
    _place,
    _probe,
    _probe_or_insert,
    _query_hashes,
    _set_ids,
    _stored_hashes,
)

MAX_LOAD = 0.65
MIN_CAPACITY = 1 << 12
SLOT_BYTES = 16


def home_order(qhash: np.ndarray, capacity: int, valid: np.ndarray | None = None) -> np.ndarray:
    """Positions of the (valid) hashes in order of their home slot (by its top bits, in
    linear time: :mod:`.bucketorder`), equal hashes in position order.

    Why: probing in slot order walks the table's pages front to back, so a window of
    queries touches one stretch of the file, and equal hashes (a batch's duplicates)
    are met first at their first appearance."""
    idx = None if valid is None else np.flatnonzero(valid)
    return bucket_order(qhash, capacity, idx)


def _first_appearance(first_q: np.ndarray, q: int) -> np.ndarray:
    """The provisional ids (positions in ``first_q``, distinct query positions < q) in
    order of their query: a scatter over the queries, no sort."""
    at = np.full(q, -1, dtype=np.int64)
    at[first_q] = np.arange(len(first_q), dtype=np.int64)
    return at[at >= 0]


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
        # slots written since the file was made, stale ones included (a state file from
        # before this count assumed none stale); bounds the load so every probe ends
        self.used = int(str(state.get("used", self.indexed)))
        self._durable = self.indexed  # what the state file may claim: rows whose slots are flushed
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
        return {"file": name, "capacity": capacity, "seed": seed, "indexed": 0, "used": 0}

    def _write_state(self) -> None:
        tmp = self._state_path.with_suffix(".json.tmp")
        data = {
            "file": self.file.name,
            "capacity": self.capacity,
            "seed": int(self.seed),
            "indexed": self._durable,
            "used": self.used,
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

    def needs_rebuild(self, rows: int, extra: int = 0) -> bool:
        """Whether ``rows`` live ids plus ``extra`` new slots would pass the load limit,
        counting the stale slots (crashes and rollbacks leave them until a rebuild from
        the values): without them a table could fill up and a probe never end."""
        return max(rows, self.used) + extra > self.capacity * MAX_LOAD

    def reserve(self, extra: int) -> None:
        """Count ``extra`` slots as written before writing them, durably enough that a
        crash mid-batch cannot leave uncounted slots; :meth:`wrote` corrects the count."""
        self.used += extra
        self._write_state()

    def wrote(self, reserved: int, written: int) -> None:
        self.used += written - reserved

    def rebuild(self, ends: np.ndarray, chars: np.ndarray, rows: int, extra: int) -> None:
        """A new slot file for ``rows + extra`` ids at <= half load, filled from the values
        (ids 0..rows-1), or from the old slots while they are :attr:`exact`; window by
        window, so a rebuild's resident pages are bounded by a window, not the table."""
        capacity = MIN_CAPACITY
        while capacity * 0.5 < rows + extra:
            capacity *= 2
        state = self._new_file(capacity, int(self.seed))
        path = self.folder / str(state["file"])
        old, self.slots, self.capacity = self.slots, self._map(path, capacity), capacity
        if self.exact and self.indexed >= rows:
            mapped = (old.shape[0] + capacity) * SLOT_BYTES
            per_slot = SLOT_BYTES * (1 + capacity // old.shape[0])
            for lo, hi in touch_windows(old.shape[0], per_slot, mapped):
                _move_slots(old, self.slots, rows, lo, hi)
                release(old, self.slots)
        else:
            self.insert_stored(ends, chars, 0, rows)
        self.exact = True
        self.slots.flush()
        release(self.slots, old)
        del old
        self.file = path
        self.indexed = self.used = self._durable = rows
        self._write_state()
        self._sweep()

    def _slot_windows(self, n: int) -> Iterator[tuple[int, int]]:
        """Windows over ``n`` queries in home-slot order (each a stretch of the table)."""
        for lo, hi in touch_windows(n, FAULT_AROUND, self.capacity * SLOT_BYTES):
            yield lo, hi
            release(self.slots)

    @staticmethod
    def _id_windows(n: int, ends: np.ndarray, chars: np.ndarray) -> Iterator[tuple[int, int]]:
        """Windows over ``n`` byte checks in id order (each a stretch of the values)."""
        for lo, hi in touch_windows(n, 2 * FAULT_AROUND, ends.nbytes + chars.nbytes):
            yield lo, hi
            release(ends, chars)

    def _confirmed(
        self,
        ends: np.ndarray,
        chars: np.ndarray,
        data: np.ndarray,
        offs: np.ndarray,
        cand: np.ndarray,
        which: np.ndarray,
    ) -> np.ndarray:
        """The queries ``which`` whose candidate id's stored bytes differ (checked in id
        order): they take the one-pass loop."""
        by_id = bucket_order(cand, int(cand.max(initial=0)) + 1, which)
        ok = np.zeros(len(cand), dtype=bool)
        for lo, hi in self._id_windows(len(by_id), ends, chars):
            _confirm(ends, chars, data, offs, cand, by_id, lo, hi, ok)
        return which[~ok[which]]

    def get(
        self,
        ends: np.ndarray,
        chars: np.ndarray,
        n: int,
        data: np.ndarray,
        offs: np.ndarray,
        valid: np.ndarray,
    ) -> np.ndarray:
        """The largest id < n whose stored bytes equal each query, -1 where none/invalid."""
        qhash = np.empty(len(offs) - 1, dtype=np.uint64)
        _query_hashes(data, offs, self.seed, qhash)
        order = home_order(qhash, self.capacity, valid)
        out = np.full(len(qhash), -1, dtype=np.int64)
        for lo, hi in self._slot_windows(len(order)):
            _probe(self.slots, n, qhash, order, lo, hi, out)
        wrong = self._confirmed(ends, chars, data, offs, out, np.flatnonzero(out >= 0))
        if len(wrong):  # a colliding hash or a stale slot shadowed the answer
            out[wrong] = -1
            _get(self.slots, ends, chars, n, data, offs, qhash, wrong, 0, len(wrong), out)
            release(self.slots, ends, chars)
        return out

    def get_or_insert(
        self,
        ends: np.ndarray,
        chars: np.ndarray,
        n0: int,
        data: np.ndarray,
        offs: np.ndarray,
        valid: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray]:
        """(id of each query, -1 where invalid; the queries that got new ids, in id order).

        New values get ids n0, n0+1, .. in order of first appearance in the batch: the
        queries are probed in home-slot order with provisional ids, which are then
        renumbered (the outputs, and the new slots in one more windowed pass)."""
        q = len(offs) - 1
        qhash = np.empty(q, dtype=np.uint64)
        _query_hashes(data, offs, self.seed, qhash)
        order = home_order(qhash, self.capacity, valid)
        out = np.full(q, -1, dtype=np.int64)
        cand = np.full(q, -1, dtype=np.int64)
        first_q = np.empty(q, dtype=np.int64)
        slot_of = np.empty(q, dtype=np.int64)
        n = n0
        for lo, hi in self._slot_windows(len(order)):
            n = _probe_or_insert(
                self.slots, n0, n, data, offs, qhash, order, lo, hi, out, cand, first_q,
                slot_of,
            )  # fmt: skip
        known = np.flatnonzero(cand >= 0)
        wrong = self._confirmed(ends, chars, data, offs, cand, known)
        out[known] = cand[known]
        if len(wrong):  # a colliding hash or a stale slot: probe on, checking every match
            wrong = wrong[np.argsort(wrong, kind="stable")]  # first appearance first
            n = _get_or_insert(
                self.slots, ends, chars, n0, n, data, offs, qhash, wrong, 0, len(wrong), out,
                first_q, slot_of,
            )  # fmt: skip
            release(self.slots, ends, chars)
        return out, self._renumber(out, n0, n, first_q, slot_of)

    def _renumber(
        self, out: np.ndarray, n0: int, n: int, first_q: np.ndarray, slot_of: np.ndarray
    ) -> np.ndarray:
        """Provisional ids n0..n-1 become ids in order of first appearance, in ``out`` and
        in their slots; returns the new values' queries in id order."""
        m = n - n0
        rank = _first_appearance(first_q[:m], len(out))
        if (rank != np.arange(m)).any():
            final = np.empty(m, dtype=np.int64)
            final[rank] = np.arange(n0, n, dtype=np.int64)
            new_ids = out >= n0
            out[new_ids] = final[out[new_ids] - n0]
            for lo, hi in touch_windows(m, FAULT_AROUND, self.capacity * SLOT_BYTES):
                _set_ids(self.slots, slot_of, final, lo, hi)
                release(self.slots)
        return first_q[rank]

    def insert(self, data: np.ndarray, offs: np.ndarray, base: int) -> None:
        """Slots for the values ``data[offs[i]:offs[i+1]]`` as ids base, base+1, ..
        (appended to the value column by the caller), unchecked."""
        qhash = np.empty(len(offs) - 1, dtype=np.uint64)
        _query_hashes(data, offs, self.seed, qhash)
        self._place(qhash, base)

    def insert_stored(self, ends: np.ndarray, chars: np.ndarray, start: int, stop: int) -> None:
        """Slots for ids start..stop-1 of the value column (rebuilds, catching up), in
        chunks whose hashes (and sort) and the stored bytes read for them (an end offset
        and up to 64 bytes each) fit in a share of the budget."""
        step = chunk_rows(3 * 8 + 8 + 64, WINDOW_SHARE)
        for a in range(start, stop, step):
            b = min(stop, a + step)
            qhash = np.empty(b - a, dtype=np.uint64)
            _stored_hashes(ends, chars, a, b, self.seed, qhash)
            release(ends, chars)
            self._place(qhash, a)

    def _place(self, qhash: np.ndarray, base: int) -> None:
        order = home_order(qhash, self.capacity)
        for lo, hi in touch_windows(len(order), FAULT_AROUND, self.capacity * SLOT_BYTES):
            _place(self.slots, qhash, order, lo, hi, base)
            release(self.slots)

    def save(self, rows: int) -> None:
        """Slots durable, and the state file naming them (``rows`` values indexed)."""
        self.slots.flush()
        self.indexed = self._durable = rows
        self._write_state()

    def deferred_save(self, rows: int) -> Callable[[], None]:
        """:meth:`save`, the slots' msync left to the call returned (run it before the
        commit that names these rows). The state file may then claim rows whose slots are
        not yet on disk, but only rows past the committed count, which an id map cuts
        back when it is opened (:meth:`IdMap.sync`); the slots of committed rows were
        synced before their commit."""
        self.indexed = self._durable = rows
        self._write_state()
        return self.slots.flush

    def release(self) -> None:
        release(self.slots)
