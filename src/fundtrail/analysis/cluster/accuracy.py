"""Scoring clusters against simulator ground truth (``truth.json``).

Pairwise precision: of all address pairs we put in one cluster, the share that truly
share an owner. Pairwise recall: of all truly co-owned pairs, the share we found. Both
are computed from the (cluster, owner) contingency table, never by enumerating pairs.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from fundtrail.analysis.cluster.service import cluster_of
from fundtrail.chains.ledger import ledger_for
from fundtrail.chainstore.store import ChainStore

CRIMINAL_KINDS = ("scam", "ransomware")


@dataclass
class Score:
    heuristics: str
    addresses: int
    clusters: int
    precision: float
    recall: float
    mixed_clusters: int  # clusters (size >= 2) holding addresses of more than one owner
    coinjoin_merges: int  # multi_input merges made through a true CoinJoin
    coinjoin_detected: int
    coinjoin_true: int
    coinjoin_found: int  # true CoinJoins the detector caught
    criminal_wallets: dict[str, float] = field(default_factory=dict)  # share found in one cluster

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _pairs(counts: np.ndarray) -> int:
    c = counts.astype(np.int64)
    return int((c * (c - 1) // 2).sum())


def load_truth(path: Path) -> dict[str, Any]:
    with open(path, encoding="utf-8") as fh:
        return dict(json.load(fh))


def _coinjoin_sets(store: ChainStore) -> tuple[set[str], set[str]]:
    """txids the detector flagged, and txids multi_input merged through."""
    con = store.connect()
    try:
        detected = {
            r[0]
            for r in con.sql(
                "SELECT t.txid FROM coinjoin c JOIN txs t USING (tx_id) WHERE c.is_coinjoin"
            ).fetchall()
        }
        through = {
            r[0]
            for r in con.sql(
                "SELECT t.txid FROM cluster_edges e JOIN txs t USING (tx_id) "
                "WHERE e.heuristic = 'multi_input'"
            ).fetchall()
        }
    finally:
        con.close()
    return detected, through


def score(store: ChainStore, truth: dict[str, Any], heuristics: str = "") -> Score:
    """Score the store's current clusters against ``truth``."""
    owner_of = {a: info["entity"] for a, info in truth["addresses"].items()}
    kinds = {e["id"]: e["kind"] for e in truth["entities"]}
    t = store.read_table("addresses", ["address_id", "address"])
    ids = t.column("address_id").to_numpy()
    texts = t.column("address").to_pylist()
    entity_names = sorted(set(owner_of.values()))
    ent_index = {e: i for i, e in enumerate(entity_names)}
    owner = np.array([ent_index.get(owner_of.get(a, ""), -1) for a in texts], dtype=np.int64)
    keep = owner >= 0
    cl = cluster_of(store)[ids[keep]]
    own = owner[keep]
    pair_keys, cell = np.unique(np.stack([cl, own]), axis=1, return_counts=True)
    _, per_cluster = np.unique(cl, return_counts=True)
    _, per_owner = np.unique(own, return_counts=True)
    tp, pred, true = _pairs(cell), _pairs(per_cluster), _pairs(per_owner)
    owners_per_cluster = np.unique(pair_keys[0], return_counts=True)[1]
    # CoinJoins
    true_cj = set(truth.get("coinjoin_txids", []))
    detected, through = (
        _coinjoin_sets(store) if ledger_for(store).shape == "utxo" else (set(), set())
    )
    # criminal wallets: the share of each criminal's addresses in its largest cluster
    crim: dict[str, float] = {}
    for e in entity_names:
        if kinds.get(e) in CRIMINAL_KINDS:
            mine = cl[own == ent_index[e]]
            if mine.size:
                crim[e] = round(float(np.unique(mine, return_counts=True)[1].max() / mine.size), 4)
    return Score(
        heuristics=heuristics,
        addresses=int(keep.sum()),
        clusters=int(per_cluster.shape[0]),
        precision=round(tp / pred, 6) if pred else 1.0,
        recall=round(tp / true, 6) if true else 1.0,
        mixed_clusters=int((owners_per_cluster > 1).sum()),
        coinjoin_merges=len(through & true_cj),
        coinjoin_detected=len(detected),
        coinjoin_true=len(true_cj),
        coinjoin_found=len(detected & true_cj),
        criminal_wallets=crim,
    )
