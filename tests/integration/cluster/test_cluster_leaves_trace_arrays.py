"""`fundtrail cluster` leaves the trace arrays built for the version it wrote.

They hold each address's cluster and each tx's CoinJoin mark, so a clustering makes the
old ones stale; building the new ones inside the next `complaints import` or `trace` put
whole-chain work into those commands. The arrays left behind must be exactly what such a
command would have built, and it must not build them again."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from fundtrail.analysis.cluster.service import cluster_of, run_clustering
from fundtrail.analysis.trace import graph, graphfiles
from fundtrail.chains.bitcoin.ingest import ingest_paths
from fundtrail.chains.simulate.service import run as simulate
from fundtrail.chainstore.store import ChainStore


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sim")
    simulate("mixed", out / "chain", seed=4, txs=2500)
    ws = out / "ws"
    ingest_paths([out / "chain" / "blocks"], home=ws)
    return ws


def test_cluster_leaves_the_arrays_a_trace_would_build(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    report = run_clustering("BTC", home=home)
    assert 0 < report.trace_arrays_seconds <= report.seconds
    store = ChainStore("BTC", home)
    folder = graphfiles.folder_for(store)
    assert (folder / "done").exists(), "no arrays for the version clustering wrote"
    left = {k: np.array(v) for k, v in graphfiles.load(folder, graph.ARRAYS).items()}  # type: ignore[union-attr]
    # they carry the clusters just written, not the singletons of before
    parent = cluster_of(store)
    assert np.array_equal(left["addr_cluster"][: len(parent)], parent)
    assert len(np.unique(left["addr_cluster"])) < len(left["addr_cluster"])

    # the next reader maps them and builds nothing
    graph._CACHE.clear()

    def no_build(*_a: object, **_k: object) -> Path:
        raise AssertionError("the trace arrays were built again")

    monkeypatch.setattr(graphfiles, "build", no_build)
    g = graph.utxo_graph(ChainStore("BTC", home))
    assert g.n_txs == len(left["tx_ids"])
    monkeypatch.undo()

    # and they equal a build from scratch
    graph._CACHE.clear()
    shutil.rmtree(folder)
    fresh = graph.build_utxo_graph(ChainStore("BTC", home))
    for name in graph.ARRAYS:
        assert np.array_equal(np.asarray(getattr(fresh, name)), left[name]), name
