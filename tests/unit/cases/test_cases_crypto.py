"""Personal data at rest: sealed with AES-GCM, key from the setting or a mode-600 key file."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from fundtrail.cases.crypto import KEY_FILE, PiiCipher, master_key
from fundtrail.errors import StorageError
from fundtrail.settings import reset_settings


def test_key_file_created_600_and_reused(home: Path) -> None:
    k1 = master_key()
    assert stat.S_IMODE((home / KEY_FILE).stat().st_mode) == 0o600
    assert master_key() == k1


def test_key_file_readable_by_others_refused(home: Path) -> None:
    master_key()
    (home / KEY_FILE).chmod(0o644)
    with pytest.raises(StorageError, match="chmod 600"):
        master_key()


def test_secret_key_setting_wins(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FUNDTRAIL_SECRET_KEY", "correct horse battery staple")
    reset_settings()
    assert master_key() == master_key()
    assert not (home / KEY_FILE).exists()


def test_seal_open_roundtrip_hides_text_and_binds_purpose() -> None:
    c = PiiCipher(b"k" * 32)
    token = c.seal("Alice Example", "complaint:victim")
    assert token is not None and "Alice" not in token
    assert token != c.seal("Alice Example", "complaint:victim")  # fresh nonce
    assert c.open(token, "complaint:victim") == "Alice Example"
    with pytest.raises(StorageError, match="cannot be decrypted"):
        c.open(token, "complaint:contact")
    with pytest.raises(StorageError, match="cannot be decrypted"):
        PiiCipher(b"x" * 32).open(token, "complaint:victim")
    assert c.seal(None, "x") is None and c.open(None, "x") is None


def test_blind_index_matches_equal_names_only() -> None:
    c = PiiCipher(b"k" * 32)
    assert c.blind_index("Alice  Example") == c.blind_index("alice example")
    assert c.blind_index("Alice") != c.blind_index("Alicia")
    assert c.blind_index("Alice") != PiiCipher(b"x" * 32).blind_index("Alice")
