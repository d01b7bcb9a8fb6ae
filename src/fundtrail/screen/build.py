"""Build the screening index from everything the alliance knows.

Reasons come from four places, each keeping the visibility of what it derives from:

1. attribution tags (TagPacks, OFAC lists): public, direct;
2. the hub's crypto-address indicators: direct, with their org, TLP and share list;
3. clusters: an address in the same cluster as a risky one (``cluster``), or in a
   cluster whose entity carries a risky category (``entity``);
4. indirect exposure: haircut shares of received value within N hops, computed in
   bulk once per chain, per category and per visibility group (so a RED indicator's
   exposure is only ever shown to those who may see the indicator).

The build is skipped when its inputs (chain-store versions, tag files, indicators,
hop count) are unchanged, and exposure results are cached per input, so new intel
alone rebuilds in seconds.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
import sqlalchemy as sa

from fundtrail.analysis.trace.exposure import flow_graph, propagate
from fundtrail.chains.reads import chain_stores
from fundtrail.chainstore.store import ChainStore
from fundtrail.chainstore.tags import TagStore
from fundtrail.errors import InvalidInputError
from fundtrail.intelstore.db import IntelStore, open_store
from fundtrail.intelstore.models import Indicator, Org
from fundtrail.model.indicators import Category
from fundtrail.screen.index import (
    CATEGORY_CODE,
    PPM,
    FactTable,
    Source,
    current_version,
    screen_root,
    write_index,
)
from fundtrail.screen.keys import keys_of
from fundtrail.settings import get_settings

MAX_CLUSTER_EXPANSION = 100_000  # a bigger "criminal" cluster is a mis-clustering symptom
BENIGN = {Category.EXCHANGE.value, Category.SERVICE.value}


def _category(text: str | None) -> str:
    try:
        return Category.parse(text or "other").value
    except InvalidInputError:
        return Category.OTHER.value


def _indicators(intel: IntelStore) -> list[dict[str, Any]]:
    with intel.read_session() as s:
        orgs = {o.id: o.name for o in s.scalars(sa.select(Org))}
        rows = s.scalars(sa.select(Indicator).where(Indicator.type == "crypto-address")).all()
        return [
            {
                "id": r.id,
                "chain": r.chain,
                "value": r.value,
                "category": _category(r.category),
                "org": orgs.get(r.org_id, ""),
                "tlp": r.tlp,
                "share_with": sorted(orgs.get(sh.org_id, "") for sh in r.shares),
                "confidence": r.confidence,
                "label": (r.labels[0] if r.labels else "") or r.description[:80] or r.category,
                "modified": r.modified.isoformat(),
            }
            for r in rows
        ]


def fingerprint(
    home: Path, chains: list[ChainStore], indicators: list[dict[str, Any]], hops: int
) -> dict[str, Any]:
    tag_files = [(p.name, p.stat().st_size, int(p.stat().st_mtime)) for p in TagStore(home).files()]
    digest = hashlib.sha256(
        json.dumps(sorted((i["id"], i["modified"]) for i in indicators)).encode()
    ).hexdigest()
    return {
        "chains": {c.chain.code: c.version for c in chains},
        "tags": tag_files,
        "indicators": digest,
        "hops": hops,
    }


def build_index(
    home: Path,
    *,
    hops: int | None = None,
    force: bool = False,
    quiet: bool = True,
    intel: IntelStore | None = None,
    alerts: bool = True,
) -> dict[str, Any]:
    """Build the index if its inputs changed; raise retro-screening alerts after a build."""
    hops = hops if hops is not None else get_settings().screen_hops
    intel = intel or open_store()
    chains = chain_stores(home)
    inds = _indicators(intel)
    fp = fingerprint(home, chains, inds, hops)
    version = current_version(home)
    if version and not force:
        meta = json.loads((screen_root(home) / version / "meta.json").read_text())
        if meta.get("fingerprint") == json.loads(json.dumps(fp)):
            return {**_summary(meta), "rebuilt": False, "alerts": 0}
    facts = FactTable()
    direct = _direct(home, facts, inds)
    for store in chains:
        _chain_reasons(store, facts, direct.get(store.chain.code, {}), hops, quiet)
    version = write_index(home, facts, fingerprint=fp)
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


def _direct(home: Path, facts: FactTable, inds: list[dict[str, Any]]) -> Direct:
    direct: Direct = defaultdict(lambda: defaultdict(list))
    tags = TagStore(home).table()
    if tags.num_rows:
        groups: dict[tuple[str, str, str, str], list[int]] = defaultdict(list)
        cols = {n: tags.column(n).to_pylist() for n in ("chain", "label", "category", "tagpack")}
        for i in range(tags.num_rows):
            key = (
                cols["chain"][i],
                cols["label"][i] or "",
                _category(cols["category"][i]),
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
                ind["id"],
                ind["label"],
                ind["category"],
                org=ind["org"],
                tlp=ind["tlp"],
                share_with=ind["share_with"],
                confidence=ind["confidence"],
                chain=ind["chain"],
                address=ind["value"],
            )
        )
        facts.add(
            keys_of(ind["chain"], [ind["value"]]),
            category=ind["category"],
            kind="indicator",
            source=src,
        )
        direct[ind["chain"]][ind["value"]].append((src, ind["category"]))
    return direct


def _chain_reasons(
    store: ChainStore,
    facts: FactTable,
    direct: dict[str, list[tuple[int, str]]],
    hops: int,
    quiet: bool,
) -> None:
    chain = store.chain.code
    con = store.connect()
    try:
        addr_tab = con.sql("SELECT address_id, address FROM addresses ORDER BY address_id")
        table = addr_tab.to_arrow_table()
    finally:
        con.close()
    n = table.num_rows
    if n == 0:
        return
    texts = table.column("address").to_pylist()
    ids = {a: i for i, a in enumerate(texts)}
    keys = keys_of(chain, texts)
    cluster = _clusters(store, n)
    entity_cat = _entities(store)
    service = np.zeros(n, dtype=bool)
    for cid, (_label, cat) in entity_cat.items():
        if cat in BENIGN:
            service |= cluster == cid
    # entity reasons: every member of a cluster attributed to a risky category
    for cid, (label, cat) in entity_cat.items():
        if cat in BENIGN:
            continue
        members = np.nonzero(cluster == cid)[0]
        if 0 < len(members) <= MAX_CLUSTER_EXPANSION:
            ent = facts.add_source(Source("entity", f"cluster:{cid}", label, cat, chain=chain))
            facts.add(keys[members], category=cat, kind="entity", source=ent)
    # cluster reasons and exposure seeds, grouped by the visibility of the source
    seeds: dict[tuple[str, str], list[int]] = defaultdict(list)
    group_source: dict[tuple[str, str], Source] = {}
    for address, hits in direct.items():
        aid = ids.get(address)
        if aid is None:
            continue
        for src_idx, category in hits:
            if category in BENIGN:
                continue
            src = facts.sources[src_idx]
            members = np.nonzero(cluster == cluster[aid])[0]
            members = members[members != aid]
            if 0 < len(members) <= MAX_CLUSTER_EXPANSION and not service[aid]:
                facts.add(keys[members], category=category, kind="cluster", source=src_idx)
            vis = json.dumps([src.org, src.tlp if src.org else "clear", sorted(src.share_with)])
            seeds[(vis, category)].append(int(aid))
            group_source.setdefault((vis, category), src)
    if not seeds:
        return
    graph = flow_graph(store)
    for (vis, category), seed_ids in seeds.items():
        share, first = propagate(
            graph, np.unique(np.array(seed_ids, dtype=np.int64)), hops, service
        )
        hit = np.nonzero(share > 0)[0]
        if len(hit) == 0:
            continue
        origin = group_source[(vis, category)]
        exp = facts.add_source(
            Source(
                "exposure",
                origin.ref if len(seed_ids) == 1 else category,
                f"received funds from {category} sources",
                category,
                org=origin.org,
                tlp=origin.tlp,
                share_with=list(origin.share_with),
                chain=chain,
                address=texts[seed_ids[0]] if len(set(seed_ids)) == 1 else "",
            )
        )
        facts.add(
            keys[hit],
            category=np.full(len(hit), CATEGORY_CODE[category], np.uint8),
            kind="indirect",
            source=exp,
            share_ppm=np.round(share[hit] * PPM).astype(np.uint32),
            hops=first[hit],
        )


def _clusters(store: ChainStore, n: int) -> np.ndarray:
    out = np.arange(n, dtype=np.int64)
    t = store.read_table("clusters", ["address_id", "cluster_id"])
    if t.num_rows:
        a = t.column("address_id").to_numpy()
        keep = a < n
        out[a[keep]] = t.column("cluster_id").to_numpy()[keep]
    return out


def _entities(store: ChainStore) -> dict[int, tuple[str, str]]:
    """(label, category) per attributed cluster, the conservative way round.

    Tracing and attribution name a cluster by its primary label; screening lets any risky
    label win over a benign one, so a cluster tagged both "exchange" and "ransomware"
    (a conflict attribution keeps and reports) screens as risky rather than clean.
    """
    t = store.read_table("entities")
    if not t.num_rows:
        return {}
    cids = t.column("cluster_id").to_pylist()
    labels = t.column("label").to_pylist()
    cats = t.column("category").to_pylist()
    out: dict[int, tuple[str, str]] = {}
    for cid, label, cat in zip(cids, labels, cats, strict=True):
        c = _category(cat)
        prev = out.get(int(cid))
        if prev is None or (prev[1] in BENIGN and c not in BENIGN):
            out[int(cid)] = (label or c, c)
    return out
