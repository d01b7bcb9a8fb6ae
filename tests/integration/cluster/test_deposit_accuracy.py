"""deposit_address on a simulated EVM chain: every address attributed as a deposit address
is a true deposit address of the exchange it is attributed to, no victim or gang address
is anybody's, and nothing is merged (a victim never becomes the scammer)."""

from __future__ import annotations

from pathlib import Path

from fundtrail.analysis.attribution import attribution
from fundtrail.analysis.cluster.accuracy import load_truth, score
from fundtrail.analysis.cluster.service import cluster_of, run_clustering
from fundtrail.chains.evm.ingest import ingest_files
from fundtrail.chains.simulate.service import run as simulate
from fundtrail.chainstore.store import ChainStore
from fundtrail.intel.tag_import import import_tags


def test_deposit_addresses_on_simulated_evm(tmp_path: Path) -> None:
    simulate("mixed", tmp_path / "sim", seed=5, txs=1500, chain="evm")
    home = tmp_path / "ws"
    ingest_files(tmp_path / "sim" / "evm", chain="ETH", home=home)
    report = run_clustering("ETH", home=home)  # before the tags: they count when read
    assert import_tags(tmp_path / "sim" / "tags.yaml", home=home).imported > 0
    truth = load_truth(tmp_path / "sim" / "truth.json")
    store = ChainStore("ETH", home)
    att = attribution(store, home=home)
    cl = cluster_of(store)
    addresses = store.read_table("addresses", ["address_id", "address"]).to_pylist()
    text = {r["address_id"]: r["address"] for r in addresses}
    roles = truth["addresses"]
    names = {e["id"]: e["name"] for e in truth["entities"]}
    deposits = [(text[c], e) for c, e in att.entities.items() if e.heuristic == "deposit_address"]
    assert report.merges["deposit_address"] == 0 and report.counterparties > len(deposits) > 0
    for address, entity in deposits:
        assert roles[address]["role"] == "deposit"
        assert entity.evidence_tx and entity.evidence_address
        assert roles[entity.evidence_address]["entity"] == roles[address]["entity"]
        hot = att.entity(entity.service_cluster)
        assert hot is not None and hot.label == entity.label
        if hot.heuristic == "tag":
            assert entity.label == names[roles[address]["entity"]]
    # an untagged exchange is recognised by what its hot wallet does, and only an exchange
    recognised = [text[c] for c, e in att.entities.items() if e.heuristic == "hot_wallet"]
    assert recognised and all(roles[a]["role"] == "hot_wallet" for a in recognised)
    criminal = {e["id"] for e in truth["entities"] if e["kind"] in ("scam", "ransomware", "victim")}
    attributed = {text[int(a)] for a in range(len(cl)) if att.entity(int(cl[a])) is not None}
    assert not {a for a in attributed if roles.get(a, {}).get("entity") in criminal}
    s = score(store, truth, "deposit_address")
    assert s.precision == 1.0 and s.mixed_clusters == 0
