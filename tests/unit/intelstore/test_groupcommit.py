"""Group commit of audit rows: every concurrent caller's row lands, the chain stays whole."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from fundtrail.errors import StorageError
from fundtrail.intelstore import audit
from fundtrail.intelstore.db import open_store
from fundtrail.intelstore.groupcommit import group_writer
from fundtrail.model.identity import Identity

WHO = Identity(org_id="org-b", org_name="b", org_kind="bank", role="reader", via="key", key_id="k1")


def test_concurrent_reads_each_get_their_row(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'a.sqlite'}")
    writer = group_writer(store, durable=False)
    start = threading.Barrier(12)

    def reader(t: int) -> None:
        start.wait()
        for i in range(15):
            writer.record(WHO.at("127.0.0.1"), "indicator.read", "indicator", f"ind-{t}-{i}")

    threads = [threading.Thread(target=reader, args=(t,)) for t in range(12)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    with store.read_session() as s:
        rows = s.execute(sa.select(audit.AuditEntry.object_id, audit.AuditEntry.remote)).all()
    assert sorted(r.object_id for r in rows) == sorted(
        f"ind-{t}-{i}" for t in range(12) for i in range(15)
    )
    assert {r.remote for r in rows} == {"127.0.0.1"}  # the identity's address is recorded
    result = audit.verify(store)
    assert result.ok and result.rows == 180, result.problems
    store.close()


def test_one_writer_per_store_and_durability(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'a.sqlite'}")
    assert group_writer(store) is group_writer(store)
    assert group_writer(store, durable=False) is not group_writer(store)
    store.close()


def test_a_failed_write_fails_the_caller_and_does_not_stick(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'a.sqlite'}")
    writer = group_writer(store)

    def broken(s: Session) -> None:
        audit.record(s, WHO, "screen", "screen_decisions", None)
        s.execute(sa.text("SELECT * FROM no_such_table"))

    with pytest.raises(StorageError):
        writer.run(broken)
    writer.record(WHO, "indicator.read", "indicator", "y")  # not left stuck after a failure
    result = audit.verify(store)
    assert result.ok and result.rows == 1  # the failed job's row was rolled back with it
    store.close()
