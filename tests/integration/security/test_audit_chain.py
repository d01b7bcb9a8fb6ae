"""The audit log cannot be rewritten by someone holding only the database (issue 15 #4).

Each attack is what a database administrator could do without the workspace's key:
cut the newest rows (and the head marker), drop the oldest rows, edit a row and
recompute every later hash, restore an old copy. `audit verify` names each and exits 1.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from fundtrail.intelstore import audit
from fundtrail.intelstore.audit import AuditEntry, canonical, checkpoint, verify
from fundtrail.intelstore.db import IntelStore, open_store
from fundtrail.intelstore.orgs import add_org, org_identity


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[IntelStore]:
    from fundtrail.settings import reset_settings

    monkeypatch.setenv("FUNDTRAIL_HOME", str(tmp_path / "ws"))
    monkeypatch.delenv("FUNDTRAIL_SECRET_KEY", raising=False)
    reset_settings()
    (tmp_path / "ws").mkdir()
    url = (
        f"sqlite:///{tmp_path / 'ws' / 'intel.sqlite'}"
        if request.param == "sqlite"
        else str(request.getfixturevalue("postgres_url"))
    )
    s = open_store(url)
    with s.session() as ss:
        add_org(ss, "police")
        who = org_identity(ss, "police", "analyst")
    for i in range(2, 7):
        with s.session() as ss:
            audit.record(ss, who, "test.append", "thing", str(i), {"i": i})
    yield s
    s.close()
    reset_settings()


def copy_db(src: Path, dst: Path) -> None:
    """A consistent copy of a live SQLite database (WAL included)."""
    with sqlite3.connect(src) as a, sqlite3.connect(dst) as b:
        a.backup(b)


def sql(store: IntelStore, text: str, **params: object) -> None:
    with store.engine.begin() as con:
        con.execute(sa.text(text), params)


def rechain_with_sha256(store: IntelStore, head_too: bool = True) -> None:
    """What the unkeyed chain allowed: recompute every hash after an edit."""
    with store.session() as s:
        prev = audit.GENESIS
        for e in s.scalars(sa.select(AuditEntry).order_by(AuditEntry.id)):
            e.prev_hash = prev
            e.hash = hashlib.sha256(prev.encode() + canonical(e)).hexdigest()
            prev = e.hash
            last = e.id
    if head_too:
        sql(store, "UPDATE store_meta SET value = :v WHERE key = 'audit_head'", v=f"{last}:{prev}")


def test_intact_log_verifies(store: IntelStore) -> None:
    result = verify(store)
    assert result.ok, result.problems
    assert result.rows == 6


def test_cut_tail_and_head_marker_deleted(store: IntelStore) -> None:
    sql(store, "DELETE FROM audit_log WHERE id >= 5")
    sql(store, "DELETE FROM store_meta WHERE key = 'audit_head'")
    problems = verify(store).problems
    assert any("head marker is missing" in p for p in problems), problems


def test_cut_tail_and_head_moved_back_to_a_surviving_row(store: IntelStore) -> None:
    with store.read_session() as s:
        row4 = s.get(AuditEntry, 4)
        assert row4 is not None
        forged = f"4:{row4.hash}"
    sql(store, "DELETE FROM audit_log WHERE id >= 5")
    sql(store, "UPDATE store_meta SET value = :v WHERE key = 'audit_head'", v=forged)
    problems = verify(store).problems
    assert any("head marker was forged" in p for p in problems), problems


def test_dropped_first_rows(store: IntelStore) -> None:
    sql(store, "DELETE FROM audit_log WHERE id <= 2")
    problems = verify(store).problems
    assert any("rows 1..2 are missing" in p for p in problems), problems


def test_rechained_edit_is_found(store: IntelStore) -> None:
    sql(store, "UPDATE audit_log SET actor = 'someone-else' WHERE id = 3")
    rechain_with_sha256(store)
    problems = verify(store).problems
    assert any("row 1: content does not match" in p for p in problems), problems
    assert any("row 3: content does not match" in p for p in problems)


def table(name: str) -> sa.Table:
    from fundtrail.intelstore.base import metadata

    return metadata.tables[name]


class OldCopy:
    """What an administrator keeps and later restores: the SQLite file, or on PostgreSQL
    the audit tables' rows (a dump of ``audit_log`` and ``store_meta``)."""

    TABLES = ("audit_log", "store_meta")

    def __init__(self, store: IntelStore, tmp_path: Path) -> None:
        self.store, self.file = store, tmp_path / "old.sqlite"
        if store.dialect == "sqlite":
            copy_db(self.db, self.file)
        else:
            with store.engine.connect() as con:
                self.rows = {
                    t: [dict(r) for r in con.execute(sa.select(table(t))).mappings()]
                    for t in self.TABLES
                }

    @property
    def db(self) -> Path:
        return Path(str(self.store.engine.url.database))

    def restore(self) -> IntelStore:
        url = self.store.engine.url.render_as_string(hide_password=False)
        self.store.close()
        if self.store.dialect == "sqlite":
            copy_db(self.file, self.db)
            return open_store(url)
        again = open_store(url)
        with again.engine.begin() as con:
            for t in self.TABLES:
                con.execute(sa.delete(table(t)))
                if self.rows[t]:
                    con.execute(sa.insert(table(t)), self.rows[t])
        return again


def test_restored_old_copy_caught_by_a_checkpoint(store: IntelStore, tmp_path: Path) -> None:
    old = OldCopy(store, tmp_path)  # the administrator keeps a copy ...
    with store.session() as s:
        audit.record(s, "cli", "case.report", "case", "FT-1", {})  # ... evidence written ...
    cp = checkpoint(store, tmp_path / "partner.jsonl")  # ... pinned by a partner ...
    assert cp["id"] == 7
    checkpoint(store)  # ... and in the workspace's own checkpoint file
    again = old.restore()  # ... then restores the old copy: a valid chain, one row short
    try:
        problems = verify(again, [tmp_path / "partner.jsonl"]).problems
        assert any("row 7, pinned by the checkpoint partner.jsonl:1" in p for p in problems)
        # the workspace's own checkpoint file is read without being named
        own = verify(again).problems
        assert any("row 7, pinned by the checkpoint audit-checkpoints.jsonl:1" in p for p in own)
    finally:
        again.close()


def test_forged_checkpoint_refused(store: IntelStore, tmp_path: Path) -> None:
    path = tmp_path / "cp.jsonl"
    cp = checkpoint(store, path)
    cp["hash"] = "0" * 64
    path.write_text(json.dumps(cp) + "\n")
    problems = verify(store, [path]).problems
    assert problems == ["checkpoint cp.jsonl:1: bad signature"]


def test_legacy_unkeyed_rows_still_verify(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A log started before the chain was keyed: its SHA-256 rows verify, new rows are keyed."""
    from fundtrail.settings import reset_settings

    monkeypatch.setenv("FUNDTRAIL_HOME", str(tmp_path))
    reset_settings()
    store = open_store(f"sqlite:///{tmp_path / 'intel.sqlite'}")
    try:
        with store.session() as s:
            add_org(s, "police")
        sql(store, "DELETE FROM store_meta WHERE key = 'audit_keyed_from'")
        rechain_with_sha256(store)  # row 1 as the old code wrote it
        audit._KEYED_SEEN.clear()
        with store.session() as s:
            audit.record(s, "cli", "test.append", "thing", "2", {})
        assert verify(store).ok, verify(store).problems
        sql(store, "UPDATE audit_log SET actor = 'x' WHERE id = 1")
        assert not verify(store).ok
    finally:
        store.close()
        reset_settings()


def test_cli_checkpoint_then_verify_exits_1_after_a_cut(store: IntelStore, tmp_path: Path) -> None:
    home = tmp_path / "ws"  # the workspace: its key file, and the SQLite store if not PostgreSQL
    env = {k: v for k, v in os.environ.items() if not k.startswith("FUNDTRAIL_")}
    env["FUNDTRAIL_HOME"] = str(home)
    if store.dialect != "sqlite":
        env["FUNDTRAIL_DATABASE_URL"] = store.engine.url.render_as_string(hide_password=False)
    entry = "import sys; from fundtrail.cli.main import main; sys.argv[0] = 'fundtrail'; main()"

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-c", entry, *args],
            env=env, capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip

    made = run("audit", "checkpoint")
    assert made.returncode == 0, made.stderr
    assert (home / "audit-checkpoints.jsonl").is_file()
    assert run("audit", "verify").returncode == 0
    sql(store, "DELETE FROM audit_log WHERE id >= 5")
    sql(store, "DELETE FROM store_meta WHERE key = 'audit_head'")
    bad = run("audit", "verify")
    assert bad.returncode == 1
    assert "TAMPERED" in bad.stdout and "pinned by the checkpoint" in bad.stdout
