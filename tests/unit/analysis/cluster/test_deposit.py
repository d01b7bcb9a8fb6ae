"""deposit_address on a hand-written account chain; expected clusters in the comments."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pyarrow as pa

from fundtrail.analysis.attribution import attribution
from fundtrail.analysis.cluster.query import show, why
from fundtrail.analysis.cluster.service import cluster_of, run_clustering
from fundtrail.chainstore.store import ChainStore
from fundtrail.chainstore.tags import Tag, TagStore, tags_table

ETH = 10**18
DAY = 86_400
NAMES = ["H", "D1", "V1", "V2", "D2", "V3", "U", "X", "Y", "S", "Z", "W1", "W2", "W3"]
ID = {n: i for i, n in enumerate(NAMES)}


def _hex(name: str) -> str:
    return "0x" + name.encode().hex().rjust(40, "0")


# (from, to, value, time)
TRANSFERS = [
    ("V1", "D1", 1 * ETH, 100),  # customer V1 pays deposit address D1
    ("V2", "D1", ETH // 2, 200),  # customer V2 pays D1 too
    ("D1", "H", 3 * ETH // 2 - 10**15, 300),  # D1 sweeps (almost) all to hot wallet H: {H, D1}
    ("V3", "D2", 2 * ETH, 100),
    ("D2", "H", 2 * ETH, 100 + 10 * DAY),  # swept ten days later: too slow, D2 stays alone
    ("X", "U", 1 * ETH, 100),
    ("U", "H", ETH * 3 // 10, 200),  # U splits its coins: not a deposit address
    ("U", "Y", ETH * 7 // 10, 200),
    ("W1", "S", 1 * ETH, 100),  # victims pay scammer S ...
    ("W2", "S", 1 * ETH, 110),
    ("W3", "S", 1 * ETH, 120),
    ("S", "Z", 3 * ETH, 130),  # ... who forwards all to Z (no exchange): nobody merged
]
# nothing is merged (every address alone); forwarders stored: D1 -> H and S -> Z. Read with
# H tagged an exchange, D1 is Exchange X's deposit address; S (forwarding to an untagged Z)
# is nobody's, and the victims W1-W3 never become the scammer.


def _write(home: Path) -> ChainStore:
    store = ChainStore("ETH", home)
    addresses = pa.table(
        {
            "address_id": list(range(len(NAMES))),
            "address": [_hex(n) for n in NAMES],
            "script_type": ["evm"] * len(NAMES),
            "first_seen": [0] * len(NAMES),
        }
    )
    rows = [
        dict(
            tx_hash=f"0x{i:064x}",
            block=t // 12,
            time=t,
            tx_index=0,
            log_index=-1,
            trace_index=-1,
            from_id=ID[f],
            to_id=ID[to],
            asset_id=0,
            value=Decimal(v),
            value_text=None,
            kind="native",
        )
        for i, (f, to, v, t) in enumerate(TRANSFERS)
    ]
    transfers = pa.Table.from_pylist(rows, schema=store.schemas["transfers"])
    with store.writer() as w:
        w.commit({"addresses": addresses, "transfers": transfers})
    return store


def _tag_h(home: Path) -> None:
    TagStore(home).replace(
        "partner",
        tags_table([Tag("ETH", _hex("H"), "Exchange X", "exchange", "partner", 90)]),
    )


def _deposit_of_h(home: Path) -> dict[str, object]:
    store = ChainStore("ETH", home)
    att = attribution(store, home=home)
    cl = cluster_of(store)
    d1 = att.entity(int(cl[ID["D1"]]))
    assert d1 is not None
    assert [n for n in NAMES if att.entity(int(cl[ID[n]])) is not None] == ["H", "D1"]
    return d1.to_dict()


def test_clustering_stores_forwarders_and_merges_nothing(home: Path) -> None:
    _write(home)
    report = run_clustering("ETH", home=home)
    assert report.heuristics == ["deposit_address"]
    assert report.merges == {"deposit_address": 0} and report.counterparties == 2
    assert report.clusters == len(NAMES) and report.notes == []
    cp = ChainStore("ETH", home).read_table("counterparties").to_pylist()
    assert {(r["address_id"], r["counterparty_id"], r["relation"]) for r in cp} == {
        (ID["D1"], ID["H"], "forwards"),
        (ID["S"], ID["Z"], "forwards"),
    }
    d1 = next(r for r in cp if r["address_id"] == ID["D1"])
    assert d1["tx_hash"] == f"0x{2:064x}" and 0.99 < d1["share"] < 1.0
    # nothing tagged yet: nobody is anybody's
    assert attribution(ChainStore("ETH", home), home=home).entities == {}


def test_deposit_address_is_read_from_the_tags_of_now(home: Path) -> None:
    """Tags before or after clustering: the same deposit address, the same evidence."""
    _write(home)
    _tag_h(home)
    run_clustering("ETH", home=home)
    before = _deposit_of_h(home)
    assert before["label"] == "Exchange X" and before["category"] == "exchange"
    assert before["heuristic"] == "deposit_address"
    assert 0 < int(before["confidence"]) < 90  # type: ignore[call-overload]
    assert before["evidence"] == {"tx": f"0x{2:064x}", "address": _hex("H"),
                                  "service_cluster": ID["H"]}  # fmt: skip
    shown = show(ChainStore("ETH", home), _hex("D1"), home=home)
    assert shown["entity"] == before and shown["size"] == 1
    told = why(ChainStore("ETH", home), _hex("D1"), _hex("H"), home=home)
    assert told["together"] is False
    assert told["attribution"]["service"]["label"] == "Exchange X"
    assert told["attribution"]["evidence"][0]["evidence"]["tx"] == f"0x{2:064x}"

    TagStore(home).replace("partner", tags_table([]))  # the tag withdrawn: read at once
    assert attribution(ChainStore("ETH", home), home=home).entities == {}
    _tag_h(home)  # and back, after clustering
    assert _deposit_of_h(home) == before


def test_forwarding_all_to_a_dex_pool_is_no_deposit(home: Path) -> None:
    """Z tagged a DEX pool (a service, not an exchange): S swapping all it gets there is
    forwarding too, but a pool keeps no deposit addresses, so S stays nobody's."""
    _write(home)
    run_clustering("ETH", home=home)
    TagStore(home).replace(
        "partner",
        tags_table(
            [
                Tag("ETH", _hex("H"), "Exchange X", "exchange", "partner", 90),
                Tag("ETH", _hex("Z"), "SunSwap pool", "service", "partner", 90),
            ]
        ),
    )
    store = ChainStore("ETH", home)
    att = attribution(store, home=home)
    cl = cluster_of(store)
    named = {n: att.entity(int(cl[ID[n]])) for n in NAMES}
    assert {n for n, e in named.items() if e is not None} == {"H", "D1", "Z"}
    assert named["D1"] is not None and named["D1"].heuristic == "deposit_address"
    assert named["S"] is None


def _rows(store: ChainStore, transfers: list[tuple[str, str, int, int]]) -> pa.Table:
    names = sorted({n for f, t, _, _ in transfers for n in (f, t)})
    ids = {n: i for i, n in enumerate(names)}
    addresses = pa.table({"address_id": list(range(len(names))),
                          "address": [_hex(n) for n in names],
                          "script_type": ["evm"] * len(names),
                          "first_seen": [0] * len(names)})  # fmt: skip
    rows = [dict(tx_hash=f"0x{i:064x}", block=t // 12, time=t, tx_index=0, log_index=-1,
                 trace_index=-1, from_id=ids[f], to_id=ids[to], asset_id=0, value=Decimal(v),
                 value_text=None, kind="native")
            for i, (f, to, v, t) in enumerate(transfers)]  # fmt: skip
    with store.writer() as w:
        w.commit(
            {
                "addresses": addresses,
                "transfers": pa.Table.from_pylist(rows, schema=store.schemas["transfers"]),
            }
        )
    return addresses


def test_a_deposit_still_waiting_for_its_next_sweep_is_a_forwarder(home: Path) -> None:
    """D3 was swept, then its customer deposited again a day before the chain's last
    transfer: the sweep has not come yet, D3 is still a forwarder. D4 was swept once and has
    kept what came in since, for over three days: it is not."""
    store = ChainStore("ETH", home)
    _rows(store, [
        ("V4", "D3", ETH, 100), ("D3", "H", ETH, 200), ("V4", "D3", ETH, 9 * DAY),
        ("V5", "D4", ETH, 100), ("D4", "H", ETH, 200), ("V5", "D4", 5 * ETH, 300),
        ("X", "Y", ETH, 10 * DAY),  # the chain's last transfer
    ])  # fmt: skip
    run_clustering("ETH", home=home)
    cp = ChainStore("ETH", home).read_table("counterparties").to_pylist()
    addr = {r["address_id"]: r["address"] for r in store.read_table("addresses").to_pylist()}
    assert {(addr[r["address_id"]], addr[r["counterparty_id"]]) for r in cp} == {
        (_hex("D3"), _hex("H"))
    }
