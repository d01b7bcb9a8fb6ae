"""The workspace: one directory holding the chain store and the embedded intel store."""

from __future__ import annotations

from pathlib import Path

from fundtrail.settings import get_settings


def workspace_home(home: Path | None = None) -> Path:
    """Return the workspace directory, creating it on first use."""
    path = Path(home) if home is not None else get_settings().home
    path.mkdir(parents=True, exist_ok=True)
    return path


def chain_path(chain: str, home: Path | None = None) -> Path:
    """Where the chain store of ``chain`` lives; not created until something is written,
    so that reading a chain never leaves an empty folder behind."""
    return workspace_home(home) / "chains" / chain.lower()


def chain_dir(chain: str, home: Path | None = None) -> Path:
    """The chain store folder of ``chain``, created if missing (for writers)."""
    path = chain_path(chain, home)
    path.mkdir(parents=True, exist_ok=True)
    return path
