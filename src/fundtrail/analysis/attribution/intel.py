"""Attribution from shared intel: crypto-address indicators the viewer may see.

Which indicators a viewer may see is the intel store's one visibility query
(``intelstore.visibility.visible_to``); this module never filters by TLP itself. An
indicator names its address's cluster with its label (or description, or category),
its category and confidence; the source says who shared it.
"""

from __future__ import annotations

import pyarrow as pa
import sqlalchemy as sa

from fundtrail.analysis.attribution.entity import ROWS
from fundtrail.analysis.attribution.tags import register_clusters
from fundtrail.chainstore.store import ChainStore
from fundtrail.chainstore.tags import normalize_address
from fundtrail.chainstore.workarray import WorkArray
from fundtrail.errors import InvalidInputError
from fundtrail.intelstore.changes import latest_seq
from fundtrail.intelstore.db import IntelStore
from fundtrail.intelstore.models import Indicator, Org
from fundtrail.intelstore.visibility import visible_to
from fundtrail.model.identity import Identity
from fundtrail.model.indicators import Category

_PER_LABEL = """
SELECT c.cluster_id, i.label, arg_max(i.category, i.confidence) AS category,
       arg_max(i.source, i.confidence) AS source, max(i.confidence) AS confidence,
       'indicator' AS heuristic, arg_max(i.category, i.confidence) AS abuse,
       NULL AS actor, count(DISTINCT a.address_id) AS n_tags, false AS definer,
       NULL AS evidence_tx, NULL AS evidence_address, NULL AS service_cluster
FROM ind i JOIN addresses a ON a.address = i.address JOIN cl c USING (address_id)
GROUP BY c.cluster_id, i.label ORDER BY c.cluster_id, i.label
"""


def intel_version(intel: IntelStore) -> int:
    """Newest change of the intel store: a cheap key for cached attributions."""
    with intel.read_session() as s:
        return latest_seq(s)


def visible_indicators(intel: IntelStore, viewer: Identity, chain: str) -> pa.Table:
    """(address, label, category, source, confidence) of the viewer's visible indicators."""
    q = (
        sa.select(
            Indicator.value, Indicator.labels, Indicator.description, Indicator.category,
            Indicator.confidence, Indicator.id, Org.name,
        )
        .join(Org, Org.id == Indicator.org_id)
        .where(Indicator.type == "crypto-address", Indicator.chain == chain)
        .where(visible_to(viewer))
    )  # fmt: skip
    cols: dict[str, list[object]] = {k: [] for k in ("address", "label", "category", "source")}
    cols["confidence"] = []
    with intel.read_session() as s:
        for value, labels, description, category, confidence, ind_id, org in s.execute(q):
            try:
                address = normalize_address(chain, value)
                cat = Category.parse(category or "other").value
            except InvalidInputError:
                continue
            cols["address"].append(address)
            cols["label"].append((labels[0] if labels else "") or description[:80] or cat)
            cols["category"].append(cat)
            cols["source"].append(f"indicator {ind_id} shared by {org}")
            cols["confidence"].append(int(confidence))
    return pa.table(cols)


def intel_rows(
    store: ChainStore, cluster: WorkArray, intel: IntelStore, viewer: Identity
) -> pa.Table:
    """One row per (cluster, label) of the viewer's visible crypto-address indicators."""
    table = visible_indicators(intel, viewer, store.chain.code)
    if not table.num_rows:
        return pa.Table.from_batches([], schema=ROWS)
    con = store.connect()
    try:
        con.register("ind", table)
        register_clusters(con, cluster, "SELECT address FROM ind")
        return con.sql(_PER_LABEL).to_arrow_table().cast(ROWS)
    finally:
        con.close()
