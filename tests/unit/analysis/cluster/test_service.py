"""Clustering end to end on hand-written chains; expected clusters are in the comments."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from fundtrail.analysis.cluster.service import cluster_of, run_clustering
from fundtrail.chainstore.store import ChainStore

from .builder import Tx, addr, write_chain

A, B, C, D, E, F, G = (addr(x) for x in "ABCDEFG")
# Whirlpool participants
W = [addr(f"w{i}") for i in range(5)]
WO = [addr(f"wo{i}") for i in range(5)]

BASIC = [
    Tx([], [(A, 50_0000_0000)]),  # tx0 coinbase -> A
    Tx([], [(B, 50_0000_0000)]),  # tx1 coinbase -> B
    Tx([], [(C, 50_0000_0000)]),  # tx2 coinbase -> C
    Tx(
        [(A, 50_0000_0000), (B, 50_0000_0000)],  # tx3 A+B spend together: {A, B}
        [(D, 99_0000_0000)],
    ),
    Tx([(C, 50_0000_0000)], [(E, 1_2345_6789), (F, 48_0000_0000)]),  # tx4 one input: C alone
    Tx(
        [(D, 99_0000_0000), (E, 1_2345_6789)],  # tx5 D+E: {D, E} (D was only paid
        [(G, 100_2345_6789)],
    ),  # by {A, B}: paying is not owning)
    Tx([], [(B, 1_0000)]),  # tx6 coinbase reuses B
    Tx(
        [(B, 1_0000), (G, 100_2345_6789)],  # tx7 B+G: {A, B, G}
        [(F, 100_2346_6789)],
    ),
]
# expected partition: {A, B, G}, {D, E}, {C}, {F}


def _ids(store: ChainStore) -> dict[str, int]:
    t = store.read_table("addresses", ["address_id", "address"])
    return dict(
        zip(t.column("address").to_pylist(), t.column("address_id").to_pylist(), strict=True)
    )


def test_multi_input_partition(home: Path) -> None:
    store = write_chain(home, BASIC)
    report = run_clustering("BTC", home=home)
    ids = _ids(store)
    cl = cluster_of(ChainStore("BTC", home))
    assert {cl[ids[x]] for x in (A, B, G)} == {min(ids[x] for x in (A, B, G))}  # smallest id
    assert cl[ids[D]] == cl[ids[E]] == min(ids[D], ids[E])
    assert len({cl[ids[A]], cl[ids[D]], cl[ids[C]], cl[ids[F]]}) == 4
    assert report.clusters == 4 and report.largest == 3 and report.singletons == 2
    assert report.merges == {"multi_input": 3}


def test_every_address_has_a_row_and_stats(home: Path) -> None:
    write_chain(home, BASIC)
    run_clustering("BTC", home=home)
    store = ChainStore("BTC", home)
    clusters = store.read_table("clusters")
    assert clusters.num_rows == 7
    stats = store.read_table("cluster_stats").to_pylist()
    by_size = {r["size"]: r for r in stats}
    big = by_size[3]  # {A, B, G}: everything it received was spent into F
    assert int(big["balance"]) == 0
    minted, fees = 150_0001_0000, 1_0000_0000 + 7654_3211  # fees of tx3 and tx4
    assert sum(int(r["balance"]) for r in stats) == minted - fees
    assert big["out_degree"] == 2  # paid {D, E} (tx3) and {F} (tx7)
    assert big["in_degree"] == 1  # {D, E} paid G (tx5)
    assert big["first_seen"] == 1_600_000_000 and big["last_seen"] == 1_600_000_000 + 600 * 7


def test_whirlpool_inputs_not_merged(home: Path) -> None:
    pool = 1_000_000  # 0.01 BTC pool
    txs = [Tx([], [(w, pool + 5_000)]) for w in W]  # tx0..4 premix outputs
    txs.append(
        Tx(
            [(w, pool + 5_000) for w in W],  # tx5 Whirlpool 5x5: no merge at all
            [(o, pool) for o in WO],
        )
    )
    store = write_chain(home, txs)
    report = run_clustering("BTC", home=home)
    assert report.coinjoins == {"whirlpool": 1}
    assert report.clusters == 10  # all singletons
    store.refresh()
    decision = store.read_table("coinjoin").to_pylist()
    assert decision == [{"tx_id": 5, "is_coinjoin": True, "kind": "whirlpool"}]


def test_incremental_equals_full(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = write_chain(home, BASIC[:4])
    first = run_clustering("BTC", home=home)
    assert not first.incremental
    write_chain(home, BASIC[4:], start_tx=4, store=ChainStore("BTC", home))
    second = run_clustering("BTC", home=home)
    assert second.incremental and second.txs_processed == 4
    inc = cluster_of(ChainStore("BTC", home))
    other = tmp_path / "other"
    write_chain(other, BASIC)
    run_clustering("BTC", home=other)
    assert np.array_equal(inc, cluster_of(ChainStore("BTC", other)))
    edges = ChainStore("BTC", home).read_table("cluster_edges")
    assert edges.num_rows == 3  # spanning forest: one joining edge per merge
    del store


def test_change_heuristic_is_opt_in(home: Path) -> None:
    pay, change = addr("shop"), addr("change")
    txs = [
        Tx([], [(A, 1_0000_0000)]),
        Tx([(A, 1_0000_0000)], [(pay, 2000_0000), (change, 7_987_6543)]),  # 0.2 BTC round payment
    ]
    store = write_chain(home, txs)
    ids = _ids(store)
    off = run_clustering("BTC", home=home)
    assert off.clusters == 3
    on = run_clustering("BTC", home=home, heuristics="multi_input,change_address")
    assert not on.incremental  # heuristics changed: recomputed
    cl = cluster_of(ChainStore("BTC", home))
    assert cl[ids[change]] == cl[ids[A]] != cl[ids[pay]]
    assert off.merges == {"multi_input": 0}
    assert on.merges["change_address"] == 1


def test_show_pages_a_large_cluster_and_why_crosses_transactions(home: Path) -> None:
    from fundtrail.analysis.cluster.query import PAGE_SIZE, show, why

    many = [addr(f"m{i}") for i in range(150)]
    txs = [Tx([], [(m, 1000)]) for m in many]
    txs.append(Tx([(m, 1000) for m in many[:80]], [(A, 79_000)]))  # tx150: m0..m79
    txs.append(Tx([(m, 1000) for m in many[79:]], [(B, 70_000)]))  # tx151: m79..m149
    write_chain(home, txs)
    run_clustering("BTC", home=home)
    store = ChainStore("BTC", home)
    first = show(store, many[5])
    second = show(store, many[5], page=2)
    assert first["size"] == 150 and first["pages"] == 2
    assert len(first["addresses"]) == PAGE_SIZE and len(second["addresses"]) == 50
    assert set(first["addresses"]) | set(second["addresses"]) == set(many)
    path = why(store, many[0], many[149])["path"]
    assert {h["tx"] for h in path} == {
        t["txid"] for t in store.read_table("txs").to_pylist() if t["tx_id"] in (150, 151)
    }  # the evidence crosses both transactions, joined by the shared input m79


def test_reorg_below_the_watermark_recomputes(home: Path) -> None:
    write_chain(home, BASIC)
    run_clustering("BTC", home=home)
    store = ChainStore("BTC", home)
    txs = store.read_table("txs").to_pylist()
    txs[-1]["txid"] = "00" * 32  # the last clustered tx was replaced by a reorg
    with store.writer() as w:
        w.commit(replace={"txs": pa.Table.from_pylist(txs, schema=store.schemas["txs"])})
    again = run_clustering("BTC", home=home)
    assert not again.incremental and again.txs_processed == len(BASIC)


def _change_chain() -> list[Tx]:
    """Three wallets, each paying a round amount and keeping change, twice: change edges
    in several tx ranges (the shop addresses are paid once, the change spent on)."""
    txs: list[Tx] = []
    for w in range(3):
        a, c1, c2 = addr(f"w{w}"), addr(f"w{w}c1"), addr(f"w{w}c2")
        txs.append(Tx([], [(a, 1_0000_0000)]))
        txs.append(Tx([(a, 1_0000_0000)], [(addr(f"s{w}a"), 2000_0000), (c1, 7_987_6543)]))
        txs.append(Tx([(c1, 7_987_6543)], [(addr(f"s{w}b"), 3000_0000), (c2, 4_987_5543)]))
    return txs


def test_change_edges_joined_from_scratch_files_range_by_range(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The change edges of a whole chain wait on disk, not in RAM, until every multi-input
    edge is joined: read back in order, one tx range at a time, they give the clusters and
    the evidence of one range over the whole chain, and leave no scratch files behind,
    also when the run fails half-way (the store then keeps its last clustering)."""
    from fundtrail.analysis.cluster import heuristics as hz
    from fundtrail.analysis.cluster import service as svc

    both = "multi_input,change_address"
    whole = tmp_path / "whole"
    write_chain(whole, _change_chain())
    one = run_clustering("BTC", home=whole, heuristics=both)
    write_chain(home, _change_chain())
    monkeypatch.setattr(svc, "_tx_ranges", lambda lo, hi: [(t, t + 1) for t in range(lo, hi)])
    many = run_clustering("BTC", home=home, heuristics=both)
    assert many.merges == one.merges and many.merges["change_address"] == 6
    assert np.array_equal(cluster_of(ChainStore("BTC", home)), cluster_of(ChainStore("BTC", whole)))
    keys = [("tx_id", "ascending"), ("address_id_a", "ascending"), ("address_id_b", "ascending")]
    got = ChainStore("BTC", home).read_table("cluster_edges").sort_by(keys)
    want = ChainStore("BTC", whole).read_table("cluster_edges").sort_by(keys)
    assert got.equals(want)
    spill = ChainStore("BTC", home).root / "cache" / "spill"
    assert not list(spill.glob("edges-*"))

    calls = {"n": 0}
    real = hz.change_address

    def fails_late(*a: object, **k: object) -> hz.Edges:
        calls["n"] += 1
        if calls["n"] == 5:
            raise RuntimeError("disk full")
        return real(*a, **k)  # type: ignore[arg-type]

    monkeypatch.setattr(hz, "change_address", fails_late)
    before = cluster_of(ChainStore("BTC", home))
    with pytest.raises(RuntimeError, match="disk full"):
        run_clustering("BTC", home=home, heuristics=both, full=True)
    assert not list(spill.glob("edges-*"))
    assert np.array_equal(cluster_of(ChainStore("BTC", home)), before)
