"""Victims' personal data encrypted at rest (AES-256-GCM), and keyed blind indexes.

The key is the workspace's master key (:mod:`fundtrail.secretkey`:
``FUNDTRAIL_SECRET_KEY`` or ``<workspace>/secret.key``). Losing it loses the personal
data, so back it up with the database.

Each value is sealed with a fresh 96-bit nonce and bound to its purpose (``aad``,
e.g. ``complaint:victim``) so a ciphertext cannot be moved to another column.
Stored form: ``v1:`` + urlsafe base64 of ``nonce || ciphertext+tag``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import unicodedata
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from fundtrail.errors import StorageError
from fundtrail.secretkey import KEY_FILE, derive, master_key

__all__ = ["KEY_FILE", "PiiCipher", "master_key"]

_PREFIX = "v1:"


class PiiCipher:
    """Seal and open personal data; compute blind indexes to count victims unseen."""

    def __init__(self, key: bytes) -> None:
        if len(key) != 32:
            raise ValueError("PiiCipher needs a 32-byte key")
        self._aead = AESGCM(derive(key, b"aes-gcm"))
        self._mac_key = derive(key, b"blind-index")
        self._contact_key = derive(key, b"contact-index")

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

    def contact_index(self, kind: str, value: str) -> str:
        """A keyed hash of a normalised perpetrator contact: complaints reporting the same
        one link on it, and the database alone cannot tell which contact it is (nor test
        a guess: the key is not in it)."""
        msg = f"{kind}\x1f{value}".encode()
        return hmac.new(self._contact_key, msg, hashlib.sha256).hexdigest()
