"""Versioned case folders: every report run writes a new ``vN`` folder, never over one.

A case file is evidence: once handed to a court or an exchange, its bytes and their
SHA-256 must stay what was handed over. So a run writes into a hidden staging folder
next to the versions, and only when every file (``SHA256SUMS`` last) is on disk is the
folder renamed to the next free ``vN``: a reader sees either no new version or a complete
one, never a half-written ``SHA256SUMS``. ``latest`` is a symlink swapped the same way.
"""

from __future__ import annotations

import os
import re
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

from fundtrail.errors import InvalidInputError

_VERSION = re.compile(r"^v(\d+)$")
LATEST = "latest"


def versions(root: Path) -> list[Path]:
    """The complete versions under ``root``, oldest first."""
    if not root.is_dir():
        return []
    found = [(int(m.group(1)), p) for p in root.iterdir() if (m := _VERSION.match(p.name))]
    return [p for _, p in sorted(found)]


def latest(root: Path) -> Path | None:
    vs = versions(root)
    return vs[-1] if vs else None


@dataclass(slots=True)
class Staging:
    """A folder being written; :meth:`commit` makes it the next version."""

    root: Path
    path: Path

    def commit(self) -> Path:
        for _ in range(100):
            final = self.root / f"v{_last_number(self.root) + 1}"
            try:
                os.rename(self.path, final)  # fails if a concurrent run took that number
            except OSError:
                if final.exists():
                    continue
                raise
            _point_latest(self.root, final.name)
            return final
        raise InvalidInputError(f"cannot find a free version folder in {self.root}", field="out")

    def abandon(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)


def stage(root: Path) -> Staging:
    """A new hidden staging folder in ``root`` (created if needed)."""
    if root.exists() and not root.is_dir():
        raise InvalidInputError(f"{root} exists and is not a folder", field="out")
    root.mkdir(parents=True, exist_ok=True)
    path = root / f".partial-{uuid.uuid4().hex[:12]}"
    path.mkdir()
    return Staging(root, path)


def _last_number(root: Path) -> int:
    numbers = [int(m.group(1)) for p in root.iterdir() if (m := _VERSION.match(p.name))]
    return max(numbers, default=0)


def _point_latest(root: Path, name: str) -> None:
    tmp = root / f".latest-{uuid.uuid4().hex[:8]}"
    os.symlink(name, tmp)
    os.replace(tmp, root / LATEST)
