"""shared_reads: a page's several chain-store reads share one connection per snapshot;
a server's requests share one across requests (snapshots.reading_from)."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from fundtrail.chainstore import store as store_module
from fundtrail.chainstore.snapshots import SnapshotConnections, reading_from
from fundtrail.chainstore.store import ChainStore, shared_reads


def _blocks(heights: list[int]) -> pa.Table:
    n = len(heights)
    return pa.table(
        {
            "height": heights,
            "hash": [f"{h:064x}" for h in heights],
            "prev_hash": ["0" * 64] * n,
            "time": [0] * n,
            "bits": pa.array([0] * n, pa.uint32()),
            "tx_count": pa.array([1] * n, pa.int32()),
            "size": [80] * n,
            "first_tx_id": heights,
        }
    )


@pytest.fixture
def opened(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """One entry per DuckDB database opened from now on."""
    count: list[int] = []
    real = duckdb.connect

    def counting(*args: object, **kwargs: object) -> duckdb.DuckDBPyConnection:
        count.append(1)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(store_module.duckdb, "connect", counting)
    return count


def _two_blocks(home: Path) -> ChainStore:
    store = ChainStore("BTC", home)
    with store.writer() as w:
        w.commit({"blocks": _blocks([0, 1])})
    return store


def test_reads_share_one_connection_per_snapshot_and_see_each_commit(
    tmp_path: Path, opened: list[int]
) -> None:
    store = _two_blocks(tmp_path)
    opened.clear()  # the commit's own reads aside
    with shared_reads():
        for _ in range(4):  # each caller closes its connection, as services do
            con = store.connect()
            assert con.execute("SELECT count(*) FROM blocks").fetchone() == (2,)
            assert con.execute("SELECT count(*) FROM txs").fetchone() == (0,)  # empty table
            con.close()
        assert len(opened) == 1
        with shared_reads():  # nested: the outer one is shared
            ChainStore("BTC", tmp_path).connect().close()
        assert len(opened) == 1
        with store.writer() as w:
            w.commit({"blocks": _blocks([2])})
        con = store.connect()  # a new snapshot: a connection of its own, the new rows
        assert con.execute("SELECT count(*) FROM blocks").fetchone() == (3,)
        assert len(opened) == 2
    con = store.connect()  # outside: a connection of its own each time
    assert con.execute("SELECT count(*) FROM outputs").fetchone() == (0,)
    con.close()
    assert len(opened) == 3


def test_a_servers_requests_reuse_one_connection_per_snapshot_across_requests(
    tmp_path: Path, opened: list[int]
) -> None:
    store = _two_blocks(tmp_path)
    opened.clear()  # the commit's own reads aside
    cache = SnapshotConnections(kept=2)
    for _ in range(3):  # three requests, each a fresh ChainStore as routes make them
        with reading_from(cache):
            con = ChainStore("BTC", tmp_path).connect()
            con.execute("CREATE TEMP TABLE mine AS SELECT 1 AS x")  # the cursor's own
            assert con.execute("SELECT count(*) FROM blocks").fetchone() == (2,)
            con.close()
    assert len(opened) == 1
    with reading_from(cache):
        held = ChainStore("BTC", tmp_path).connect()  # a read still running on snapshot 1
    with store.writer() as w:
        w.commit({"blocks": _blocks([2])})
    with reading_from(cache):  # the commit is a new snapshot: its own connection, new rows
        assert ChainStore("BTC", tmp_path).connect().execute(
            "SELECT count(*) FROM blocks"
        ).fetchone() == (3,)
    assert len(opened) == 2
    # the workspace deleted and ingested again: version 1 once more, other parts
    again = tmp_path / "again"
    for heights in ([7], [8, 9]):
        shutil.rmtree(again, ignore_errors=True)
        with ChainStore("BTC", again).writer() as w:
            w.commit({"blocks": _blocks(heights)})
        assert ChainStore("BTC", again).version == 1
        with reading_from(cache):
            con = ChainStore("BTC", again).connect()
            assert con.execute("SELECT count(*) FROM blocks").fetchone() == (len(heights),)
    assert len(cache) == 2  # the oldest dropped ...
    assert held.execute("SELECT count(*) FROM blocks").fetchone() == (2,)  # ... not closed
    assert ChainStore("BTC", tmp_path).connect() is not None  # outside a request: no cache
    assert len(opened) == 5
