"""Schemathesis over the TAXII and lookup routes, in process: whatever comes in, no 5xx."""

from __future__ import annotations

from pathlib import Path

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from fundtrail.intel.indicators import IndicatorService
from fundtrail.intel.records import IndicatorRecord
from fundtrail.intelstore.db import open_store
from fundtrail.intelstore.keys import create_key
from fundtrail.intelstore.orgs import add_org, org_identity
from fundtrail.server.app import create_app
from fundtrail.settings import Settings

OURS = ("/taxii2/", "/api/v1/lookup")


def test_taxii_and_lookup_never_fail(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'intel.sqlite'}")
    with store.session() as s:
        add_org(s, "police")
        key = create_key(s, "police", "analyst").key
        who = org_identity(s, "police", "analyst")
    IndicatorService(store).import_records(
        who,
        [
            IndicatorRecord.build("domain", "a.example", "scam", tlp="red"),
            IndicatorRecord.build("domain", "b.example", "scam", tlp="green"),
        ],
    )
    app = create_app(store, Settings(home=tmp_path, max_body_bytes=64 * 1024))
    schema = schemathesis.openapi.from_dict(app.openapi())
    schema.app = app
    headers = {"Authorization": f"Bearer {key}", "Accept": "application/taxii+json;version=2.1"}
    ops = [r.ok() for r in schema.get_all_operations()]
    ours = [op for op in ops if op.path.startswith(OURS)]
    assert len(ours) >= 10

    for op in ours:

        @given(case=op.as_strategy())
        @settings(
            max_examples=5,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def check(case: schemathesis.Case) -> None:
            case.call_and_validate(headers=headers, checks=[not_a_server_error])

        check()
    store.close()
