"""The audit log: every write and every AMBER/RED read recorded; tampering detected."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

from fundtrail.intel.indicators import IndicatorService
from fundtrail.intel.records import IndicatorRecord
from fundtrail.intelstore import audit
from fundtrail.intelstore.audit import AuditEntry, verify
from fundtrail.intelstore.db import IntelStore
from fundtrail.intelstore.indicators import IndicatorQuery
from fundtrail.intelstore.orgs import add_org, org_identity
from fundtrail.model.identity import Identity


@pytest.fixture
def police(store: IntelStore) -> Identity:
    with store.session() as s:
        add_org(s, "police")
        return org_identity(s, "police", "analyst")


def rec(i: int, tlp: str) -> IndicatorRecord:
    return IndicatorRecord.build("email", f"scammer{i}@example.com", "scam", tlp=tlp)


def actions(store: IntelStore) -> list[str]:
    with store.read_session() as s:
        return list(s.scalars(sa.select(AuditEntry.action).order_by(AuditEntry.id)))


def test_writes_and_amber_red_reads_are_recorded(store: IntelStore, police: Identity) -> None:
    svc = IndicatorService(store)
    green = svc.add(police, rec(1, "green"), remote="10.0.0.1")
    red = svc.add(police, rec(2, "red"))
    svc.get(police, green.id or "")  # CLEAR/GREEN reads are not logged
    svc.get(police, red.id or "")
    svc.search(police, IndicatorQuery(), limit=10)
    assert actions(store) == [
        "org.add",
        "indicator.add",
        "indicator.add",
        "indicator.read",
        "indicator.search",
    ]
    with store.read_session() as s:
        first_add = s.scalars(
            sa.select(AuditEntry).where(AuditEntry.action == "indicator.add")
        ).first()
        assert first_add is not None
        assert (first_add.remote, first_add.org_id, first_add.object_id) == (
            "10.0.0.1",
            police.org_id,
            green.id,
        )
    assert verify(store).ok


def tamper(store: IntelStore, sql: str) -> None:
    with store.engine.begin() as con:
        con.execute(sa.text(sql))


def test_verify_finds_a_changed_row(store: IntelStore, police: Identity) -> None:
    svc = IndicatorService(store)
    for i in range(4):
        svc.add(police, rec(i, "amber"))
    assert verify(store).ok
    tamper(store, "UPDATE audit_log SET actor = 'someone-else' WHERE id = 3")
    result = verify(store)
    assert not result.ok
    assert any("row 3" in p and "changed" in p for p in result.problems)


def test_verify_finds_a_deleted_row_in_the_middle_and_at_the_end(
    store: IntelStore, police: Identity
) -> None:
    svc = IndicatorService(store)
    for i in range(4):
        svc.add(police, rec(i, "amber"))
    tamper(store, "DELETE FROM audit_log WHERE id = 2")
    assert any("missing" in p for p in verify(store).problems)
    tamper(store, "DELETE FROM audit_log WHERE id = 5")
    assert any("newest rows deleted" in p for p in verify(store).problems)


def test_concurrent_appends_keep_one_chain(store: IntelStore, police: Identity) -> None:
    def work(n: int) -> None:
        for i in range(5):
            with store.session() as s:
                audit.record(s, police, "test.append", "thing", f"{n}-{i}", {"n": n})

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    result = verify(store)
    assert result.ok, result.problems
    assert result.rows == 21  # org.add + 20 appends
