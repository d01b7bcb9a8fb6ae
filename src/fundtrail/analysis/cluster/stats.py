"""Per-cluster statistics: size, balance, first/last activity, in/out degree.

Computed by DuckDB over the ledger tables joined with the fresh cluster assignment, so a
supercluster of millions of addresses costs a group-by, not a Python loop; or, for the
Spark engine, by the same SQL on Spark over the same Parquet parts. Balances are
exact integers in base units (DECIMAL(38,0)); degrees count distinct *other* clusters.
"""

from __future__ import annotations

import duckdb
import numpy as np
import pyarrow as pa

from fundtrail.chains.ledger import ledger_for
from fundtrail.chainstore.budget import chunk_rows
from fundtrail.chainstore.schema import DERIVED_SCHEMAS
from fundtrail.chainstore.store import ChainStore, ScratchPart

_UTXO = """
WITH recv AS (
    SELECT address_id, sum(value) AS v, min(height) AS h0, max(height) AS h1
    FROM outputs WHERE address_id >= 0 GROUP BY address_id
), sent AS (
    SELECT address_id, sum(value) AS v, max(height) AS h1
    FROM inputs WHERE address_id >= 0 GROUP BY address_id
), per_addr AS (
    SELECT c.cluster_id, coalesce(r.v, 0) - coalesce(s.v, 0) AS bal, r.h0,
           greatest(r.h1, s.h1) AS h1
    FROM cl c LEFT JOIN recv r USING (address_id) LEFT JOIN sent s USING (address_id)
), agg AS (
    SELECT cluster_id, count(*) AS size, CAST(sum(bal) AS DECIMAL(38,0)) AS balance,
           min(h0) AS h0, max(h1) AS h1
    FROM per_addr GROUP BY cluster_id
), tx_in AS (
    SELECT DISTINCT i.tx_id, c.cluster_id FROM inputs i JOIN cl c USING (address_id)
), tx_out AS (
    SELECT DISTINCT o.tx_id, c.cluster_id FROM outputs o JOIN cl c USING (address_id)
), pairs AS (
    SELECT DISTINCT a.cluster_id AS src, b.cluster_id AS dst
    FROM tx_in a JOIN tx_out b USING (tx_id) WHERE a.cluster_id <> b.cluster_id
), deg_in AS (SELECT dst AS cluster_id, count(*) AS d FROM pairs GROUP BY dst),
deg_out AS (SELECT src AS cluster_id, count(*) AS d FROM pairs GROUP BY src)
SELECT a.cluster_id, a.size, a.balance, b0.time AS first_seen, b1.time AS last_seen,
       coalesce(di.d, 0) AS in_degree, coalesce(dout.d, 0) AS out_degree
FROM agg a
LEFT JOIN blocks b0 ON b0.height = a.h0
LEFT JOIN blocks b1 ON b1.height = a.h1
LEFT JOIN deg_in di USING (cluster_id)
LEFT JOIN deg_out dout USING (cluster_id)
ORDER BY a.cluster_id
"""

_ACCOUNT = """
WITH t AS (
    SELECT from_id, to_id, asset_id, value, kind, time FROM transfers
), recv AS (
    SELECT to_id AS address_id, sum(value) AS v FROM t
    WHERE asset_id = 0 AND to_id >= 0 AND kind IN ('native', 'internal', 'reward', 'genesis')
    GROUP BY to_id
), sent AS (
    SELECT from_id AS address_id, sum(value) AS v FROM t
    WHERE asset_id = 0 AND from_id >= 0 AND kind IN ('native', 'internal', 'fee', 'burn')
    GROUP BY from_id
), seen AS (
    SELECT address_id, min(time) AS t0, max(time) AS t1 FROM (
        SELECT from_id AS address_id, time FROM t UNION ALL SELECT to_id, time FROM t
    ) GROUP BY address_id
), agg AS (
    SELECT c.cluster_id, count(*) AS size,
           CAST(sum(coalesce(r.v, 0) - coalesce(s.v, 0)) AS DECIMAL(38,0)) AS balance,
           min(x.t0) AS first_seen, max(x.t1) AS last_seen
    FROM cl c LEFT JOIN recv r USING (address_id) LEFT JOIN sent s USING (address_id)
    LEFT JOIN seen x USING (address_id)
    GROUP BY c.cluster_id
), pairs AS (
    SELECT DISTINCT a.cluster_id AS src, b.cluster_id AS dst
    FROM t JOIN cl a ON a.address_id = t.from_id JOIN cl b ON b.address_id = t.to_id
    WHERE t.kind IN ('native', 'internal', 'token') AND a.cluster_id <> b.cluster_id
), deg_in AS (SELECT dst AS cluster_id, count(*) AS d FROM pairs GROUP BY dst),
deg_out AS (SELECT src AS cluster_id, count(*) AS d FROM pairs GROUP BY src)
SELECT a.cluster_id, a.size, a.balance, a.first_seen, a.last_seen,
       coalesce(di.d, 0) AS in_degree, coalesce(dout.d, 0) AS out_degree
FROM agg a LEFT JOIN deg_in di USING (cluster_id) LEFT JOIN deg_out dout USING (cluster_id)
ORDER BY a.cluster_id
"""


def _assignment(parent: np.ndarray) -> pa.Table:
    return pa.table(
        {
            "address_id": pa.array(np.arange(parent.shape[0], dtype=np.int64)),
            "cluster_id": pa.array(parent, pa.int64()),
        }
    )


def cluster_stats(
    store: ChainStore,
    con: duckdb.DuckDBPyConnection,
    parent: np.ndarray,
    *,
    engine: str = "embedded",
    master: str | None = None,
) -> pa.Table:
    """The ``cluster_stats`` table for the assignment ``parent`` (cluster id per address id).

    ``engine="spark"`` runs the same SQL on Spark over the same Parquet parts (UTXO
    chains; account chains' transfers view is built in DuckDB, so they stay here)."""
    cl = _assignment(parent)
    if engine == "spark" and ledger_for(store).shape == "utxo":
        from fundtrail.chainstore import spark

        out = spark.run_sql(
            store, _UTXO, ("outputs", "inputs", "blocks"), {"cl": cl}, master=master
        )
        out = out.sort_by([("cluster_id", "ascending")])
        return out.cast(DERIVED_SCHEMAS["cluster_stats"])
    con.register("cl", cl)
    try:
        sql = _UTXO if ledger_for(store).shape == "utxo" else _ACCOUNT
        out = con.sql(sql).to_arrow_table()
    finally:
        con.unregister("cl")
    return out.cast(DERIVED_SCHEMAS["cluster_stats"])


def cluster_stats_part(
    store: ChainStore,
    con: duckdb.DuckDBPyConnection,
    clusters: ScratchPart,
    *,
    parent: np.ndarray,
    engine: str = "embedded",
    master: str | None = None,
) -> pa.Table | ScratchPart:
    """``cluster_stats`` of a UTXO chain from the ``clusters`` part just written, streamed
    from DuckDB (under its memory limit, spilling) into a part file: neither the
    assignment nor the result (a row per cluster) is held whole in Python."""
    if engine == "spark":
        return cluster_stats(store, con, parent, engine=engine, master=master)
    part = ScratchPart(store, "cluster_stats")
    if clusters.rows:
        con.execute(
            "CREATE OR REPLACE TEMP VIEW cl AS SELECT address_id, cluster_id "
            f"FROM read_parquet('{clusters.path.as_posix()}')"
        )
        try:
            reader = con.sql(_UTXO).fetch_arrow_reader(chunk_rows(96, 0.05))
            for batch in reader:
                part.write(pa.Table.from_batches([batch]))
        finally:
            con.execute("DROP VIEW IF EXISTS cl")
    part.close()
    return part
