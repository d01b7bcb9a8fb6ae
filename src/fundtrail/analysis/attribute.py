"""Attribution: tags on addresses become names of clusters (entities).

Every tag of the chain is joined to its address id, then to the address's cluster. Each
distinct label of a cluster becomes one ``entities`` row; one of them is primary:

1. a cluster-defining tag (``is_cluster_definer``) names the entity, highest confidence
   first;
2. otherwise the label with the highest confidence, then the most tagged addresses.

Clusters carrying different labels keep all of them (``conflict`` = true on every row),
so an analyst sees "Exchange X" and "Ransomware Y" on one cluster instead of a silent
winner: that is either a wrong merge or a cash-out worth a look.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa

from fundtrail.analysis.cluster.service import cluster_of
from fundtrail.chainstore.schema import DERIVED_SCHEMAS
from fundtrail.chainstore.store import ChainStore
from fundtrail.chainstore.tags import TagStore


@dataclass(frozen=True)
class Entity:
    cluster_id: int
    label: str
    category: str
    source: str
    confidence: int
    abuse: str | None = None
    actor: str | None = None
    n_tags: int = 0
    conflict: bool = False
    other_labels: tuple[str, ...] = field(default_factory=tuple)


@dataclass
class AttributionReport:
    chain: str
    tags: int = 0
    tagged_addresses: int = 0
    entities: int = 0
    conflicts: list[dict[str, object]] = field(default_factory=list)


_ENTITIES = """
WITH tagged AS (
    SELECT a.address_id, t.* EXCLUDE (address, chain)
    FROM tags_now t JOIN addresses a ON a.address = t.address
), per_label AS (
    SELECT c.cluster_id, g.label,
           arg_max(g.category, g.confidence) AS category,
           arg_max(g.source, g.confidence) AS source,
           max(g.confidence) AS confidence,
           arg_max(g.abuse, g.confidence) AS abuse,
           arg_max(g.actor, g.confidence) AS actor,
           count(DISTINCT g.address_id) AS n_tags,
           bool_or(g.is_cluster_definer) AS definer
    FROM tagged g JOIN cl c USING (address_id)
    GROUP BY c.cluster_id, g.label
), ranked AS (
    SELECT *, row_number() OVER (
               PARTITION BY cluster_id
               ORDER BY definer DESC, confidence DESC, n_tags DESC, label) AS rnk,
           count(*) OVER (PARTITION BY cluster_id) AS n_labels
    FROM per_label
)
SELECT cluster_id, label, category, source, confidence, abuse, actor, n_tags,
       rnk = 1 AS is_primary, n_labels > 1 AS conflict
FROM ranked ORDER BY cluster_id, rnk
"""


def attribute_report(chain: str, *, home: Path | None = None) -> AttributionReport:
    """Write ``entities`` for ``chain`` from the tag store; return what was found."""
    store = ChainStore(chain, home)
    store.require_data()
    tags = TagStore(home).table(store.chain.code)
    report = AttributionReport(store.chain.code, tags=tags.num_rows)
    parent = cluster_of(store)
    con = store.connect()
    try:
        con.register("tags_now", tags)
        con.register(
            "cl",
            pa.table(
                {"address_id": np.arange(parent.shape[0], dtype=np.int64), "cluster_id": parent}
            ),
        )
        table = con.sql(_ENTITIES).to_arrow_table()
        report.tagged_addresses = int(
            con.sql(
                "SELECT count(DISTINCT a.address_id) FROM tags_now t "
                "JOIN addresses a ON a.address = t.address"
            ).fetchall()[0][0]
        )
    finally:
        con.close()
    entities = table.cast(DERIVED_SCHEMAS["entities"])
    report.entities = int(
        np.count_nonzero(entities.column("is_primary").to_numpy(zero_copy_only=False))
    )
    by_cluster: dict[int, list[str]] = {}
    for row in entities.select(["cluster_id", "label", "conflict"]).to_pylist():
        if row["conflict"]:
            by_cluster.setdefault(row["cluster_id"], []).append(row["label"])
    report.conflicts = [{"cluster_id": c, "labels": labels} for c, labels in by_cluster.items()]
    with store.writer() as w:
        w.commit(replace={"entities": entities})
    return report


def attribute(chain: str, *, home: Path | None = None) -> None:
    """Propagate tags to clusters and write ``entities`` (see ``attribute_report``)."""
    attribute_report(chain, home=home)


def entity_of_cluster(store: ChainStore) -> dict[int, Entity]:
    """The primary entity of every attributed cluster, with its competing labels."""
    rows = store.read_table("entities").to_pylist()
    others: dict[int, list[str]] = {}
    for r in rows:
        if not r["is_primary"]:
            others.setdefault(r["cluster_id"], []).append(r["label"])
    return {
        r["cluster_id"]: Entity(
            cluster_id=r["cluster_id"],
            label=r["label"],
            category=r["category"],
            source=r["source"],
            confidence=r["confidence"],
            abuse=r["abuse"],
            actor=r["actor"],
            n_tags=r["n_tags"],
            conflict=bool(r["conflict"]),
            other_labels=tuple(others.get(r["cluster_id"], ())),
        )
        for r in rows
        if r["is_primary"]
    }


def find_entities(store: ChainStore, name: str) -> list[dict[str, object]]:
    """Entities (primary or competing labels) whose label or actor contains ``name``."""
    con = store.connect()
    try:
        return (
            con.sql(
                "SELECT e.*, s.size, s.balance, s.first_seen, s.last_seen, s.in_degree, "
                "s.out_degree "
                "FROM entities e LEFT JOIN cluster_stats s USING (cluster_id) "
                "WHERE e.label ILIKE $q OR e.actor ILIKE $q "
                "ORDER BY e.is_primary DESC, e.confidence DESC, s.size DESC NULLS LAST",
                params={"q": f"%{name}%"},
            )
            .to_arrow_table()
            .to_pylist()
        )
    finally:
        con.close()


def find_all_entities(
    name: str, *, chain: str | None = None, home: Path | None = None
) -> list[dict[str, object]]:
    """``find_entities`` over every chain store of the workspace (or one chain)."""
    from fundtrail.workspace import workspace_home

    if chain is not None:
        codes = [ChainStore(chain, home).chain.code]
    else:
        folder = workspace_home(home) / "chains"
        codes = (
            sorted(p.name.upper() for p in folder.iterdir() if p.is_dir())
            if folder.exists()
            else []
        )
    out: list[dict[str, object]] = []
    for code in codes:
        store = ChainStore(code, home)
        if not store.parts("entities"):
            continue
        for row in find_entities(store, name):
            bal = row.get("balance")
            row["balance"] = int(str(bal)) if bal is not None else None
            out.append({"chain": store.chain.code, **row})
    return out
