"""The Spark engine: the same clusters from the same Parquet files, for data beyond one machine.

Connected components are written in the DataFrame API with the large-star / small-star
algorithm (Kiveris et al., "Connected Components in MapReduce and Beyond", SoCC 2014):
GraphFrames cannot be had here, and a naive label-propagation join needs as many rounds
as the longest path. Large-star/small-star converges in O(log n) rounds and ends with
every component as a star around its smallest id, which is exactly fundtrail's
``cluster_id`` rule, so the embedded and Spark engines agree number for number.

``multi_input`` edges are derived inside Spark from the ``inputs`` Parquet parts (CoinJoin
transactions excluded by the detector's decision); edges of other heuristics are handed
over as a Parquet file.

Local mode needs ``SPARK_LOCAL_IP=127.0.0.1`` on machines without a resolvable hostname;
it is set here unless the caller set it.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from fundtrail.chainstore.budget import MIB, budget_bytes
from fundtrail.chainstore.store import ChainStore
from fundtrail.errors import SourceError
from fundtrail.settings import get_settings

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

MAX_ROUNDS = 64


def driver_memory() -> str:
    """The Spark driver's heap: three quarters of ``FUNDTRAIL_MEMORY_MB`` (the JVM's own
    overhead takes the rest), at least 1 GiB, Spark's default. In local mode the driver
    runs every task, so this is what a clustering on Spark may hold before it spills; it
    only takes effect when this process starts the JVM."""
    return f"{max(1024, budget_bytes(0.75) // MIB)}m"


def session(master: str | None = None) -> SparkSession:
    """A Spark session for ``master`` (default: the ``spark_master`` setting, local[2])."""
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:  # pragma: no cover - pyspark is an optional extra
        raise SourceError("the Spark engine needs pyspark: pip install 'fundtrail[spark]'") from exc
    url = master or get_settings().spark_master
    builder: Any = SparkSession.builder
    try:
        spark: SparkSession = (
            builder.master(url)
            .appName("fundtrail-cluster")
            .config("spark.ui.enabled", "false")
            .config("spark.driver.memory", driver_memory())
            .config("spark.sql.shuffle.partitions", "2" if url.startswith("local") else "200")
            .config("spark.driver.host", os.environ["SPARK_LOCAL_IP"])
            .config("spark.driver.bindAddress", os.environ["SPARK_LOCAL_IP"])
            .config("spark.sql.adaptive.enabled", "true")
            .config("spark.ui.showConsoleProgress", "false")
            .getOrCreate()
        )
    except Exception as exc:
        raise SourceError(f"cannot start Spark with master {url!r}: {exc}") from exc
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def _active_session() -> SparkSession | None:
    try:
        from pyspark.sql import SparkSession
    except ImportError:  # pragma: no cover - pyspark is an optional extra
        return None
    active: SparkSession | None = SparkSession.getActiveSession()
    return active


def connected_components(edges: DataFrame) -> DataFrame:
    """(node, label) for every node of ``edges`` (columns src, dst; undirected);
    label = the smallest node id of its component."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    e = (
        edges.where(F.col("src") != F.col("dst"))
        .select(F.least("src", "dst").alias("lo"), F.greatest("src", "dst").alias("hi"))
        .distinct()
        .localCheckpoint(eager=False)
    )
    last = _fingerprint(e)
    for _ in range(MAX_ROUNDS):
        # large-star: every node links its larger neighbours to its smallest neighbour-or-self
        both = e.select(F.col("lo").alias("u"), F.col("hi").alias("v")).unionByName(
            e.select(F.col("hi").alias("u"), F.col("lo").alias("v"))
        )
        large = (
            both.withColumn("m", F.least(F.min("v").over(Window.partitionBy("u")), F.col("u")))
            .where(F.col("v") > F.col("u"))
            .select(F.col("m").alias("lo"), F.col("v").alias("hi"))
        )
        # small-star: every node links itself and its smaller neighbours to the smallest of them
        with_m = large.withColumn("m", F.min("lo").over(Window.partitionBy("hi")))
        small = (
            with_m.select(F.col("m").alias("lo"), F.col("lo").alias("hi"))
            .unionByName(with_m.select(F.col("m").alias("lo"), F.col("hi")))
            .where(F.col("lo") != F.col("hi"))
            .distinct()
            .localCheckpoint(eager=False)  # materialised by the fingerprint's job
        )
        # converged when the edge set stops changing: a cheap fingerprint every round,
        # confirmed exactly (one anti-join each way) before stopping
        now = _fingerprint(small)
        done = now == last and _same(small, e)
        e, last = small, now
        if done:
            break
    else:  # pragma: no cover - O(log n) rounds in theory; this guards a bug, not data
        raise SourceError(f"Spark connected components did not converge in {MAX_ROUNDS} rounds")
    # e is now a set of stars (root, leaf) with root = smallest id of the component
    roots = e.select(F.col("lo").alias("node"), F.col("lo").alias("label")).distinct()
    return e.select(F.col("hi").alias("node"), F.col("lo").alias("label")).unionByName(roots)


def _fingerprint(e: DataFrame) -> tuple[int, int]:
    """(row count, sum of row hashes mod 2**64) of a distinct edge set, in one small job."""
    from pyspark.sql import functions as F

    row = e.agg(
        F.count(F.lit(1)).alias("n"),
        F.sum(F.xxhash64("lo", "hi").cast("decimal(38,0)")).alias("h"),
    ).collect()[0]
    return int(row["n"]), int(row["h"] or 0) % (1 << 64)


def _same(a: DataFrame, b: DataFrame) -> bool:
    return a.join(b, ["lo", "hi"], "left_anti").limit(1).count() == 0 and (
        b.join(a, ["lo", "hi"], "left_anti").limit(1).count() == 0
    )


def multi_input_edges(spark: SparkSession, store: ChainStore, coinjoin_path: str) -> DataFrame:
    """Star edges from each tx's largest input address to its other input addresses."""
    from pyspark.sql import functions as F

    parts = [p.as_posix() for p in store.parts("inputs")]
    inputs = spark.read.parquet(*parts).select("tx_id", "address_id").where("address_id >= 0")
    skip = spark.read.parquet(coinjoin_path).where("is_coinjoin").select("tx_id")
    inputs = inputs.join(skip, "tx_id", "left_anti")
    rep = inputs.groupBy("tx_id").agg(F.max("address_id").alias("rep"))
    return (
        inputs.join(rep, "tx_id")
        .where(F.col("address_id") != F.col("rep"))
        .select(F.col("rep").alias("src"), F.col("address_id").alias("dst"))
    )


@contextmanager
def _spark_job(store: ChainStore, master: str | None) -> Iterator[tuple[SparkSession, Path]]:
    """A Spark session and a scratch folder under the store's cache for one job: a failure
    inside is a SourceError naming Spark, the folder is removed, and the session is stopped
    only if this job started it (a caller's session is left running)."""
    work = store.root / "cache" / "spark" / uuid.uuid4().hex
    work.mkdir(parents=True, exist_ok=True)
    owned = _active_session() is None
    spark = session(master)
    try:
        yield spark, work
    except SourceError:
        raise
    except Exception as exc:
        raise SourceError(f"the Spark engine failed: {exc}") from exc
    finally:
        if owned:
            spark.stop()
        shutil.rmtree(work, ignore_errors=True)


def components_for_store(
    store: ChainStore,
    coinjoin: pa.Table | None,
    edge_sets: Sequence[Any],
    n: int,
    *,
    master: str | None = None,
) -> np.ndarray:
    """Cluster id per address id (0..n-1) computed by Spark; addresses without edges are
    their own cluster."""
    with _spark_job(store, master) as (spark, work):
        frames: list[DataFrame] = []
        for e in edge_sets:
            if e.heuristic == "multi_input" and coinjoin is not None:
                cj_path = work / "coinjoin.parquet"
                pq.write_table(coinjoin, cj_path)
                frames.append(multi_input_edges(spark, store, cj_path.as_posix()))
            elif len(e):
                path = work / f"{e.heuristic}.parquet"
                pq.write_table(
                    pa.table({"src": pa.array(e.a, pa.int64()), "dst": pa.array(e.b, pa.int64())}),
                    path,
                )
                frames.append(spark.read.parquet(path.as_posix()))
        parent = np.arange(n, dtype=np.int64)
        if not frames:
            return parent
        edges = frames[0]
        for f in frames[1:]:
            edges = edges.unionByName(f)
        out = (work / "labels").as_posix()
        connected_components(edges).write.mode("overwrite").parquet(out)
        labels = pq.read_table(out)
        parent[labels.column("node").to_numpy()] = labels.column("label").to_numpy()
        return parent


def run_sql(
    store: ChainStore,
    sql: str,
    tables: Sequence[str],
    extra: dict[str, pa.Table],
    *,
    master: str | None = None,
) -> pa.Table:
    """``sql`` run by Spark over the store's ``tables`` (their Parquet parts) and ``extra``
    Arrow tables (handed over as Parquet files), each a view of its name; the result as
    Arrow. The SQL the embedded engine runs in DuckDB, where the two dialects agree."""
    with _spark_job(store, master) as (spark, work):
        for name in tables:
            parts = [p.as_posix() for p in store.parts(name)]
            if not parts:  # Spark reads no zero-file tables: an empty file of the schema
                empty = work / f"empty-{name}.parquet"
                pq.write_table(pa.Table.from_batches([], schema=store.schemas[name]), empty)
                parts = [empty.as_posix()]
            spark.read.parquet(*parts).createOrReplaceTempView(name)
        for name, data in extra.items():
            path = work / f"{name}.parquet"
            pq.write_table(data, path)
            spark.read.parquet(path.as_posix()).createOrReplaceTempView(name)
        out = (work / "result").as_posix()
        spark.sql(sql).write.mode("overwrite").parquet(out)
        return pq.read_table(out)
