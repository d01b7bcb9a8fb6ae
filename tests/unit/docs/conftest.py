"""The docs tooling lives in tools/ (not part of the package): put it on the path."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
for folder in (ROOT / "tools", ROOT / "bench"):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))
