"""Build the screening index from everything the alliance knows.

Reasons come from four places, each keeping the visibility of what it derives from:

1. attribution tags (TagPacks, OFAC lists): public, direct;
2. the hub's crypto-address indicators: direct, with their org, TLP and share list;
3. clusters: an address in the same cluster as a risky one (``cluster``), or in a
   cluster whose entity carries a risky category (``entity``);
4. indirect exposure: haircut shares of received value within N hops, computed in
   bulk with the tracer's rules (``analysis.trace.exposure.indirect_exposure``: peel
   chains one hop, CoinJoins in proportion, stops at services and their deposit
   clusters) once per chain, per category and per visibility group (so a RED
   indicator's exposure is only ever shown to those who may see the indicator); each
   reason names its origin: the seed address and the tx its coins left by.

The build is skipped when its inputs (chain-store versions, tag files, indicators,
hop count) are unchanged, and exposure results are cached per input, so new intel
alone rebuilds in seconds.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from fundtrail.analysis.cluster.service import cluster_work
from fundtrail.analysis.trace.exposure import indirect_exposure
from fundtrail.arrays import distinct
from fundtrail.chains.reads import chain_stores
from fundtrail.chainstore.budget import chunk_rows
from fundtrail.chainstore.csr import n_addresses
from fundtrail.chainstore.store import ChainStore
from fundtrail.chainstore.tags import TagStore
from fundtrail.chainstore.workarray import WorkArray, WorkSpace
from fundtrail.intelstore.changes import latest_seq
from fundtrail.intelstore.db import IntelStore, open_store
from fundtrail.screen.freshness import inputs
from fundtrail.screen.index import (
    CATEGORY_CODE,
    PPM,
    FactTable,
    Source,
    current_version,
    restamp,
    screen_root,
    write_index,
)
from fundtrail.screen.keys import keys_of
from fundtrail.screen.overlay import IndicatorState, category_of, read_indicators
from fundtrail.screen.scoring import BENIGN
from fundtrail.settings import get_settings

MAX_CLUSTER_EXPANSION = 100_000  # a bigger "criminal" cluster is a mis-clustering symptom
PY_BYTES = 256  # per address text of a batch hashed in Python (str objects, list, digest)


FORMAT = 3  # meta "format": versions written by older code are rebuilt, not read


def fingerprint(home: Path, indicators: list[IndicatorState], hops: int) -> dict[str, Any]:
    """What a version is built from: workspace inputs and the intel content itself."""
    digest = hashlib.sha256(
        json.dumps(
            sorted(
                (i.id, i.chain, i.value, i.category, i.org, i.tlp, sorted(i.share_with), i.label)
                for i in indicators
            )
        ).encode()
    ).hexdigest()
    return {**inputs(home, hops), "indicators": digest, "format": FORMAT}


def build_index(
    home: Path,
    *,
    hops: int | None = None,
    force: bool = False,
    quiet: bool = True,
    intel: IntelStore | None = None,
    alerts: bool = True,
) -> dict[str, Any]:
    """Build the index if its inputs changed; raise retro-screening alerts after a build.

    The journal position is read before the indicators, so every change after it is
    either in this build or replayed by the overlay (never lost between the two).
    """
    hops = hops if hops is not None else get_settings().screen_hops
    intel = intel or open_store()
    with intel.read_session() as s:
        intel_seq = latest_seq(s)
    inds = read_indicators(intel)
    chains = chain_stores(home)
    fp = fingerprint(home, inds, hops)
    version = current_version(home)
    if version and not force:
        meta = json.loads((screen_root(home) / version / "meta.json").read_text())
        if meta.get("fingerprint") == json.loads(json.dumps(fp)):
            if int(meta.get("intel_seq", 0)) < intel_seq:  # journalled, but no content change
                meta = json.loads(
                    (
                        screen_root(home) / restamp(home, version, intel_seq) / "meta.json"
                    ).read_text()
                )
            return {**_summary(meta), "rebuilt": False, "alerts": 0}
    facts = FactTable()
    direct = _direct(home, facts, inds)
    for store in chains:
        _chain_reasons(store, home, facts, direct.get(store.chain.code, {}), hops, quiet)
    version = write_index(home, facts, fingerprint=fp, extra={"intel_seq": intel_seq})
    meta = json.loads((screen_root(home) / version / "meta.json").read_text())
    n_alerts = 0
    if alerts:
        from fundtrail.screen.alerts import raise_alerts

        n_alerts = len(raise_alerts(intel, home))
    return {**_summary(meta), "rebuilt": True, "alerts": n_alerts}


def _summary(meta: dict[str, Any]) -> dict[str, Any]:
    return {k: meta[k] for k in ("version", "addresses", "records", "sources")}


# direct facts per chain: normalised address -> list of (source index, category)
Direct = dict[str, dict[str, list[tuple[int, str]]]]


def _direct(home: Path, facts: FactTable, inds: list[IndicatorState]) -> Direct:
    direct: Direct = defaultdict(lambda: defaultdict(list))
    tags = TagStore(home).table()
    if tags.num_rows:
        groups: dict[tuple[str, str, str, str], list[int]] = defaultdict(list)
        cols = {n: tags.column(n).to_pylist() for n in ("chain", "label", "category", "tagpack")}
        for i in range(tags.num_rows):
            key = (
                cols["chain"][i],
                cols["label"][i] or "",
                category_of(cols["category"][i]),
                cols["tagpack"][i] or "",
            )
            groups[key].append(i)
        addrs = tags.column("address").to_pylist()
        conf = tags.column("confidence").to_pylist()
        for (chain, label, category, pack), rows in groups.items():
            src = facts.add_source(
                Source(
                    "tag",
                    pack,
                    label or category,
                    category,
                    chain=chain,
                    confidence=int(conf[rows[0]] or 50),
                )
            )
            members = [addrs[i] for i in rows]
            facts.add(keys_of(chain, members), category=category, kind="tag", source=src)
            for a in members:
                direct[chain][a].append((src, category))
    for ind in inds:
        src = facts.add_source(
            Source(
                "indicator",
                ind.id,
                ind.label,
                ind.category,
                org=ind.org,
                tlp=ind.tlp,
                share_with=sorted(ind.share_with),
                confidence=ind.confidence,
                chain=ind.chain,
                address=ind.value,
            )
        )
        facts.add(
            keys_of(ind.chain, [ind.value]), category=ind.category, kind="indicator", source=src
        )
        direct[ind.chain][ind.value].append((src, ind.category))
    return direct


def _chain_reasons(
    store: ChainStore,
    home: Path,
    facts: FactTable,
    direct: dict[str, list[tuple[int, str]]],
    hops: int,
    quiet: bool,
) -> None:
    chain = store.chain.code
    n = n_addresses(store)
    if n == 0:
        return
    # attribution first: its work arrays come and go before this build's own
    entity_cat = _entities(store, home)
    benign = {c for c, (_label, cat) in entity_cat.items() if cat in BENIGN}
    with WorkSpace(store.root / "cache") as ws:  # arrays by address id: within the budget
        ids = _ids(store, list(direct))
        cluster = cluster_work(store, ws)
        seed_ids = np.array(sorted(set(ids.values())), dtype=np.int64)
        seed_cluster = dict(zip(seed_ids.tolist(), cluster.take(seed_ids).tolist(), strict=True))
        risky = {cid: v for cid, v in entity_cat.items() if v[1] not in BENIGN}
        members_of = _members(cluster, set(risky) | set(seed_cluster.values()))
        # entity reasons: every member of a cluster attributed to a risky category
        for cid, (label, cat) in risky.items():
            members = members_of.get(cid, NONE)
            if 0 < len(members) <= MAX_CLUSTER_EXPANSION:
                ent = facts.add_source(Source("entity", f"cluster:{cid}", label, cat, chain=chain))
                facts.add(_keys(store, members), category=cat, kind="entity", source=ent)
        # cluster reasons and exposure seeds, grouped by the visibility of the source
        seeds: dict[tuple[str, str], dict[int, int]] = defaultdict(dict)  # group -> aid -> source
        for address, hits in direct.items():
            aid = ids.get(address)
            if aid is None:
                continue
            cid = seed_cluster[aid]
            service = cid in benign
            for src_idx, category in hits:
                if category in BENIGN:
                    continue
                src = facts.sources[src_idx]
                members = members_of.get(cid, NONE)
                members = members[members != aid]
                if 0 < len(members) <= MAX_CLUSTER_EXPANSION and not service:
                    facts.add(_keys(store, members), category=category, kind="cluster",
                              source=src_idx)  # fmt: skip
                vis = json.dumps([src.org, src.tlp if src.org else "clear", sorted(src.share_with)])
                seeds[(vis, category)].setdefault(int(aid), src_idx)
        for (_vis, category), by_seed in seeds.items():
            _exposure(store, home, facts, by_seed, category, hops, cluster)


NONE = np.zeros(0, dtype=np.int64)


def _members(cluster: WorkArray, wanted: set[int]) -> dict[int, np.ndarray]:
    """Sorted address ids of each of the ``wanted`` clusters, from one pass over the
    cluster ids (a window at a time); a cluster past ``MAX_CLUSTER_EXPANSION`` maps to
    more ids than that, which its callers skip."""
    if not wanted:
        return {}
    want = np.array(sorted(wanted), dtype=np.int64)
    ids = cluster.where(lambda v: np.isin(v, want))
    cids = cluster.take(ids)
    order = np.argsort(cids, kind="stable")
    ids, cids = ids[order], cids[order]
    starts = np.flatnonzero(np.append(True, cids[1:] != cids[:-1])) if len(cids) else NONE
    bounds = np.append(starts, len(cids))
    return {int(cids[a]): ids[a:b] for a, b in itertools.pairwise(bounds.tolist())}


def _keys(store: ChainStore, ids: np.ndarray) -> np.ndarray:
    """Screening keys of some address ids (the ones that get a reason), their texts read
    a bounded batch at a time: hashing every address of the chain for a handful of
    reasons had been most of the build's peak memory (Python strings) and CPU."""
    uniq, inv = np.unique(np.asarray(ids, dtype=np.int64), return_inverse=True)
    keys = np.empty(len(uniq), dtype=np.uint64)
    step = chunk_rows(PY_BYTES, 0.25)
    for lo in range(0, len(uniq), step):
        part = uniq[lo : lo + step]
        texts = _texts(store, part)
        keys[lo : lo + len(part)] = keys_of(store.chain.code, [texts[i] for i in part.tolist()])
    return keys[inv]


def _ids(store: ChainStore, addresses: list[str]) -> dict[str, int]:
    """Address id of each of a few stored address texts (the ones with direct reasons)."""
    if not addresses:
        return {}
    con = store.connect()
    try:
        con.register("want_text", pa.table({"address": pa.array(addresses, pa.string())}))
        rows = con.execute(
            "SELECT address, address_id FROM addresses SEMI JOIN want_text USING (address)"
        ).fetchall()
    finally:
        con.close()
    return {str(a): int(i) for a, i in rows}


def _texts(store: ChainStore, ids: np.ndarray) -> dict[int, str]:
    """Address text of each of some address ids."""
    want = distinct(ids[ids >= 0])
    if not len(want):
        return {}
    con = store.connect()
    try:
        con.register("want_id", pa.table({"address_id": pa.array(want, pa.int64())}))
        rows = con.execute(
            "SELECT address_id, address FROM addresses SEMI JOIN want_id USING (address_id)"
        ).fetchall()
    finally:
        con.close()
    return {int(i): str(a) for i, a in rows}


def _exposure(
    store: ChainStore,
    home: Path,
    facts: FactTable,
    by_seed: dict[int, int],
    category: str,
    hops: int,
    cluster: WorkArray,
) -> None:
    """Indirect reasons of one category and visibility group, one source per origin.

    The share is the group's (the tracer's haircut from all its seeds at once); the
    origin is the seed-cluster address the address's largest tainted payment came from,
    with the tx its coins left by, so a reason says where its exposure came from. The
    source lists every indicator of the group: answers check their current rights (see
    ``verdicts``).
    """
    seed_ids = np.array(sorted(by_seed), dtype=np.int64)
    found = indirect_exposure(store, seed_ids, hops=hops, home=home)
    if len(found.address) == 0:
        return
    group = [facts.sources[i] for i in by_seed.values()]
    members = sorted({s.ref for s in group if s.kind == "indicator"})
    some = group[0]
    seeds = np.array(sorted(by_seed), dtype=np.int64)
    seed_of_cluster = dict(zip(cluster.take(seeds).tolist(), [by_seed[a] for a in seeds.tolist()],
                               strict=True))  # fmt: skip
    origin_cluster = cluster.take(np.maximum(found.origin, 0))
    texts = _texts(store, found.origin)
    origins: dict[tuple[int, str | None], int] = {}
    source_of = np.empty(len(found.address), dtype=np.int64)
    for k, (o, txid) in enumerate(zip(found.origin.tolist(), found.origin_txid, strict=True)):
        if (o, txid) not in origins:
            oc = int(origin_cluster[k])
            seed_src = facts.sources[seed_of_cluster[oc]] if (
                o >= 0 and oc in seed_of_cluster) else some  # fmt: skip
            origins[(o, txid)] = facts.add_source(
                Source(
                    "exposure",
                    seed_src.ref,
                    f"received funds from {category} sources",
                    category,
                    org=some.org,
                    tlp=some.tlp,
                    share_with=list(some.share_with),
                    chain=store.chain.code,
                    address=texts.get(o, "") if o >= 0 else "",
                    members=members,
                    txid=txid or "",
                )
            )
        source_of[k] = origins[(o, txid)]
    address_key = _keys(store, found.address)
    for src_idx in distinct(source_of).tolist():
        rows = source_of == src_idx
        facts.add(
            address_key[rows],
            category=np.full(int(rows.sum()), CATEGORY_CODE[category], np.uint8),
            kind="indirect",
            source=int(src_idx),
            share_ppm=np.round(found.share[rows] * PPM).astype(np.uint32),
            hops=found.hops[rows],
        )


def _entities(store: ChainStore, home: Path) -> dict[int, tuple[str, str]]:
    """(label, category) per attributed cluster, the conservative way round.

    Attribution is read now (``analysis.attribution``: tags and behaviour, workspace
    knowledge; indicators keep their own visibility as direct reasons). Tracing names a
    cluster by its primary label; screening lets any risky label win over a benign one,
    so a cluster tagged both "exchange" and "ransomware" (a conflict attribution keeps
    and reports) screens as risky rather than clean.
    """
    from fundtrail.analysis.attribution import attribution

    if not store.parts("clusters"):
        return {}
    t = attribution(store, home=home).rows
    out: dict[int, tuple[str, str]] = {}
    cols = (t.column("cluster_id").to_pylist(), t.column("label").to_pylist(),
            t.column("category").to_pylist())  # fmt: skip
    for cid, label, cat in zip(*cols, strict=True):
        c = category_of(cat)
        prev = out.get(int(cid))
        if prev is None or (prev[1] in BENIGN and c not in BENIGN):
            out[int(cid)] = (label or c, c)
    return out
