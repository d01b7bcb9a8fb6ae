"""Whole-chain work arrays (a value per address or cluster id), within the memory budget.

Why: a pass over a chain keeps a few numbers per address id (its cluster, flags, counts).
At Bitcoin's size that is a billion ids, and already at 50M transactions (100M addresses)
eight bytes each made 800 MB per array: the attribution's behaviour rules held seven of
them, and a command's peak memory grew with the chain. A :class:`WorkArray` stays a plain
numpy array while the arrays of its :class:`WorkSpace` fit ``RAM_SHARE`` of the budget
(small chains: nothing changes); past that it is a memory-mapped scratch file, and every
operation touches one window of ids at a time (``WINDOW_SHARE`` of the budget) and
releases its pages after it. The OS page cache keeps the file; the process's resident set
stays within the RAM share plus one window, whatever the chain's size.

Operations take index arrays, as numpy's fancy indexing does: :meth:`take`, :meth:`put`,
:meth:`add` (``np.add.at``: repeated ids add up), :meth:`where` (the ids whose value
passes a test). Results are the same in both modes; a test runs the attribution both ways.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from types import TracebackType

import numpy as np

from fundtrail.chainstore.budget import budget_bytes, release

RAM_SHARE = 0.125  # of the budget: work arrays held in RAM, first come first served
WINDOW_SHARE = 0.0625  # of the budget: one window of a mapped array's pages
MASKED_WINDOWS = 16  # up to this many windows, an operation masks its ids per window


def window_bytes() -> int:
    """Bytes of a mapped array one operation touches before releasing them."""
    return budget_bytes(WINDOW_SHARE)


def ram_bytes() -> int:
    """Bytes of work arrays a :class:`WorkSpace` keeps in RAM."""
    return budget_bytes(RAM_SHARE)


class WorkArray:
    """Values of one dtype indexed by id: a RAM array, or the view of a mapped file
    (``mapping``) that every operation touches one window at a time."""

    def __init__(self, values: np.ndarray, mapping: np.memmap | None = None) -> None:
        self.n = len(values)
        self.dtype = values.dtype
        self._view = values  # a plain ndarray either way: numpy's fast paths, not memmap's
        self._map = mapping
        self._ram: np.ndarray | None = values if mapping is None else None

    def __len__(self) -> int:
        return self.n

    @property
    def mapped(self) -> bool:
        return self._map is not None

    def _step(self) -> int:
        return max(1, window_bytes() // self.dtype.itemsize)

    def _windows(self) -> Iterator[tuple[int, int]]:
        step = self._step()
        for lo in range(0, self.n, step):
            yield lo, min(self.n, lo + step)
            release(self._map)  # type: ignore[arg-type]

    def _spans(self, idx: np.ndarray) -> Iterator[np.ndarray]:
        """Positions of ``idx`` window by window, pages released between: a mask per
        window while they are few (a compare is cheaper than a sort), else one sort."""
        if -(-self.n // self._step()) <= MASKED_WINDOWS:
            for lo, hi in self._windows():
                pos = np.flatnonzero((idx >= lo) & (idx < hi))
                if len(pos):
                    yield pos
            return
        order = np.argsort(idx, kind="stable")
        ids = idx[order]
        for lo, hi in self._windows():
            a, b = np.searchsorted(ids, [lo, hi])
            if a < b:
                yield order[a:b]

    def take(self, idx: np.ndarray) -> np.ndarray:
        idx = np.asarray(idx, dtype=np.int64)
        if self._ram is not None:
            return self._ram[idx]
        out = np.empty(len(idx), dtype=self.dtype)
        for pos in self._spans(idx):
            out[pos] = self._view[idx[pos]]
        return out

    def put(self, idx: np.ndarray, values: np.ndarray | int | bool) -> None:
        idx = np.asarray(idx, dtype=np.int64)
        if self._ram is not None:
            self._ram[idx] = values
            return
        vals = np.broadcast_to(np.asarray(values, dtype=self.dtype), idx.shape)
        for pos in self._spans(idx):
            self._view[idx[pos]] = vals[pos]

    def add(self, idx: np.ndarray, weights: np.ndarray | int = 1) -> None:
        idx = np.asarray(idx, dtype=np.int64)
        if self._ram is not None:
            np.add.at(self._ram, idx, weights)
            return
        w = np.broadcast_to(np.asarray(weights, dtype=self.dtype), idx.shape)
        for pos in self._spans(idx):
            np.add.at(self._view, idx[pos], w[pos])

    def where(self, test: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
        """Sorted ids whose value passes ``test`` (a vectorised predicate)."""
        if self._ram is not None:
            return np.flatnonzero(test(self._ram)).astype(np.int64)
        parts = [lo + np.flatnonzero(test(self._view[lo:hi])) for lo, hi in self._windows()]
        return np.concatenate(parts).astype(np.int64) if parts else np.zeros(0, np.int64)

    def fill(self, lo: int, values: np.ndarray) -> None:
        """Write ``values`` at ids ``lo..lo+len-1`` (a sequential build), pages released."""
        self._view[lo : lo + len(values)] = values
        if self._map is not None:
            release(self._map)

    def close(self) -> None:
        if self._map is not None:
            self._map._mmap.close()  # type: ignore[attr-defined]
            self._map = None
        self._ram = None


class WorkSpace:
    """The work arrays of one computation, and the directory their files go to.

    Arrays are in RAM while their total fits ``RAM_SHARE`` of the budget, the rest
    mapped; :meth:`close` (or leaving the ``with`` block) deletes the files."""

    def __init__(self, where: Path) -> None:
        sweep_scratch(where)
        self.root = where / f"work-{os.getpid()}-{uuid.uuid4().hex[:12]}"
        self.cap = ram_bytes()
        self.used = 0
        self.arrays: list[WorkArray] = []

    def zeros(self, n: int, dtype: np.dtype | type) -> WorkArray:
        nbytes = n * np.dtype(dtype).itemsize
        if self.used + nbytes <= self.cap:
            self.used += nbytes
            arr = WorkArray(np.zeros(n, dtype=dtype))
        else:
            self.root.mkdir(parents=True, exist_ok=True)
            path = self.root / f"a{len(self.arrays)}.bin"
            mapping = np.memmap(path, dtype=dtype, mode="w+", shape=(n,))
            arr = WorkArray(mapping.view(np.ndarray), mapping)
        self.arrays.append(arr)
        return arr

    def free(self, arr: WorkArray) -> None:
        """Done with ``arr``: its RAM (or file) goes back to the space."""
        if arr._ram is not None and arr in self.arrays:
            self.used -= arr.n * arr.dtype.itemsize
        arr.close()

    def wrap(self, values: np.ndarray) -> WorkArray:
        """A work array holding ``values`` (copied in windows when it goes to a file)."""
        arr = self.zeros(len(values), values.dtype)
        step = max(1, window_bytes() // max(1, values.dtype.itemsize))
        for lo in range(0, len(values), step):
            arr.fill(lo, values[lo : lo + step])
        return arr

    def close(self) -> None:
        for a in self.arrays:
            a.close()
        self.arrays.clear()
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> WorkSpace:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def sweep_scratch(where: Path, prefix: str = "work") -> None:
    """Delete the scratch folders (``<prefix>-<pid>-<random>``) of processes that died
    without closing them (a killed command's files would otherwise stay on disk,
    gigabytes on a big chain)."""
    for old in where.glob(f"{prefix}-*-*"):
        try:
            pid = int(old.name.split("-")[1])
        except ValueError:
            continue
        if not _alive(pid):
            shutil.rmtree(old, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    return True


def over(values: np.ndarray) -> WorkArray:
    """A work array reading ``values`` in place: a memory map (``np.load(...,
    mmap_mode="r")``, ``np.memmap``) is read a window at a time and released, as a mapped
    work array is; anything else as a RAM one. Why: random lookups into a mapped array
    of the whole chain (each address's cluster) keep every page they touch resident
    until released, so one range of a pass held most of an 800 MB file at 100M addresses."""
    if isinstance(values, np.memmap) and len(values):
        return WorkArray(values.view(np.ndarray), values)
    return WorkArray(np.asarray(values))


def in_ram(values: np.ndarray) -> WorkArray:
    """A RAM work array over ``values`` itself (no copy): for callers holding a plain array."""
    return WorkArray(values)
