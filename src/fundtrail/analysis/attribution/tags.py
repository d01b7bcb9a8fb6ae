"""Attribution from the tag store: each distinct label of a cluster's tagged addresses.

A cluster-defining tag (``is_cluster_definer``) names its cluster before others; then
the highest confidence, then the most tagged addresses. Tags are workspace-level
knowledge (TagPacks, OFAC lists, exchanges' own hot wallets): every viewer reads them.
"""

from __future__ import annotations

import duckdb
import numpy as np
import pyarrow as pa

from fundtrail.analysis.attribution.entity import ROWS
from fundtrail.chainstore.store import ChainStore
from fundtrail.chainstore.tags import TagStore
from fundtrail.chainstore.workarray import WorkArray

_PER_LABEL = """
WITH tagged AS (
    SELECT a.address_id, t.* EXCLUDE (address, chain)
    FROM tags_now t JOIN addresses a ON a.address = t.address
)
SELECT c.cluster_id, g.label,
       lower(arg_max(g.category, g.confidence)) AS category,
       arg_max(g.source, g.confidence) AS source,
       max(g.confidence) AS confidence,
       'tag' AS heuristic,
       arg_max(g.abuse, g.confidence) AS abuse,
       arg_max(g.actor, g.confidence) AS actor,
       count(DISTINCT g.address_id) AS n_tags,
       bool_or(coalesce(g.is_cluster_definer, false)) AS definer,
       NULL AS evidence_tx, NULL AS evidence_address, NULL AS service_cluster
FROM tagged g JOIN cl c USING (address_id)
GROUP BY c.cluster_id, g.label
ORDER BY c.cluster_id, g.label
"""


def tag_rows(store: ChainStore, cluster: WorkArray, tags: TagStore) -> pa.Table:
    """One row per (cluster, label) of the chain's tags."""
    table = tags.table(store.chain.code)
    if not table.num_rows:
        return pa.Table.from_batches([], schema=ROWS)
    con = store.connect()
    try:
        con.register("tags_now", table)
        register_clusters(con, cluster, "SELECT address FROM tags_now")
        return con.sql(_PER_LABEL).to_arrow_table().cast(ROWS)
    finally:
        con.close()


def register_clusters(con: duckdb.DuckDBPyConnection, cluster: WorkArray, addresses: str) -> None:
    """Register ``cl`` (address_id, cluster_id) for the stored addresses among those the
    query ``addresses`` names: a table of the tagged ones, not of the chain's every address
    (16 bytes each, 1.6 GB at 100M addresses)."""
    ids = con.sql(
        f"SELECT DISTINCT a.address_id FROM addresses a SEMI JOIN ({addresses}) q "
        "ON a.address = q.address ORDER BY 1"
    ).fetchnumpy()["address_id"]
    ids = np.asarray(ids, dtype=np.int64)
    ids = ids[ids < len(cluster)]
    con.register("cl", pa.table({"address_id": ids, "cluster_id": cluster.take(ids)}))
