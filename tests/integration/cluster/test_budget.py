"""A small memory budget reads the chain in many tx ranges; the clusters must not notice.

Every derived table (clusters with each address's first heuristic, the evidence forest,
the CoinJoin decisions, the statistics) is compared row for row between one range
covering the whole chain and ranges of 1,024 txs under a 64 MiB budget."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from fundtrail.analysis.cluster import service
from fundtrail.analysis.cluster.service import run_clustering
from fundtrail.chains.bitcoin.ingest import ingest_paths
from fundtrail.chains.simulate.service import run as simulate
from fundtrail.chainstore.store import ChainStore
from fundtrail.settings import reset_settings

TABLES = ("clusters", "cluster_edges", "coinjoin", "cluster_stats")


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sim")
    simulate("mixed", out / "chain", seed=5, txs=4000)
    ws = out / "ws"
    ingest_paths([out / "chain" / "blocks"], home=ws)
    return ws


def _tables(home: Path) -> dict[str, pa.Table]:
    store = ChainStore("BTC", home)
    return {t: store.read_table(t) for t in TABLES}


def test_small_budget_gives_the_same_clusters_as_a_large_one(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    heur = "multi_input,change_address"
    big = run_clustering("BTC", home=home, heuristics=heur, full=True)
    whole = _tables(home)
    monkeypatch.setenv("FUNDTRAIL_MEMORY_MB", "64")
    reset_settings()
    # 64 MiB * 0.25 / 16 KiB = 1,024 txs per range (the floor of chunk_rows)
    monkeypatch.setattr(service, "TX_BYTES", 16 * 1024)
    assert len(service._tx_ranges(0, 4000)) >= 4
    small = run_clustering("BTC", home=home, heuristics=heur, full=True)
    reset_settings()
    chunked = _tables(home)
    assert big.merges["multi_input"] > 0 and big.merges["change_address"] > 0
    assert sum(big.coinjoins.values()) > 0
    for t in TABLES:
        assert whole[t].num_rows > 0, t
        assert chunked[t].equals(whole[t]), t
    for key in ("edges", "merges", "coinjoins", "whirlpool_tx0", "clusters", "largest"):
        assert getattr(small, key) == getattr(big, key), key
    for t in TABLES:
        assert whole[t].num_rows > 0, t
        assert chunked[t].equals(whole[t]), t


def test_incremental_run_after_small_ranges_matches_a_full_one(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_clustering("BTC", home=home, full=True)
    full = _tables(home)["clusters"]
    monkeypatch.setattr(service, "TX_BYTES", 16 * 1024)
    again = run_clustering("BTC", home=home)  # nothing new: incremental, reads stored codes
    assert again.incremental
    assert _tables(home)["clusters"].equals(full)
