"""The REST lookups' queries use their indexes on SQLite (EXPLAIN QUERY PLAN).

A regression here is silent: answers stay right, only slow. A ``q=`` page once walked
every visible row through a MULTI-INDEX OR of the visibility filter and sorted them all;
it must walk the (created, id) index in page order and stop at the page's end.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from fundtrail.intelstore import indicators as repo
from fundtrail.intelstore.db import IntelStore, open_store
from fundtrail.intelstore.indicators import IndicatorQuery, value_sha256
from fundtrail.intelstore.models import Indicator, IndicatorShare, Org
from fundtrail.model.tlp import TLP, may_see

TLPS = [t.value for t in TLP]


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IntelStore]:
    s = open_store(f"sqlite:///{tmp_path_factory.mktemp('plans') / 'p.sqlite'}")
    start = datetime(2025, 1, 1, tzinfo=UTC)
    with s.session() as ses:
        ses.add_all([Org(id="police", name="police"), Org(id="bank", name="bank")])
        ses.flush()
        for i in range(400):
            value = f"site{i:04d}.example.com"
            ses.add(
                Indicator(
                    id=f"ind-{i:04d}",
                    org_id="police",
                    type="domain",
                    value=value,
                    value_sha256=value_sha256(value),
                    category="phishing",
                    tlp=TLPS[i % len(TLPS)],
                    created=start + timedelta(seconds=i),
                    modified=start + timedelta(seconds=i),
                )
            )
            if i % 3 == 0:
                ses.add(IndicatorShare(indicator_id=f"ind-{i:04d}", org_id="bank"))
    yield s
    s.close()


def plan_of(store: IntelStore, run: Any) -> tuple[str, Any]:
    """EXPLAIN QUERY PLAN of the (last) SELECT on indicators that ``run()`` executes."""
    seen: list[tuple[str, Any]] = []

    def grab(_conn: Any, _cur: Any, sql: str, params: Any, _ctx: Any, _many: bool) -> None:
        if sql.lstrip().upper().startswith("SELECT") and "FROM indicators" in sql:
            seen.append((sql, params))

    sa.event.listen(store.engine, "before_cursor_execute", grab)
    try:
        result = run()
    finally:
        sa.event.remove(store.engine, "before_cursor_execute", grab)
    sql, params = seen[-1]
    with store.engine.connect() as con:
        rows = con.exec_driver_sql("EXPLAIN QUERY PLAN " + sql, params).all()
    return "\n".join(str(r[-1]) for r in rows), result


def test_substring_page_walks_created_index_without_sorting(store: IntelStore) -> None:
    query = IndicatorQuery(q="example")
    with store.read_session() as s:
        plan, rows = plan_of(store, lambda: repo.search(s, "bank", query, 21))
    assert "ix_indicators_created_id" in plan, plan
    assert "TEMP B-TREE" not in plan and "MULTI-INDEX OR" not in plan, plan
    # same answer as the rule in Python: the bank's first 21 visible rows, in order
    with store.read_session() as s:
        everything = s.scalars(sa.select(Indicator).order_by(Indicator.created)).all()
        shared = set(s.scalars(sa.select(IndicatorShare.indicator_id)).all())
        want = [
            r.id
            for r in everything
            if may_see(
                TLP(r.tlp),
                owner_org=r.org_id,
                viewer_org="bank",
                shared_with={"bank"} if r.id in shared else set(),
            )
        ][:21]
    assert [r.id for r in rows] == want


def test_exact_value_uses_value_index(store: IntelStore) -> None:
    query = IndicatorQuery(value="site0003.example.com")
    with store.read_session() as s:
        plan, rows = plan_of(store, lambda: repo.search(s, "police", query, 101))
    assert "ix_indicators_value_sha256" in plan, plan
    assert [r.id for r in rows] == ["ind-0003"]


def test_single_lookup_uses_primary_key(store: IntelStore) -> None:
    with store.engine.connect() as con:
        plan, rec = plan_of(store, lambda: repo.get_visible_record(con, "bank", "ind-0000"))
    assert "USING INDEX sqlite_autoindex_indicators_1 (id=?)" in plan, plan
    assert rec.id == "ind-0000" and rec.share_with == []
