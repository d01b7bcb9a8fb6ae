"""Raw blocks kept between runs: orphans, side branches and the last main-chain blocks.

One file per block (``<hash>.blk``), written atomically. They let a later run connect
an orphan to a parent that arrives later, or switch back to a branch that was rolled
back. Not part of the committed store: losing this folder loses no stored data.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

MAX_FILES = 5000


class BlockPool:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def _path(self, h: bytes) -> Path:
        return self.folder / f"{h[::-1].hex()}.blk"

    def hashes(self) -> list[bytes]:
        if not self.folder.is_dir():
            return []
        return [bytes.fromhex(p.stem)[::-1] for p in sorted(self.folder.glob("*.blk"))]

    def load(self) -> Iterator[tuple[bytes, bytes]]:
        for h in self.hashes():
            raw = self.read(h)
            if raw is not None:
                yield h, raw

    def read(self, h: bytes) -> bytes | None:
        try:
            return self._path(h).read_bytes()
        except OSError:
            return None

    def discard(self, h: bytes) -> None:
        self._path(h).unlink(missing_ok=True)

    def save(self, keep: dict[bytes, bytes | None]) -> None:
        """Make the folder hold exactly ``keep`` (None: keep the file already there)."""
        existing = set(self.hashes())
        wanted = dict(list(keep.items())[-MAX_FILES:])
        for h in existing - wanted.keys():
            self._path(h).unlink(missing_ok=True)
        for h, raw in wanted.items():
            if h in existing or raw is None:
                continue
            self.folder.mkdir(parents=True, exist_ok=True)
            tmp = self.folder / f".{h[::-1].hex()}.tmp"
            tmp.write_bytes(raw)
            os.replace(tmp, self._path(h))
