"""The behaviour rules (deposit sweeps, hot wallets) read the chain in tx ranges; a small
budget means many ranges, and the attribution must not notice.

The rows are compared between one range covering the whole chain and ranges of 1,024 txs
under a 64 MiB budget, on a simulated chain whose exchanges sweep their deposits."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from fundtrail.analysis import txchunks
from fundtrail.analysis.attribution import lookup
from fundtrail.analysis.cluster.service import run_clustering
from fundtrail.chains.bitcoin.ingest import ingest_paths
from fundtrail.chains.simulate.service import run as simulate
from fundtrail.chainstore.csr import n_txs
from fundtrail.chainstore.store import ChainStore
from fundtrail.chainstore.tags import TagStore
from fundtrail.intel.tag_import import import_tags
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
