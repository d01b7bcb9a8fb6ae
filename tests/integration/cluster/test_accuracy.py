"""Accuracy on a small simulated chain: the real pipeline (simulate -> blk files -> ingest ->
cluster) scored against the simulator's ground truth."""

from __future__ import annotations

from pathlib import Path

import pytest

from fundtrail.analysis.cluster.accuracy import load_truth, score
from fundtrail.analysis.cluster.service import run_clustering
from fundtrail.chains.bitcoin.ingest import ingest_paths
from fundtrail.chains.simulate.service import run as simulate
from fundtrail.chainstore.store import ChainStore


@pytest.fixture(scope="module")
def simulated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("sim")
    simulate("mixed", out / "chain", seed=3, txs=2500)
    home = out / "ws"
    ingest_paths([out / "chain" / "blocks"], home=home)
    return home, load_truth(out / "chain" / "truth.json")


def test_multi_input_is_precise_and_never_merges_through_coinjoins(
    simulated: tuple[Path, dict],
) -> None:
    home, truth = simulated
    run_clustering("BTC", home=home, heuristics="multi_input", full=True)
    s = score(ChainStore("BTC", home), truth, "multi_input")
    assert s.coinjoin_true > 0  # the scenario has CoinJoins to get wrong
    assert s.coinjoin_merges == 0
    assert s.precision >= 0.99
    assert s.mixed_clusters <= s.clusters * 0.001
    assert 0 < s.recall < 1
    assert s.coinjoin_found >= 0.95 * s.coinjoin_true


def test_change_address_adds_recall(simulated: tuple[Path, dict]) -> None:
    home, truth = simulated
    run_clustering("BTC", home=home, heuristics="multi_input", full=True)
    base = score(ChainStore("BTC", home), truth)
    run_clustering("BTC", home=home, heuristics="multi_input,change_address")
    more = score(ChainStore("BTC", home), truth)
    assert more.recall > base.recall
    assert more.coinjoin_merges == 0
