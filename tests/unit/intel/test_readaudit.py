"""Group-committed read audits: every concurrent read's row lands, the chain stays whole."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from fundtrail.errors import StorageError
from fundtrail.intel.readaudit import ReadAuditor
from fundtrail.intelstore import audit
from fundtrail.intelstore.db import open_store
from fundtrail.intelstore.keys import Principal


def test_concurrent_reads_each_get_their_row(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'a.sqlite'}")
    auditor = ReadAuditor(store, lambda s: None)
    who = Principal(org_id="org-b", org_name="b", role="reader", key_id="k1")
    start = threading.Barrier(12)

    def reader(t: int) -> None:
        start.wait()
        for i in range(15):
            auditor.record(who, "indicator.read", f"ind-{t}-{i}", {}, "127.0.0.1")

    threads = [threading.Thread(target=reader, args=(t,)) for t in range(12)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    with store.read_session() as s:
        ids = s.scalars(sa.select(audit.AuditEntry.object_id)).all()
    assert sorted(ids) == sorted(f"ind-{t}-{i}" for t in range(12) for i in range(15))
    result = audit.verify(store)
    assert result.ok and result.rows == 180, result.problems
    store.close()


def test_a_failed_write_fails_the_read(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'a.sqlite'}")

    calls = []

    def broken_once(s: Session) -> None:
        calls.append(1)
        if len(calls) == 1:
            s.execute(sa.text("SELECT * FROM no_such_table"))

    who = Principal(org_id="org-b", org_name="b", role="reader", key_id="k1")
    auditor = ReadAuditor(store, broken_once)
    with pytest.raises(StorageError):
        auditor.record(who, "indicator.read", "x", {}, None)
    auditor.record(who, "indicator.read", "y", {}, None)  # not left stuck after a failure
    assert audit.verify(store).rows == 1
    store.close()
