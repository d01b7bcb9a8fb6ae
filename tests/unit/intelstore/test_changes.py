"""The change journal records every indicator and rules change and signals it after commit."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from fundtrail.errors import StorageError
from fundtrail.intel.indicators import IndicatorService
from fundtrail.intel.records import IndicatorRecord
from fundtrail.intelstore.changes import changes_since, latest_seq
from fundtrail.intelstore.db import IntelStore, open_store
from fundtrail.intelstore.models import Indicator
from fundtrail.intelstore.orgs import add_org, org_identity
from fundtrail.intelstore.screening import ScreenRuleSet

ADDRESS = "12QtD5BFwRsdNsAZY76UVE1xyCGNTojH9h"


@pytest.fixture
def intel(home: Path) -> IntelStore:
    store = open_store()
    with store.session() as s:
        add_org(s, "police", "law-enforcement")
        add_org(s, "exchange", "exchange")
    return store


def _since(store: IntelStore, seq: int) -> list[tuple[str, str]]:
    with store.read_session() as s:
        return [(kind, ref) for _seq, kind, ref in changes_since(s, seq)]


def test_every_kind_of_indicator_write_is_journalled_and_signalled(intel: IntelStore) -> None:
    service = IndicatorService(intel)
    with intel.session() as s:
        police = org_identity(s, "police", "analyst")
    other = open_store()  # another handle on the same database: another process's view
    start = other.changes.latest()
    rec = service.add(
        police, IndicatorRecord.build("crypto-address", ADDRESS, "scam", chain="BTC", tlp="green")
    )
    assert _since(intel, start) == [("indicator", rec.id)]
    assert other.changes.latest() > start  # seen without a database read
    for changes in ({"tlp": "red"}, {"share_with": ["exchange"]}, {"share_with": []}):
        before = other.changes.latest()
        service.update(police, rec.id, dict(changes))
        assert _since(intel, before) == [("indicator", rec.id)]
        assert other.changes.latest() > before
    before = other.changes.latest()
    service.delete(police, rec.id)
    assert _since(intel, before) == [("indicator", rec.id)]
    other.close()


def test_rules_changes_are_journalled_and_a_rollback_signals_nothing(intel: IntelStore) -> None:
    with intel.read_session() as s:
        org_id = s.scalars(sa.text("SELECT id FROM orgs WHERE name = 'exchange'")).one()
    before = intel.changes.latest()
    with intel.session() as s:
        s.add(ScreenRuleSet(org_id=org_id, rules={}))
    assert _since(intel, before) == [("rules", org_id)]
    seq = intel.changes.latest()
    with pytest.raises(StorageError), intel.session() as s:
        s.add(Indicator(org_id=org_id, type="domain"))  # incomplete row: the insert fails
    assert intel.changes.latest() == seq
    with intel.read_session() as s:
        assert latest_seq(s) == seq
