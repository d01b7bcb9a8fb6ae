"""``visible_to`` (SQL) agrees with ``may_see`` (Python) for any indicator and viewer."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fundtrail.intelstore.db import IntelStore, open_store
from fundtrail.intelstore.models import Indicator, IndicatorShare, Org
from fundtrail.intelstore.visibility import visible_to
from fundtrail.model.tlp import TLP, may_see

ORGS = ["a", "b", "c", "d"]


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IntelStore]:
    s = open_store(f"sqlite:///{tmp_path_factory.mktemp('vis') / 'v.sqlite'}")
    with s.session() as ses:
        ses.add_all([Org(id=o, name=o) for o in ORGS])
    yield s
    s.close()


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    tlp=st.sampled_from(list(TLP)),
    owner=st.sampled_from(ORGS),
    shared=st.sets(st.sampled_from(ORGS)),
    viewer=st.sampled_from([*ORGS, ""]),
)
def test_sql_twin_of_may_see(
    store: IntelStore, tlp: TLP, owner: str, shared: set[str], viewer: str
) -> None:
    with store.session() as s:
        row = Indicator(
            org_id=owner,
            type="domain",
            chain="",
            value="x.example.com",
            value_sha256="0" * 64,
            category="scam",
            tlp=tlp.value,
            shares=[IndicatorShare(org_id=o) for o in shared],
        )
        s.add(row)
        s.flush()
        got = s.scalar(
            sa.select(sa.func.count())
            .select_from(Indicator)
            .where(Indicator.id == row.id, visible_to(viewer))
        )
        s.rollback()
    assert bool(got) == may_see(tlp, owner_org=owner, viewer_org=viewer, shared_with=shared)
