"""Victims' personal data encrypted at rest (AES-256-GCM), and a keyed blind index.

The key comes from ``FUNDTRAIL_SECRET_KEY`` (any text; 32 raw bytes are derived from
it with HKDF) or, when that is unset, from ``<workspace>/secret.key``: 32 random bytes
created on first use with mode 600, refused when others may read it. Losing the key
loses the personal data (nothing else), so back it up with the database.

Each value is sealed with a fresh 96-bit nonce and bound to its purpose (``aad``,
e.g. ``complaint:victim``) so a ciphertext cannot be moved to another column.
Stored form: ``v1:`` + urlsafe base64 of ``nonce || ciphertext+tag``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import stat
import unicodedata
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from fundtrail.errors import StorageError
from fundtrail.settings import get_settings
from fundtrail.workspace import workspace_home

KEY_FILE = "secret.key"
_PREFIX = "v1:"


def _derive(material: bytes, info: bytes) -> bytes:
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
        return _derive(secret.encode(), b"master")
    return _key_file(home)


class PiiCipher:
    """Seal and open personal data; compute blind indexes to count victims unseen."""

    def __init__(self, key: bytes) -> None:
        if len(key) != 32:
            raise ValueError("PiiCipher needs a 32-byte key")
        self._aead = AESGCM(_derive(key, b"aes-gcm"))
        self._mac_key = _derive(key, b"blind-index")

    @classmethod
    def from_settings(cls, home: Path | None = None) -> PiiCipher:
        return cls(master_key(home))

    def seal(self, text: str | None, aad: str) -> str | None:
        if text is None or text == "":
            return None
        nonce = os.urandom(12)
        blob = nonce + self._aead.encrypt(nonce, text.encode(), aad.encode())
        return _PREFIX + base64.urlsafe_b64encode(blob).decode()

    def open(self, token: str | None, aad: str) -> str | None:
        if not token:
            return None
        if not token.startswith(_PREFIX):
            raise StorageError("personal data column holds an unknown format (not v1)")
        blob = base64.urlsafe_b64decode(token[len(_PREFIX) :])
        try:
            return self._aead.decrypt(blob[:12], blob[12:], aad.encode()).decode()
        except InvalidTag:
            raise StorageError(
                "personal data cannot be decrypted: wrong FUNDTRAIL_SECRET_KEY or key file"
            ) from None

    def blind_index(self, text: str) -> str:
        """A keyed hash of a normalised name: equal victims match, the name stays hidden."""
        norm = " ".join(unicodedata.normalize("NFKC", text).casefold().split())
        return hmac.new(self._mac_key, norm.encode(), hashlib.sha256).hexdigest()
