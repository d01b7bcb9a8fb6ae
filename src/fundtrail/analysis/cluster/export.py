"""Clusters out as CSV: ``address,cluster_id`` for every address of a chain."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from fundtrail.analysis.cluster.service import cluster_of
from fundtrail.chainstore.store import ChainStore
from fundtrail.errors import NotFoundError, StorageError


def export_clusters_csv(chain: str, output: Path, *, home: Path | None = None) -> int:
    """Write the CSV (streamed by Arrow, sorted by address id); returns the row count."""
    store = ChainStore(chain, home)
    store.require_data()
    if not store.parts("clusters"):
        raise NotFoundError(
            f"no clusters for {store.chain.code} yet; run `fundtrail cluster` first"
        )
    parent = cluster_of(store)
    addresses = store.read_table("addresses", ["address_id", "address"])
    ids = addresses.column("address_id").to_numpy()
    order = np.argsort(ids, kind="stable")
    table = pa.table(
        {
            "address": addresses.column("address").take(pa.array(order)),
            "cluster_id": pa.array(parent[ids[order]], pa.int64()),
        }
    )
    try:
        # validated addresses never hold a comma or a quote: no quoting needed
        with open(output, "wb") as fh:
            fh.write(b"address,cluster_id\n")
            opts = pacsv.WriteOptions(quoting_style="none", include_header=False)
            pacsv.write_csv(table, fh, opts)
    except (OSError, pa.ArrowInvalid) as exc:
        raise StorageError(f"cannot write {output}: {exc}") from exc
    return int(table.num_rows)
