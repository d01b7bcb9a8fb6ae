"""Is the live index built from today's inputs? Asked on every answer, without a database.

An index version records what it was built from (``meta.json``: each chain store's
version, which also moves with ``fundtrail cluster``; the tag files; the hop count; the
intel journal position). An answer says ``rebuild_pending`` and names the inputs that
moved since, so a result is never stale without a word; the server then rebuilds in the
background and the command line rebuilds before it answers.

Per check this costs a few ``stat`` calls: the inputs are compared in full only when
one of the watched paths changed (or changed so recently that a second change within
the file system's timestamp granularity could hide behind it). Answers check the
workspace at most every ``ANSWER_CHECK_S`` (a new block or tag file shows in
``rebuild_pending`` within that); the intel journal is compared on every answer.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from fundtrail.chains.reads import chain_stores
from fundtrail.chainstore.tags import TagStore
from fundtrail.screen.index import ScreenIndex

RACY_S = 0.05  # a path changed this recently may change again unseen: compare in full
ANSWER_CHECK_S = 0.1  # answers reuse a workspace check this young


def inputs(home: Path, hops: int) -> dict[str, Any]:
    """The inputs an index is built from that live in the workspace (not the database)."""
    return {
        "chains": {c.chain.code: c.version for c in chain_stores(home)},
        "tags": [[p.name, p.stat().st_size, p.stat().st_mtime_ns] for p in TagStore(home).files()],
        "hops": hops,
    }


def pending_inputs(meta: dict[str, Any], now: dict[str, Any], intel_seq: int) -> list[str]:
    """Names of the inputs that differ between an index's fingerprint and ``now``."""
    built = meta.get("fingerprint", {})
    out: list[str] = []
    chains_then, chains_now = built.get("chains", {}), now["chains"]
    for code in sorted(set(chains_then) | set(chains_now)):
        if chains_then.get(code) != chains_now.get(code):
            out.append(f"chain {code}")
    if built.get("tags") != now["tags"]:
        out.append("tags")
    if built.get("hops") != now["hops"]:
        out.append("hops")
    if intel_seq > int(meta.get("intel_seq", 0)):
        out.append("intel")
    return out


class Freshness:
    """Cached answer to "which inputs moved since this version", per process."""

    def __init__(self, home: Path, hops: int) -> None:
        self.home = Path(home)
        self.hops = hops
        self._key: tuple[Any, ...] | None = None
        self._workspace: list[str] = []
        self._manifests: tuple[Any, list[Path]] = (None, [])
        self._checked_at = -1e9
        self._checked_version: str | None = None

    def _watched(self) -> list[Path]:
        chains = self.home / "chains"
        try:
            st = os.stat(chains)
            stamp: Any = (st.st_ino, st.st_mtime_ns)
            if time.time() - st.st_mtime < RACY_S:
                stamp = ("racy", time.monotonic())  # list again next time
        except FileNotFoundError:
            stamp = None
        if stamp != self._manifests[0] or stamp is None:  # a chain folder came or went
            found = sorted(p / "manifest.json" for p in chains.iterdir()) if stamp else []
            self._manifests = (stamp, found)
        return [chains, self.home / "tags", *self._manifests[1]]

    def _token(self) -> tuple[tuple[Any, ...], float]:
        stamps: list[tuple[Any, ...]] = []
        newest = 0.0
        for p in self._watched():
            try:
                st = os.stat(p)
            except FileNotFoundError:
                stamps.append((str(p),))
                continue
            stamps.append((str(p), st.st_mtime_ns, st.st_ino, st.st_size))
            newest = max(newest, st.st_mtime)
        return tuple(stamps), newest

    def pending(self, index: ScreenIndex, intel_seq: int, *, max_age: float = 0.0) -> list[str]:
        """``max_age``: reuse the workspace check made less than this many seconds ago
        for the same index version (answers: a chain or tag change shows within it; the
        intel journal is compared on every call)."""
        checked = time.monotonic()
        if not (
            max_age > 0
            and checked - self._checked_at < max_age
            and self._checked_version == index.version
        ):
            token, newest = self._token()
            key = (index.version, token)
            if key != self._key:
                now = inputs(self.home, self.hops)
                self._workspace = pending_inputs(index.meta, now, 0)
                racy = time.time() - newest < RACY_S
                self._key = None if racy else key
            self._checked_at, self._checked_version = checked, index.version
        out = list(self._workspace)
        if intel_seq > int(index.meta.get("intel_seq", 0)):
            out.append("intel")
        return out
