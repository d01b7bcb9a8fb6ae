"""The screening index: memory-mapped sorted address keys, offsets and reason records.

On disk, one folder per version under ``<home>/screen/``::

    keys.npy      uint64, sorted, unique: address_key(chain, address)
    offsets.npy   int64, len(keys)+1: records of keys[i] are records[offsets[i]:offsets[i+1]]
    records.npy   structured: category, kind, hops, share_ppm, source
    sources.jsonl who said it: indicator/tag/entity ids, org, TLP, share list (a line each)
    source_offsets.npy  int64, byte offset of every line: a source is decoded when a hit
                  needs it, so loading a version costs the same for 100 or 1M sources
    meta.json     version, build time, input fingerprint, counts

``CURRENT`` names the live version and is swapped atomically, so a lookup that is
served during a rebuild reads one complete version, never a mix. Lookups touch no
database: a binary search over ``keys.npy`` (memory-mapped) and a slice.
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import threading
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from fundtrail.errors import NotFoundError, StorageError
from fundtrail.model.indicators import Category
from fundtrail.screen.keys import address_key

CATEGORIES: list[str] = [c.value for c in Category]
CATEGORY_CODE = {c: i for i, c in enumerate(CATEGORIES)}
KINDS = ("indicator", "tag", "entity", "cluster", "indirect")
KIND_CODE = {k: i for i, k in enumerate(KINDS)}

RECORD = np.dtype(
    [("category", "u1"), ("kind", "u1"), ("hops", "u1"), ("share_ppm", "<u4"), ("source", "<i4")]
)
PPM = 1_000_000
PRUNE_GRACE_S = 60.0


@dataclass(slots=True)
class Source:
    """Who said it, and who may know: the visibility of every reason derived from it."""

    kind: str  # indicator | tag | entity | exposure
    ref: str  # indicator id, tag source, entity label...
    label: str
    category: str
    org: str | None = None  # owning organisation; None = public attribution data
    tlp: str = "clear"
    share_with: list[str] = field(default_factory=list)
    confidence: int = 100
    chain: str = ""
    address: str = ""  # the address the source names (for indirect reasons: the origin)
    members: list[str] = field(default_factory=list)  # exposure: the indicator ids behind it
    txid: str = ""  # indirect reasons: the tx in which the origin's coins left it


class FactTable:
    """Reasons collected for the index, as columns (bulk appends of numpy arrays)."""

    def __init__(self) -> None:
        self._keys: list[np.ndarray] = []
        self._recs: list[np.ndarray] = []
        self.sources: list[Source] = []

    def add_source(self, source: Source) -> int:
        self.sources.append(source)
        return len(self.sources) - 1

    def add(
        self,
        keys: np.ndarray,
        *,
        category: str | np.ndarray,
        kind: str,
        source: int | np.ndarray,
        share_ppm: int | np.ndarray = PPM,
        hops: int | np.ndarray = 0,
    ) -> None:
        n = len(keys)
        if n == 0:
            return
        rec = np.empty(n, dtype=RECORD)
        if isinstance(category, str):
            rec["category"] = CATEGORY_CODE[Category.parse(category).value]
        else:
            rec["category"] = category
        rec["kind"] = KIND_CODE[kind]
        rec["hops"] = np.minimum(hops, 255) if isinstance(hops, np.ndarray) else min(hops, 255)
        rec["share_ppm"] = share_ppm
        rec["source"] = source
        self._keys.append(np.asarray(keys, dtype=np.uint64))
        self._recs.append(rec)

    def add_address(self, chain: str, address: str, **kw: Any) -> None:
        self.add(np.array([address_key(chain, address)], dtype=np.uint64), **kw)

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        if not self._keys:
            return np.empty(0, np.uint64), np.empty(0, RECORD)
        return np.concatenate(self._keys), np.concatenate(self._recs)


def screen_root(home: Path) -> Path:
    path = Path(home) / "screen"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _sorted(keys: np.ndarray, recs: np.ndarray) -> np.ndarray:
    """The order by (key, kind, source): one sort of the keys, then a finer sort only of
    the records whose key has more than one (most addresses have a single reason)."""
    order = np.argsort(keys, kind="stable")
    sk = keys[order]
    dup = np.zeros(len(sk), dtype=bool)
    if len(sk) > 1:
        same = sk[1:] == sk[:-1]
        dup[1:] |= same
        dup[:-1] |= same
    pos = np.nonzero(dup)[0]
    if len(pos):
        sub = order[pos]
        r = recs[sub]
        order[pos] = sub[np.lexsort((r["source"], r["kind"], keys[sub]))]
    return order


def _new_version() -> str:
    now = time.time()
    return (
        time.strftime("%Y%m%dT%H%M%S", time.gmtime(now))
        + f".{int(now * 1e6) % 1_000_000:06d}-{uuid.uuid4().hex[:6]}"
    )


def _distinct(keys: np.ndarray, recs: np.ndarray) -> np.ndarray:
    """Rows not repeating the (key, kind, source, category) of the row before them (the
    same tag listed twice in a pack, an address in two imports): one reason, not two."""
    keep = np.ones(len(keys), dtype=bool)
    if len(keys) > 1:
        keep[1:] = (
            (keys[1:] != keys[:-1])
            | (recs["kind"][1:] != recs["kind"][:-1])
            | (recs["source"][1:] != recs["source"][:-1])
            | (recs["category"][1:] != recs["category"][:-1])
        )
    return keep


def write_index(
    home: Path,
    facts: FactTable,
    *,
    fingerprint: dict[str, Any],
    extra: dict[str, Any] | None = None,
) -> str:
    """Sort, group and write a new version; swap CURRENT to it. Returns the version.

    ``extra`` goes into ``meta.json`` (the build records its intel journal position).
    """
    keys, recs = facts.arrays()
    order = _sorted(keys, recs)
    keys, recs = keys[order], recs[order]
    keep = _distinct(keys, recs)
    keys, recs = keys[keep], recs[keep]
    first = np.ones(len(keys), dtype=bool)
    if len(keys) > 1:
        np.not_equal(keys[1:], keys[:-1], out=first[1:])
    starts = np.nonzero(first)[0]
    uniq = keys[starts]
    offsets = np.append(starts, len(keys)).astype(np.int64)
    root = screen_root(home)
    version = _new_version()
    tmp = root / f".{version}.tmp"
    tmp.mkdir()
    np.save(tmp / "keys.npy", uniq)
    np.save(tmp / "offsets.npy", offsets)
    np.save(tmp / "records.npy", recs)
    lines = [json.dumps(asdict(s)).encode() + b"\n" for s in facts.sources]
    (tmp / "sources.jsonl").write_bytes(b"".join(lines))
    ends = np.cumsum([len(line) for line in lines], dtype=np.int64)
    np.save(tmp / "source_offsets.npy", np.concatenate([[0], ends]).astype(np.int64))
    meta = {
        **(extra or {}),
        "version": version,
        "built_at": time.time(),
        "fingerprint": fingerprint,
        "addresses": len(uniq),
        "records": len(recs),
        "sources": len(facts.sources),
    }
    return _publish(root, tmp, version, meta)


def _publish(root: Path, tmp: Path, version: str, meta: dict[str, Any]) -> str:
    (tmp / "meta.json").write_text(json.dumps(meta, indent=1))
    os.replace(tmp, root / version)
    pointer = root / f".CURRENT.{uuid.uuid4().hex}"
    pointer.write_text(version)
    os.replace(pointer, root / "CURRENT")
    _prune(root, keep={version})
    return version


def restamp(home: Path, version: str, intel_seq: int) -> str:
    """A new version with ``version``'s data (hard links) at a later intel journal
    position: changes were journalled, but the content the index is built from is the
    same, so a rebuild would write the same bytes."""
    root = screen_root(home)
    old = root / version
    meta = json.loads((old / "meta.json").read_text())
    new = _new_version()
    tmp = root / f".{new}.tmp"
    tmp.mkdir()
    for name in ("keys.npy", "offsets.npy", "records.npy", "sources.jsonl", "source_offsets.npy"):
        os.link(old / name, tmp / name)
    return _publish(root, tmp, new, {**meta, "version": new, "intel_seq": intel_seq})


def _prune(root: Path, keep: set[str], retain: int = 2) -> None:
    """Remove versions superseded more than ``PRUNE_GRACE_S`` ago, keeping the newest few.

    A reader reads ``CURRENT`` and then opens that version's files; deleting by count
    alone let two quick rebuilds remove a version between those two steps (a reader then
    met a half-deleted folder). A version's retirement time is when its successor was
    written, so a reader has the whole grace period to open what CURRENT named.
    """
    versions = sorted(
        (p for p in root.iterdir() if p.is_dir() and p.name[:1].isdigit()),
        key=lambda p: (p.stat().st_mtime_ns, p.name),
    )
    now = time.time()
    for old, successor in itertools.pairwise(versions[: len(versions) - retain + 1]):
        if old.name in keep:
            continue
        if now - successor.stat().st_mtime > PRUNE_GRACE_S:
            shutil.rmtree(old, ignore_errors=True)


def current_version(home: Path) -> str | None:
    pointer = screen_root(home) / "CURRENT"
    return pointer.read_text().strip() if pointer.exists() else None


class Sources:
    """The sources of a version, decoded one at a time when a hit names them."""

    def __init__(self, folder: Path) -> None:
        self._cache: dict[int, Source] = {}
        lines = folder / "sources.jsonl"
        size = lines.stat().st_size  # missing: the version is gone (or was never whole)
        # numpy cannot map an empty file
        self._data: Any = (
            np.memmap(lines, np.uint8, mode="r").view(np.ndarray) if size else np.empty(0, np.uint8)
        )
        self._offsets = np.load(folder / "source_offsets.npy", mmap_mode="r").view(np.ndarray)

    def __len__(self) -> int:
        return len(self._offsets) - 1

    def __getitem__(self, i: int) -> Source:
        hit = self._cache.get(i)
        if hit is None:
            if not 0 <= i < len(self):
                raise IndexError(i)
            lo, hi = int(self._offsets[i]), int(self._offsets[i + 1])
            hit = Source(**json.loads(self._data[lo:hi].tobytes()))
            self._cache[i] = hit
        return hit


class ScreenIndex:
    """One loaded, immutable index version. Thread-safe for readers."""

    def __init__(self, folder: Path) -> None:
        try:
            # plain ndarray views of the mappings: np.memmap's Python-level __getitem__
            # cost more than the search itself on every hit
            self.keys = np.load(folder / "keys.npy", mmap_mode="r").view(np.ndarray)
            self.offsets = np.load(folder / "offsets.npy", mmap_mode="r").view(np.ndarray)
            self.records = np.load(folder / "records.npy", mmap_mode="r").view(np.ndarray)
            self.sources = Sources(folder)
            self.meta = json.loads((folder / "meta.json").read_text())
        except (OSError, ValueError) as exc:
            raise StorageError(f"screening index at {folder} is unreadable: {exc}") from exc
        self.version: str = self.meta["version"]

    def ranges(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(lo, hi) record ranges of many keys with one vectorised binary search;
        lo == hi for a key that is not in the index."""
        keys = np.asarray(keys, dtype=np.uint64)
        n = len(self.keys)
        if n == 0 or len(keys) == 0:
            zeros = np.zeros(len(keys), np.int64)
            return zeros, zeros
        pos = np.searchsorted(self.keys, keys)
        np.minimum(pos, n - 1, out=pos)
        hit = self.keys[pos] == keys
        lo = np.where(hit, self.offsets[pos], 0)
        hi = np.where(hit, self.offsets[pos + 1], 0)
        return lo, hi

    def records_of(self, key: int) -> list[tuple[int, int, int, int, int]]:
        """(category, kind, hops, share ppm, source) of every record of one key."""
        p = int(self.keys.searchsorted(np.uint64(key)))
        if p >= len(self.keys) or int(self.keys[p]) != key:
            return []
        return self.records_between(int(self.offsets[p]), int(self.offsets[p + 1]))

    def records_between(self, lo: int, hi: int) -> list[tuple[int, int, int, int, int]]:
        rows: list[tuple[int, int, int, int, int]] = self.records[lo:hi].tolist()
        return rows


_MAX_MOVES = 100  # CURRENT moving this often while one reader opens it is a broken writer


class IndexCache:
    """Keeps the live version loaded; reloads when CURRENT changes (cheap stat per call)."""

    def __init__(self, home: Path) -> None:
        self.home = Path(home)
        self._pointer = screen_root(self.home) / "CURRENT"
        self._lock = threading.Lock()
        self._index: ScreenIndex | None = None
        self._stamp: tuple[int, int] | None = None  # (inode, mtime) of the CURRENT read

    def get(self) -> ScreenIndex:
        """The live version. A version that cannot be opened is only an error if CURRENT
        still names it: otherwise a rebuild moved on, and the new one is read instead.

        CURRENT is replaced by rename, so a new pointer is a new inode: one ``stat``
        tells whether the loaded version is still the live one.
        """
        try:
            st = os.stat(self._pointer)
            stamp: tuple[int, int] | None = (st.st_ino, st.st_mtime_ns)
        except FileNotFoundError:
            stamp = None
        index = self._index
        if index is not None and stamp is not None and stamp == self._stamp:
            return index
        index = self._open()
        self._stamp = stamp
        return index

    def _open(self) -> ScreenIndex:
        version = current_version(self.home)
        for _ in range(_MAX_MOVES):
            if version is None:
                raise NotFoundError("no screening index yet: run `fundtrail screen index build`")
            index = self._index
            if index is not None and index.version == version:
                return index
            with self._lock:
                try:
                    if self._index is None or self._index.version != version:
                        self._index = ScreenIndex(screen_root(self.home) / version)
                    return self._index
                except StorageError:
                    moved = current_version(self.home)
                    if moved == version:
                        raise
                    version = moved
        raise StorageError(f"the screening index changed {_MAX_MOVES} times while being opened")
