"""``fundtrail entity NAME``: attributed clusters named NAME, on every chain of the workspace."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa

from fundtrail.analysis.attribution.lookup import attribution
from fundtrail.chains.reads import chain_stores
from fundtrail.chainstore.store import ChainStore
from fundtrail.model.identity import Identity


def find_all_entities(
    name: str, *, chain: str | None = None, home: Path | None = None, viewer: Identity | None = None
) -> list[dict[str, Any]]:
    """Entities whose label, competing label or actor contains ``name``, with cluster stats."""
    stores = [ChainStore(chain, home)] if chain is not None else chain_stores(home)
    out: list[dict[str, Any]] = []
    for store in stores:
        if not store.parts("clusters"):
            continue
        found = attribution(store, home=home, viewer=viewer).find(name)
        stats = _stats(store, [int(r["cluster_id"]) for r in found])  # type: ignore[call-overload]
        for r in found:
            s = stats.get(int(r["cluster_id"]), {})  # type: ignore[call-overload]
            bal = s.get("balance")
            row = {"chain": store.chain.code, **r}
            row["balance"] = int(str(bal)) if bal is not None else None
            row.update({k: s.get(k) for k in ("size", "first_seen", "last_seen")})
            out.append(row)
    out.sort(key=lambda r: (not r["is_primary"], -int(r["confidence"] or 0),
                            -(r["size"] or 0), r["chain"], r["cluster_id"]))  # fmt: skip
    return out


def _stats(store: ChainStore, clusters: list[int]) -> dict[int, dict[str, Any]]:
    if not clusters or not store.parts("cluster_stats"):
        return {}
    con = store.connect()
    try:
        con.register("want", pa.table({"cluster_id": pa.array(clusters, pa.int64())}))
        rows = con.sql(
            "SELECT cluster_id, size, balance, first_seen, last_seen FROM cluster_stats "
            "SEMI JOIN want USING (cluster_id)"
        ).to_arrow_table()
    finally:
        con.close()
    return {int(r["cluster_id"]): r for r in rows.to_pylist()}
