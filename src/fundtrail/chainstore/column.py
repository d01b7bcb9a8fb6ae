"""Append-only column files: the disk side of the id maps, indexed by dense id.

A column is a raw little-endian array in one file (no header), read through a memory
map and appended with plain writes. It is a *cache* of what the committed Parquet parts
say: whoever opens it first cuts it back (or lets the owner extend it) to the committed
row count, so rows written by a batch that crashed before its manifest swap vanish.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import numpy as np

from fundtrail.chainstore.budget import release


class AppendColumn:
    """Rows ``0..len-1`` of one fixed-width numpy dtype (``width`` > 1 for byte strings)."""

    def __init__(self, path: Path, dtype: np.dtype | type, width: int = 1) -> None:
        self.path = path
        self.dtype = np.dtype(dtype)
        self.width = width
        self.row_bytes = self.dtype.itemsize * width
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists():
            path.touch()
        self._fh = open(path, "r+b")  # noqa: SIM115 - closed by close()
        self._fh.seek(0, os.SEEK_END)
        self.length = self._fh.tell() // self.row_bytes
        self._view: np.ndarray | None = None

    def __len__(self) -> int:
        return self.length

    def truncate(self, rows: int) -> None:
        """Keep rows ``0..rows-1`` (no-op when shorter)."""
        if rows < self.length:
            self._drop_view()
            self._fh.truncate(rows * self.row_bytes)
            self._fh.seek(0, os.SEEK_END)
            self.length = rows

    def append(self, values: np.ndarray) -> None:
        data = np.ascontiguousarray(values, dtype=self.dtype)
        if self.width > 1 and data.shape[-1] != self.width:
            raise ValueError(f"{self.path.name}: rows of width {self.width} expected")
        self._drop_view()
        self._fh.seek(self.length * self.row_bytes)
        if data.size:  # a view, not a copy: a batch's rows are megabytes
            self._fh.write(data.reshape(-1).view(np.uint8).data)
        self.length += data.size // self.width

    def view(self) -> np.ndarray:
        """The rows as a read-only memory map (flushed first); release() it after use."""
        if self._view is None:
            self._fh.flush()
            if not self.length:
                shape: tuple[int, ...] = (0, self.width) if self.width > 1 else (0,)
                return np.zeros(shape, dtype=self.dtype)
            shape = (self.length, self.width) if self.width > 1 else (self.length,)
            self._view = np.memmap(self.path, dtype=self.dtype, mode="r", shape=shape)
        return self._view

    def release(self) -> None:
        if self._view is not None:
            release(self._view)

    def sync(self) -> None:
        """Make appended rows durable (before the manifest swap that commits them)."""
        self.deferred_sync()()

    def deferred_sync(self) -> Callable[[], None]:
        """Hand the appended rows to the OS now; the call returned makes them durable
        (fsync), from any thread: the ingest's committer waits on the disk, not the thread
        that appends the next batch. Later appends may be synced with them (harmless: the
        rows past the committed count are cut back when a column is opened)."""
        self._fh.flush()
        fd = os.dup(self._fh.fileno())  # the file stays open until the sync, whatever happens

        def sync() -> None:
            try:
                os.fsync(fd)
            finally:
                os.close(fd)

        return sync

    def _drop_view(self) -> None:
        if self._view is not None:
            release(self._view)
            self._view = None

    def close(self) -> None:
        self._drop_view()
        self._fh.close()


class TextColumn:
    """Variable-length byte strings by id: ``ends`` (int64 end offset of each) + ``chars``."""

    def __init__(self, folder: Path, name: str) -> None:
        self.ends = AppendColumn(folder / f"{name}.ends", np.int64)
        self.chars = AppendColumn(folder / f"{name}.chars", np.uint8)
        n = len(self.ends)
        if n:  # a crash between the two appends: cut both back to what agrees
            while n and int(self.ends.view()[n - 1]) > len(self.chars):
                n -= 1
            self.ends.truncate(n)
            last = int(self.ends.view()[n - 1]) if n else 0
            self.chars.truncate(last)
        else:
            self.chars.truncate(0)

    def __len__(self) -> int:
        return len(self.ends)

    def truncate(self, rows: int) -> None:
        if rows >= len(self.ends):
            return
        end = int(self.ends.view()[rows - 1]) if rows else 0
        self.ends.truncate(rows)
        self.chars.truncate(end)

    def append(self, data: np.ndarray, offsets: np.ndarray) -> None:
        """Append strings given as Arrow-style buffers: ``data[offsets[i]:offsets[i+1]]``."""
        base = len(self.chars)
        start = int(offsets[0])
        self.chars.append(data[start : int(offsets[-1])])
        self.ends.append(np.asarray(offsets[1:], dtype=np.int64) - start + base)

    def take(self, ids: np.ndarray) -> list[str]:
        """Texts of ``ids`` (each 0 <= id < len)."""
        ends, chars = self.ends.view(), self.chars.view()
        ids = np.asarray(ids, dtype=np.int64)
        stop = ends[ids]
        start = np.where(ids > 0, ends[np.maximum(ids - 1, 0)], 0)
        out = [
            bytes(chars[a:b]).decode() for a, b in zip(start.tolist(), stop.tolist(), strict=True)
        ]
        self.release()
        return out

    def release(self) -> None:
        self.ends.release()
        self.chars.release()

    def sync(self) -> None:
        self.deferred_sync()()

    def deferred_sync(self) -> Callable[[], None]:
        chars, ends = self.chars.deferred_sync(), self.ends.deferred_sync()

        def sync() -> None:
            chars()
            ends()

        return sync

    def close(self) -> None:
        self.ends.close()
        self.chars.close()
