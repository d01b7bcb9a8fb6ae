"""The Spark engine gives the same partition as the embedded one, on the same Parquet."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fundtrail.analysis.cluster.service import cluster_of, run_clustering
from fundtrail.chainstore.store import ChainStore
from fundtrail.model.encoding import b58check_encode

pytestmark = pytest.mark.spark

# Tiny chains: one JVM for the module, Spark's expression interpreter instead of compiling
# code for every stage, one shuffle partition, a JIT that starts fast. The engine's own
# plan (connected_components, multi_input_edges) runs unchanged on this session.
TINY_DATA = {
    "spark.sql.codegen.wholeStage": "false",
    "spark.sql.codegen.factoryMode": "NO_CODEGEN",
    "spark.sql.adaptive.enabled": "false",
    "spark.default.parallelism": "1",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.driver.extraJavaOptions": "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC",
}


@pytest.fixture(scope="module", autouse=True)
def one_session() -> Iterator[None]:
    """The engine reuses a running session and leaves it running; stopped once here."""
    import os

    from pyspark.sql import SparkSession

    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    builder = SparkSession.builder.master("local[2]").appName("fundtrail-spark-tests")
    for key, value in TINY_DATA.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    yield
    spark.stop()


def _addr(i: int) -> str:
    return b58check_encode(b"\x00" + i.to_bytes(20, "big"))


def _random_chain(home: Path, n_txs: int, seed: int) -> None:
    """Random multi-input spends over a pool of addresses (long chains of merges included)."""
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "unit"))
    from analysis.cluster.builder import Tx, write_chain

    rng = np.random.default_rng(seed)
    pool = [_addr(i) for i in range(3 * n_txs)]
    txs = [Tx([], [(pool[i], 1000)]) for i in range(len(pool))]
    for _ in range(n_txs):
        k = int(rng.integers(1, 4))
        ins = rng.choice(len(pool), size=k, replace=False)
        outs = rng.choice(len(pool), size=2, replace=False)
        values = rng.integers(100, 900, size=2)
        txs.append(
            Tx(
                [(pool[i], 1000) for i in ins],
                [(pool[o], int(v)) for o, v in zip(outs, values, strict=True)],
            )
        )
    write_chain(home, txs)


def test_spark_equals_embedded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    _random_chain(a, 30, seed=7)
    _random_chain(b, 30, seed=7)
    embedded = run_clustering("BTC", home=a)
    spark = run_clustering("BTC", home=b, engine="spark", master="local[2]")
    left, right = cluster_of(ChainStore("BTC", a)), cluster_of(ChainStore("BTC", b))
    assert embedded.clusters == spark.clusters
    assert 1 < embedded.largest < embedded.addresses  # a non-trivial partition
    assert np.array_equal(left, right)  # identical ids, not just the same grouping


def _drawn_chain(home: Path, spends: list[tuple[list[int], int, bool]], pool: int) -> None:
    """Spends drawn by hypothesis: (input indexes, outputs, coinjoin-shaped or not)."""
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "unit"))
    from analysis.cluster.builder import Tx, write_chain

    addrs = [_addr(i) for i in range(pool)]
    txs = [Tx([], [(addrs[i], 10_000)]) for i in range(pool)]
    for ins, n_out, coinjoin in spends:
        uniq = sorted(set(ins))
        if coinjoin:  # equal outputs, one per input, plus changes: what a detector looks for
            outs = [(addrs[(i * 7 + 3) % pool], 5_000) for i in uniq]
            outs += [(addrs[(i * 11 + 1) % pool], 1_000 + i) for i in uniq]
        else:
            outs = [(addrs[(uniq[0] + j * 13 + 5) % pool], 700 + j) for j in range(n_out)]
        txs.append(Tx([(addrs[i], 10_000) for i in uniq], outs))
    write_chain(home, txs)


@given(
    pool=st.integers(8, 40),
    spends=st.lists(
        st.tuples(
            st.lists(st.integers(0, 39), min_size=1, max_size=8), st.integers(1, 4), st.booleans()
        ),
        min_size=1,
        max_size=40,
    ),
)
@settings(
    max_examples=4, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_spark_equals_embedded_on_drawn_chains(
    tmp_path: Path, pool: int, spends: list[tuple[list[int], int, bool]]
) -> None:
    """Hypothesis draws the spends (merges, long chains of them, CoinJoin-shaped txs that
    join everything when not detected): both engines give the same ids and CoinJoins."""
    spends = [([i % pool for i in ins], n, cj) for ins, n, cj in spends]
    root = Path(tempfile.mkdtemp(dir=tmp_path))
    a, b = root / "a", root / "b"
    _drawn_chain(a, spends, pool)
    _drawn_chain(b, spends, pool)
    embedded = run_clustering("BTC", home=a)
    spark = run_clustering("BTC", home=b, engine="spark", master="local[2]")
    assert embedded.coinjoins == spark.coinjoins
    assert (embedded.clusters, embedded.largest) == (spark.clusters, spark.largest)
    assert np.array_equal(cluster_of(ChainStore("BTC", a)), cluster_of(ChainStore("BTC", b)))


@pytest.mark.parametrize(
    ("scenario", "seed", "txs"),
    [
        ("mixed", 11, 900),
        ("ransomware", 12, 600),
        ("investment-scam", 13, 700),
        ("background", 14, 1000),
    ],
)
def test_spark_equals_embedded_on_simulated_chains(
    tmp_path_factory: pytest.TempPathFactory, scenario: str, seed: int, txs: int
) -> None:
    """Chains with CoinJoins (detected and excluded alike), exchanges' superclusters and
    wallets' consolidations: the same partition, ids and stats from both engines. Every
    scenario every run (four random draws used to miss some, and shrinking a failure
    restarted Spark for minutes)."""
    from fundtrail.chains.bitcoin.ingest import ingest_paths
    from fundtrail.chains.simulate import run

    root = tmp_path_factory.mktemp("chain")
    sim = run(scenario, root / "sim", seed=seed, txs=txs)
    ingest_paths([root / "sim" / "blocks"], home=root / "a")
    shutil.copytree(root / "a", root / "b")
    embedded = run_clustering("BTC", home=root / "a")
    spark = run_clustering("BTC", home=root / "b", engine="spark", master="local[2]")
    assert embedded.coinjoins == spark.coinjoins
    if scenario != "background":
        assert sim.coinjoins == 0 or sum(embedded.coinjoins.values()) > 0
    assert (embedded.clusters, embedded.largest) == (spark.clusters, spark.largest)
    if scenario != "background":
        # crime scenarios consolidate wallets; a few hundred background payments may join nothing
        assert embedded.largest > 2
    a, b = ChainStore("BTC", root / "a"), ChainStore("BTC", root / "b")
    assert np.array_equal(cluster_of(a), cluster_of(b))
    for table in ("clusters", "cluster_stats"):
        left, right = a.read_table(table), b.read_table(table)
        key = [(left.column_names[0], "ascending")]
        assert left.sort_by(key).equals(right.sort_by(key)), table
