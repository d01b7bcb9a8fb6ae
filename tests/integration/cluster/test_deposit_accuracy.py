"""deposit_address on a simulated EVM chain: every deposit address found is a true deposit
address of the exchange it was joined to, and no victim is merged into anything."""

from __future__ import annotations

from pathlib import Path

from fundtrail.analysis.cluster.accuracy import load_truth, score
from fundtrail.analysis.cluster.service import run_clustering
from fundtrail.chains.evm.ingest import ingest_files
from fundtrail.chains.simulate.service import run as simulate
from fundtrail.chainstore.store import ChainStore
from fundtrail.intel.tag_import import import_tags


def test_deposit_addresses_on_simulated_evm(tmp_path: Path) -> None:
    simulate("mixed", tmp_path / "sim", seed=5, txs=1500, chain="evm")
    home = tmp_path / "ws"
    ingest_files(tmp_path / "sim" / "evm", chain="ETH", home=home)
    assert import_tags(tmp_path / "sim" / "tags.yaml", home=home).imported > 0
    report = run_clustering("ETH", home=home)
    truth = load_truth(tmp_path / "sim" / "truth.json")
    store = ChainStore("ETH", home)
    con = store.connect()
    edges = con.sql(
        "SELECT a.address, b.address FROM cluster_edges e "
        "JOIN addresses a ON a.address_id = e.address_id_a "
        "JOIN addresses b ON b.address_id = e.address_id_b"
    ).fetchall()
    customers = [
        r[0]
        for r in con.sql(
            "SELECT a.address FROM counterparties c JOIN addresses a USING (address_id)"
        ).fetchall()
    ]
    con.close()
    roles = truth["addresses"]
    assert report.merges["deposit_address"] == len(edges) > 0
    for deposit, hot in edges:
        assert roles[deposit]["role"] == "deposit"
        assert roles[deposit]["entity"] == roles[hot]["entity"]
    # customers are linked, never merged: none of them is in a deposit edge
    assert customers and not set(customers) & {a for e in edges for a in e}
    s = score(store, truth, "deposit_address")
    assert s.precision == 1.0 and s.mixed_clusters == 0
