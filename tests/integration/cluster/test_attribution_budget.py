"""The behaviour rules (deposit sweeps, hot wallets) read the chain in tx ranges; a small
budget means many ranges, and the attribution must not notice.

The rows are compared between one range covering the whole chain and ranges of 1,024 txs
under a 64 MiB budget, on a simulated chain whose exchanges sweep their deposits."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from fundtrail.analysis import txchunks
from fundtrail.analysis.attribution import lookup
from fundtrail.analysis.cluster.service import run_clustering
from fundtrail.chains.bitcoin.ingest import ingest_paths
from fundtrail.chains.simulate.service import run as simulate
from fundtrail.chainstore import workarray
from fundtrail.chainstore.csr import n_txs
from fundtrail.chainstore.store import ChainStore
from fundtrail.chainstore.tags import TagStore
from fundtrail.intel.tag_import import import_tags
from fundtrail.screen import build
from fundtrail.screen.index import KINDS, FactTable
from fundtrail.screen.overlay import IndicatorState
from fundtrail.settings import reset_settings


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sim")
    simulate("mixed", out / "chain", seed=5, txs=4000)
    ws = out / "ws"
    ingest_paths([out / "chain" / "blocks"], home=ws)
    import_tags(out / "chain" / "tags.yaml", home=ws)
    run_clustering("BTC", home=ws)
    return ws


def _rows(home: Path) -> list[dict[str, object]]:
    rows: pa.Table = lookup._compute(ChainStore("BTC", home), TagStore(home), None, None)
    return sorted(rows.to_pylist(), key=lambda r: (r["cluster_id"], r["heuristic"], r["label"]))


def test_small_ranges_give_the_same_attribution_as_one_range(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = ChainStore("BTC", home)
    monkeypatch.setattr(txchunks, "TX_BYTES", 1)  # one range: the whole chain
    assert len(txchunks.tx_ranges(n_txs(store))) == 1
    whole = _rows(home)
    monkeypatch.setenv("FUNDTRAIL_MEMORY_MB", "64")
    reset_settings()
    # 64 MiB * 0.25 / 16 KiB = 1,024 txs per range (the floor of chunk_rows)
    monkeypatch.setattr(txchunks, "TX_BYTES", 16 * 1024)
    assert len(txchunks.tx_ranges(n_txs(store))) >= 4
    chunked = _rows(home)
    reset_settings()
    kinds = {r["heuristic"] for r in whole}
    assert {"deposit_sweep", "hot_wallet"} <= kinds, kinds
    sweeps = [r for r in whole if r["heuristic"] == "deposit_sweep"]
    assert all(r["evidence_tx"] and r["evidence_address"] for r in sweeps)
    assert chunked == whole


@pytest.mark.parametrize("window_ids", [4096, 64])
def test_work_arrays_in_files_give_the_same_attribution(
    home: Path, monkeypatch: pytest.MonkeyPatch, window_ids: int
) -> None:
    """Past the budget's RAM share, the arrays by address and cluster id are mapped files
    touched a window at a time (few windows: masked; many: sorted): same rows."""
    in_ram = _rows(home)
    monkeypatch.setattr(workarray, "ram_bytes", lambda: 0)
    monkeypatch.setattr(workarray, "window_bytes", lambda: window_ids * 8)
    made: list[bool] = []
    real = workarray.WorkSpace.zeros

    def spy(ws: workarray.WorkSpace, n: int, dtype: object) -> workarray.WorkArray:
        arr = real(ws, n, dtype)  # type: ignore[arg-type]
        made.append(arr.mapped)
        return arr

    monkeypatch.setattr(workarray.WorkSpace, "zeros", spy)
    in_files = _rows(home)
    assert len(made) >= 8 and all(made)  # cluster ids, flags and counts: all files
    assert {r["heuristic"] for r in in_files} >= {"deposit_sweep", "hot_wallet"}
    assert in_files == in_ram
    assert not list((ChainStore("BTC", home).root / "cache").glob("work-*"))


def _indicators(home: Path) -> list[IndicatorState]:
    """A partner's indicators: the addresses the first ten complaints paid (scam)."""
    rows = list(csv.DictReader((home.parent / "chain" / "complaints.csv").open()))[:10]
    return [IndicatorState(f"ind-{i}", "BTC", r["to_address"], "scam", "police", "green",
                           frozenset(), 80, "reported by victims")
            for i, r in enumerate(rows)]  # fmt: skip


def _reasons(home: Path) -> tuple[np.ndarray, np.ndarray, list[object]]:
    facts = FactTable()
    direct = build._direct(home, facts, _indicators(home))
    build._chain_reasons(ChainStore("BTC", home), home, facts, direct["BTC"], 3, True)
    keys, recs = facts.arrays()
    return keys, recs, facts.sources


def test_screening_reasons_are_the_same_from_work_arrays_in_files(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The screening index build's arrays by address id (keys, clusters) as mapped files:
    the same reasons (entity, cluster and indirect), record for record."""
    keys, recs, sources = _reasons(home)
    kinds = {KINDS[int(k)] for k in np.unique(recs["kind"])}
    assert {"tag", "indicator", "cluster", "indirect"} <= kinds, kinds
    monkeypatch.setattr(workarray, "ram_bytes", lambda: 0)
    monkeypatch.setattr(workarray, "window_bytes", lambda: 512 * 8)
    f_keys, f_recs, f_sources = _reasons(home)
    np.testing.assert_array_equal(f_keys, keys)
    assert f_recs.tobytes() == recs.tobytes()
    assert f_sources == sources
