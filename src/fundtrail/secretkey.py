"""The workspace's master key: the one secret kept outside the database.

It comes from ``FUNDTRAIL_SECRET_KEY`` (any text; 32 raw bytes are derived from it
with HKDF) or, when that is unset, from ``<workspace>/secret.key``: 32 random bytes
created on first use with mode 600, refused when others may read it. Everything that
must not be forgeable or readable by someone holding only the database derives its
own key from it: victims' personal data at rest (``cases/crypto.py``), the audit
log's keyed chain and its signed checkpoints (``intelstore/audit.py``). Back it up
with the database: losing it loses the personal data and the audit log's proof.
"""

from __future__ import annotations

import base64
import os
import stat
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from fundtrail.errors import StorageError
from fundtrail.settings import get_settings
from fundtrail.workspace import workspace_home

KEY_FILE = "secret.key"


def derive(material: bytes, info: bytes) -> bytes:
    """32 bytes for one purpose from key material (HKDF-SHA256; the salt predates the
    other purposes and stays for compatibility with data sealed under it)."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"fundtrail-pii", info=info).derive(
        material
    )


def _key_file(home: Path | None) -> bytes:
    path = workspace_home(home) / KEY_FILE
    if not path.exists():
        # write a private temp file, then link it in: atomic, and a racing process
        # either wins the link or reads the winner's complete key
        tmp = path.with_name(f".{KEY_FILE}.{os.getpid()}.{os.urandom(4).hex()}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(base64.urlsafe_b64encode(os.urandom(32)) + b"\n")
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    return _read_key_file(path)


def _read_key_file(path: Path) -> bytes:
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise StorageError(
            f"key file {path} has mode {mode:o}; others may read it. Run: chmod 600 {path}"
        )
    try:
        key = base64.urlsafe_b64decode(path.read_bytes().strip())
    except ValueError as exc:
        raise StorageError(f"key file {path} is not base64: {exc}") from exc
    if len(key) != 32:
        raise StorageError(f"key file {path} does not hold a 32-byte key")
    return key


def master_key(home: Path | None = None) -> bytes:
    """The 32-byte master key: from FUNDTRAIL_SECRET_KEY, else the workspace key file."""
    secret = get_settings().secret_key
    if secret:
        return derive(secret.encode(), b"master")
    return _key_file(home)


def derived_key(purpose: bytes, home: Path | None = None) -> bytes:
    """A 32-byte key for one purpose (``b"audit-chain"``), derived from the master key."""
    return derive(master_key(home), purpose)
