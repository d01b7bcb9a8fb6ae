"""The TAXII paths that lean on SQL (keyset paging, TLP filter, version ranges) on PostgreSQL."""

from __future__ import annotations

import pytest
from taxii2client.v21 import as_pages
from taxii_hub import N_GREEN, LiveHub, all_objects, collection


@pytest.mark.postgres
def test_paging_filters_and_visibility_on_postgres(live_pg: LiveHub) -> None:
    exchange = collection(live_pg, "exchange/analyst", "Shared with you")
    objects = all_objects(exchange, 4)
    assert len({o["id"] for o in objects}) == N_GREEN + 3
    patterns = " ".join(o["pattern"] for o in objects)
    assert not any(v in patterns for v in live_pg.hidden_from_exchange)
    one = objects[0]
    assert exchange.get_objects(id=one["id"], version=one["modified"])["objects"] == [one]
    bank = collection(live_pg, "bank/reader", "TLP:RED")
    assert [
        e for env in as_pages(bank.get_manifest, per_request=2) for e in env.get("objects", [])
    ] == []
