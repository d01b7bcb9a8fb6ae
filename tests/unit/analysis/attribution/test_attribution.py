"""Attribution is read, never copied: every read reflects the current tags, intel and chain."""

from __future__ import annotations

from pathlib import Path

import pytest

from fundtrail.analysis.attribution import attribution
from fundtrail.analysis.cluster.query import show
from fundtrail.analysis.trace.request import TraceRequest
from fundtrail.analysis.trace.service import trace
from fundtrail.analysis.trace.testing import UtxoChain, btc_address, txid_of
from fundtrail.chainstore.store import ChainStore
from fundtrail.chainstore.tags import Tag, TagStore, tags_table
from fundtrail.intel.indicators import IndicatorService
from fundtrail.intel.records import IndicatorRecord
from fundtrail.intelstore.db import open_store
from fundtrail.intelstore.orgs import add_org, org_identity
from fundtrail.model.identity import Identity


def untagged(home: Path) -> UtxoChain:
    """A victim pays S, which pays the exchange address E (nobody has said E is one yet)."""
    c = UtxoChain()
    c.tx("c0", [], [("V", 1000)])
    c.tx("pay", [("c0", 0)], [("S", 990)])
    c.tx("out", [("pay", 0)], [("E", 980)])
    c.cluster("ex", ["E"])
    c.commit(home)
    return c


def tag_exchange(home: Path, label: str = "Kraylo Exchange") -> None:
    TagStore(home).replace(
        "partner", tags_table([Tag("BTC", btc_address("E"), label, "exchange", "partner", 90)])
    )


def test_a_tag_imported_after_clustering_counts_at_the_next_read(home: Path) -> None:
    untagged(home)
    store = ChainStore("btc", home)
    request = TraceRequest.parse("btc", [txid_of("pay") + ":0"])
    before = trace(request, home=home)
    assert [e.kind for e in before.endpoints] == ["held"]
    assert show(store, btc_address("E"), home=home)["entity"] is None
    tag_exchange(home)  # no `fundtrail cluster` run after it
    after = trace(request, home=home)
    assert [(e.kind, e.entity["label"]) for e in after.endpoints] == [  # type: ignore[index]
        ("cash-out", "Kraylo Exchange")
    ]
    assert show(store, btc_address("E"), home=home)["entity"]["label"] == "Kraylo Exchange"
    assert after.summary["attribution"] != before.summary["attribution"]
    tag_exchange(home, "Renamed Exchange")  # and a changed tag changes every answer again
    assert trace(request, home=home).endpoints[0].entity["label"] == "Renamed Exchange"  # type: ignore[index]


def test_unchanged_inputs_reuse_one_attribution(home: Path) -> None:
    untagged(home)
    tag_exchange(home)
    store = ChainStore("btc", home)
    first = attribution(store, home=home)
    assert attribution(store, home=home) is first
    cached = list((store.root / "cache").glob(f"attribution-{first.fingerprint}.parquet"))
    assert cached  # a new process reads it from disk instead of recomputing


def test_shared_intel_names_a_cluster_only_for_those_who_may_see_it(home: Path) -> None:
    untagged(home)
    intel = open_store()
    with intel.session() as s:
        add_org(s, "police", "law-enforcement")
        add_org(s, "bank", "bank")
        add_org(s, "exchange", "exchange")
    with intel.session() as s:
        police = org_identity(s, "police", "analyst")
        bank = org_identity(s, "bank", "analyst")
        exchange = org_identity(s, "exchange", "analyst")
    record = IndicatorRecord.build(
        "crypto-address", btc_address("S"), "ransomware", chain="BTC", tlp="amber",
        labels=["LockBit affiliate"], share_with=["exchange"],
    )  # fmt: skip
    IndicatorService(intel).add(police, record)
    store = ChainStore("btc", home)
    cluster = int(show(store, btc_address("S"), home=home)["cluster_id"])
    seen = attribution(store, home=home, viewer=police, intel=intel).entity(cluster)
    assert seen is not None and (seen.label, seen.heuristic) == ("LockBit affiliate", "indicator")
    assert attribution(store, home=home, viewer=exchange, intel=intel).entity(cluster) is not None
    assert attribution(store, home=home, viewer=bank, intel=intel).entity(cluster) is None
    assert (
        attribution(store, home=home, viewer=Identity.public(), intel=intel).entity(cluster) is None
    )
    assert attribution(store, home=home).entity(cluster) is None  # no viewer: no intel


def test_a_copied_workspace_reads_its_attribution_from_its_cache(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The fingerprint names the inputs, not the folder: a workspace copied or moved (a
    backup restored, a case handed to a colleague) does not compute it again."""
    import shutil

    from fundtrail.analysis.attribution import lookup

    untagged(home)
    tag_exchange(home)
    first = attribution(ChainStore("btc", home), home=home)
    moved = tmp_path / "moved"
    shutil.copytree(home, moved)  # copy2: the tag files keep their times
    lookup._MEMORY.clear()

    def computed(*args: object) -> None:
        raise AssertionError("the copy's attribution was computed again")

    monkeypatch.setattr(lookup, "_compute", computed)
    again = attribution(ChainStore("btc", moved), home=moved)
    assert again.fingerprint == first.fingerprint
    assert again.entity(first.stop_clusters[0]).label == "Kraylo Exchange"


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_entities_built_when_asked_rank_as_every_row_sorted(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The primary of each cluster, read from Arrow-ranked columns one cluster at a time,
    is the one sorting that cluster's rows by the rank would pick (direct before
    behaviour, definer, confidence, tags, label; ties in input order; nulls as none),
    and the service and deposit masks a trace reads agree with those entities."""
    import random

    import pyarrow as pa

    from fundtrail.analysis.attribution.entity import ROWS
    from fundtrail.analysis.attribution.lookup import Entities, _entity, _rank

    rnd = random.Random(seed)
    rows = [
        {"cluster_id": rnd.randrange(40), "label": rnd.choice(["Binance", "binance", "Kraken", "", None]),
         "category": rnd.choice(["exchange", "Exchange", "service", "scam", "", None]),
         "source": f"s{i}", "confidence": rnd.choice([None, 10, 50, 90]),
         "heuristic": rnd.choice(["tag", "deposit_sweep", "hot_wallet", "deposit_address", None]),
         "abuse": None, "actor": None, "n_tags": rnd.choice([None, 0, 1, 3]),
         "definer": rnd.choice([None, True, False]), "evidence_tx": None,
         "evidence_address": None, "service_cluster": None}
        for i in range(400)
    ]  # fmt: skip
    ents = Entities(pa.Table.from_pylist(rows, schema=ROWS))
    by: dict[int, list[dict[str, object]]] = {}
    for r in rows:
        by.setdefault(int(r["cluster_id"]), []).append(r)  # type: ignore[call-overload]
    assert sorted(ents) == sorted(by) and len(ents) == len(by)
    for cid, group in by.items():
        want = _entity(cid, sorted(group, key=_rank))
        assert ents[cid] == want
        assert [r["source"] for r in ents.rows_of(cid)] == [
            r["source"] for r in sorted(group, key=_rank)
        ]
    assert ents.ids[ents.service].tolist() == sorted(c for c in by if ents[c].is_service)
    deposits = sorted(c for c in by if ents[c].is_service and ents[c].is_deposit)
    assert ents.ids[ents.service & ents.deposit].tolist() == deposits
    assert 1000 not in ents and ents.get(1000) is None and ents.rows_of(1000) == []
    from fundtrail.analysis.attribution import lookup

    monkeypatch.setattr(lookup, "ALL_BATCH", 7)  # batches end inside and between groups
    assert list(ents.all()) == [ents[c] for c in sorted(by)]
