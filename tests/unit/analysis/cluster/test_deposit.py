"""deposit_address on a hand-written account chain; expected clusters in the comments."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pyarrow as pa

from fundtrail.analysis.attribution import attribution
from fundtrail.analysis.cluster.query import show
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
# expected partition: {H, D1}; every other address alone. Counterparties of D1: V1, V2.


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


def test_deposit_address_joins_exchange_and_links_customers(home: Path) -> None:
    _write(home)
    TagStore(home).replace(
        "partner",
        tags_table([Tag("ETH", _hex("H"), "Exchange X", "exchange", "partner", 90)]),
    )
    report = run_clustering("ETH", home=home)
    assert report.heuristics == ["deposit_address"]
    assert report.merges == {"deposit_address": 1} and report.counterparties == 2
    store = ChainStore("ETH", home)
    cl = cluster_of(store)
    assert cl[ID["D1"]] == cl[ID["H"]] == 0
    assert sorted(set(cl.tolist())) == [0, *range(2, len(NAMES))]  # all others alone
    cp = store.read_table("counterparties").to_pylist()
    assert {(r["address_id"], r["counterparty_id"]) for r in cp} == {
        (ID["V1"], ID["D1"]),
        (ID["V2"], ID["D1"]),
    }
    assert all(r["relation"] == "deposit_customer" for r in cp)

    entity = attribution(ChainStore("ETH", home), home=home).entity(0)
    assert entity is not None
    assert entity.label == "Exchange X" and entity.category == "exchange"
    shown = show(ChainStore("ETH", home), _hex("D1"), home=home)
    assert shown["entity"]["label"] == "Exchange X" and shown["size"] == 2


def test_without_known_exchanges_nothing_is_merged(home: Path) -> None:
    _write(home)
    report = run_clustering("ETH", home=home)
    assert report.clusters == len(NAMES) and report.counterparties == 0
    assert "no ETH address is tagged 'exchange'" in report.notes[0]
