"""Byte strings (address text, txids) to dense ids, on disk: a value column plus a hash table.

The value column (id -> bytes) is the truth the table is checked against, and it is
itself a cache of the committed Parquet tables: :meth:`IdMap.sync` cuts it back to the
committed row count (a batch that crashed, a rollback) and the owner appends rows the
store has but the map lacks (a store written before the map existed, a lost write).
Memory: the pages touched by one call are dropped when it returns, and within a call
window by window (:mod:`~fundtrail.chainstore.hashindex`).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow as pa

from fundtrail.chainstore import hashindex as hx
from fundtrail.chainstore.column import TextColumn


def buffers(arr: pa.Array) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(bytes, int64 offsets of len+1, valid mask) of a string or binary Arrow array."""
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if pa.types.is_large_string(arr.type) or pa.types.is_large_binary(arr.type):
        odt: type = np.int64
    else:
        odt = np.int32
    n = len(arr)
    bufs = arr.buffers()
    offs: np.ndarray = np.frombuffer(bufs[1], dtype=odt, count=arr.offset + n + 1)[arr.offset :]
    data = np.frombuffer(bufs[2], dtype=np.uint8) if bufs[2] is not None else np.zeros(0, np.uint8)
    valid = (
        np.ones(n, dtype=bool)
        if arr.null_count == 0
        else np.asarray(arr.is_valid().to_numpy(zero_copy_only=False), dtype=bool)
    )
    return data, offs.astype(np.int64), valid


class IdMap:
    """One id space (``name``) under ``folder``: ``get``, ``get_or_add``, ``add``, ``take``."""

    def __init__(self, folder: Path, name: str) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.values = TextColumn(folder, name)
        self.table = hx.HashTable(folder, name)
        self._catch_up()

    def __len__(self) -> int:
        return len(self.values)

    def sync(self, committed: int) -> int:
        """Cut the map back to ``committed`` rows; returns the rows it holds (may be fewer:
        the owner then appends the missing ones from the store)."""
        if committed < max(len(self.values), self.table.indexed):
            self.table.exact = False  # slots of the ids cut off stay behind, harmless
        self.values.truncate(committed)
        self.table.indexed = min(self.table.indexed, len(self.values))
        return len(self.values)

    def _catch_up(self) -> None:
        rows = len(self.values)
        missing = max(0, rows - self.table.indexed)
        if self.table.needs_rebuild(rows, missing):
            self._rebuild(0)
        elif missing:
            ends, chars = self.values.ends.view(), self.values.chars.view()
            self.table.reserve(missing)
            self.table.insert_stored(ends, chars, self.table.indexed, rows)
            self.table.indexed = rows
            self._release()

    def _rebuild(self, extra: int) -> None:
        rows = len(self.values)
        self.table.rebuild(self.values.ends.view(), self.values.chars.view(), rows, extra)
        self._release()

    def _room(self, extra: int) -> None:
        """A table with room for ``extra`` more slots, reserved (see HashTable.reserve)."""
        if self.table.needs_rebuild(len(self.values), extra):
            self._rebuild(extra)
        self.table.reserve(extra)

    def get(self, arr: pa.Array) -> np.ndarray:
        """Id of each value (the latest, if a value was added twice), -1 where absent/null."""
        data, offs, valid = buffers(arr)
        if not len(self.values):
            return np.full(len(offs) - 1, -1, dtype=np.int64)
        ends, chars = self.values.ends.view(), self.values.chars.view()
        out = self.table.get(ends, chars, len(self.values), data, offs, valid)
        self._release()
        return out

    def get_or_add(self, arr: pa.Array) -> tuple[np.ndarray, np.ndarray]:
        """(id of each value, positions of the values that got new ids): new values get the
        next ids in order of first appearance; nulls get -1."""
        ids, new, _ = self.get_or_add_values(arr)
        return ids, new

    def get_or_add_values(self, arr: pa.Array) -> tuple[np.ndarray, np.ndarray, pa.Array]:
        """:meth:`get_or_add`, and the new values themselves (``arr.take(new)``, in id
        order): the address book stages them as rows, and a second take of a batch's
        new addresses cost the ingest's main thread as much again."""
        data, offs, valid = buffers(arr)
        self._room(len(offs) - 1)
        n0 = len(self.values)
        ends = self.values.ends.view() if n0 else np.zeros(1, dtype=np.int64)
        chars = self.values.chars.view() if n0 else np.zeros(1, np.uint8)
        out, new = self.table.get_or_insert(ends, chars, n0, data, offs, valid)
        self.table.wrote(len(offs) - 1, len(new))
        self._release()
        values = arr.take(pa.array(new, pa.int64()))  # Arrow gathers the bytes in C
        if len(new):
            sub_data, sub_offs, _ = buffers(values)
            self.values.append(sub_data, sub_offs)
        self.table.indexed = len(self.values)
        return out, new, values

    def add(self, arr: pa.Array) -> int:
        """Append every value as a new id (a value already present gets a second, later id);
        returns the first new id."""
        data, offs, _ = buffers(arr)
        self._room(len(offs) - 1)
        n0 = len(self.values)
        self.values.append(data, offs)
        self.table.insert(data, offs, n0)
        self.table.indexed = len(self.values)
        self._release()
        return n0

    def take(self, ids: np.ndarray) -> list[str]:
        return self.values.take(ids)

    def truncate(self, rows: int) -> None:
        self.sync(rows)

    def flush(self) -> None:
        """Values and slots durable: call before the manifest swap that commits them."""
        self.values.sync()
        self.table.save(len(self.values))

    def deferred_flush(self) -> Callable[[], None]:
        """:meth:`flush` in two steps: what needs this map's state now, and the call
        returned, which waits on the disk (fsync, msync) and may run in another thread
        while the map takes the next batch; run it before the commit that names these ids."""
        values = self.values.deferred_sync()
        slots = self.table.deferred_save(len(self.values))

        def flush() -> None:
            values()
            slots()

        return flush

    def _release(self) -> None:
        self.values.release()
        self.table.release()

    def close(self) -> None:
        self.values.close()
