"""Who every cluster is, read from the current inputs: ``attribution(store, viewer=...)``.

``fundtrail cluster`` computes partitions only. Attribution is computed when asked, from
the clusters, the tag store, the intel the viewer may see and the chain's behaviour, so
a tag imported after clustering, or an indicator shared a minute ago, is in the very
next answer. The result is cached (in memory and as a Parquet file in the store's
``cache/``) under the *fingerprint of its inputs*: chain-store version, tag-store
version, intel change counter, viewer. A cache entry is never stale: when an input
changes, its fingerprint changes and the attribution is recomputed.
"""

from __future__ import annotations

import hashlib
import threading
import uuid
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from fundtrail.analysis import txchunks
from fundtrail.analysis.attribution import behaviour, forwards, hotchains
from fundtrail.analysis.attribution.entity import (
    BEHAVIOUR,
    DEPOSIT_HEURISTICS,
    ROWS,
    STOP_CATEGORIES,
    Entity,
    empty_rows,
)
from fundtrail.analysis.attribution.intel import intel_rows, intel_version
from fundtrail.analysis.attribution.tags import tag_rows
from fundtrail.analysis.cluster.service import cluster_of, cluster_work
from fundtrail.analysis.trace.stops import read_coinjoins
from fundtrail.arrays import distinct
from fundtrail.chains.ledger import ledger_for
from fundtrail.chainstore.budget import release
from fundtrail.chainstore.csr import n_txs
from fundtrail.chainstore.store import ChainStore
from fundtrail.chainstore.tags import TagStore
from fundtrail.chainstore.workarray import WorkArray, WorkSpace, in_ram
from fundtrail.intelstore.db import IntelStore
from fundtrail.model.identity import Identity

ALGORITHM = 6  # bump when the rules change: old cache files are then never read
_MEMORY: OrderedDict[str, Attribution] = OrderedDict()
_LOCK = threading.Lock()
_KEEP = 8
MEMBER_STEP = 1 << 22  # addresses per slice of a whole-chain membership test
ALL_BATCH = 1 << 16  # attribution rows read at a time by ``Entities.all``


class Attribution:
    """Every attributed cluster of one chain for one viewer, at one fingerprint."""

    def __init__(self, chain: str, fingerprint: str, rows: pa.Table) -> None:
        self.chain = chain
        self.fingerprint = fingerprint
        self.rows = rows
        self.entities = Entities(rows)
        self.stop_clusters = self.entities.ids[self.entities.service]
        self.deposit_clusters = self.entities.ids[self.entities.service & self.entities.deposit]

    def entity(self, cluster_id: int | None) -> Entity | None:
        return None if cluster_id is None else self.entities.get(int(cluster_id))

    def labels(self, cluster_id: int) -> list[dict[str, object]]:
        """Every attribution row of a cluster, the primary first."""
        primary = self.entities.get(int(cluster_id))
        rows = self.entities.rows_of(int(cluster_id))  # ranked: the primary first
        return [
            {**r, "is_primary": primary is not None and r["label"] == primary.label and i == 0,
             "conflict": primary is not None and primary.conflict}
            for i, r in enumerate(rows)
        ]  # fmt: skip

    def stop_mask(self, address_cluster: np.ndarray) -> np.ndarray:
        """bool per address id: does its cluster end a trace (a service or its deposits)?"""
        return _member(address_cluster, self.stop_clusters)

    def deposit_mask(self, address_cluster: np.ndarray) -> np.ndarray:
        """bool per address id: is it in a service's deposit cluster (by behaviour)?

        Such an address is a customer's deposit address, never the service's own wallet,
        though it pays outside its cluster (its sweeps go to the service's).
        """
        return _member(address_cluster, self.deposit_clusters)

    def find(self, name: str) -> list[dict[str, object]]:
        """Label rows (primary or competing) whose label or actor contains ``name``."""
        needle = name.lower()
        out = []
        for r in self.rows.to_pylist():
            if needle in str(r["label"] or "").lower() or needle in str(r["actor"] or "").lower():
                primary = self.entities[int(r["cluster_id"])]
                out.append({**r, "is_primary": primary.label == r["label"],
                            "conflict": primary.conflict})  # fmt: skip
        out.sort(key=lambda r: (not r["is_primary"], *_rank(r)))
        return out


def _member(address_cluster: np.ndarray, clusters: np.ndarray) -> np.ndarray:
    """``np.isin`` a slice at a time, the pages of a mapped ``address_cluster`` released
    after each: the trace's arrays are files, and this pass reads one whole."""
    out = np.zeros(len(address_cluster), dtype=bool)
    for lo in range(0, len(address_cluster), MEMBER_STEP):
        out[lo : lo + MEMBER_STEP] = np.isin(address_cluster[lo : lo + MEMBER_STEP], clusters)
        release(address_cluster)
    return out


def attribution(
    store: ChainStore,
    *,
    home: Path | None = None,
    viewer: Identity | None = None,
    intel: IntelStore | None = None,
) -> Attribution:
    """The attribution of ``store``'s clusters from current inputs.

    ``viewer`` adds the crypto-address indicators it may see (the public view: CLEAR
    and GREEN ones); without one, only workspace knowledge counts (tags, behaviour).
    """
    store.refresh()
    tags = TagStore(home)
    if viewer is not None and intel is None:
        from fundtrail.intelstore.db import open_store

        intel = open_store()
    seq = intel_version(intel) if viewer is not None and intel is not None else 0
    who = None if viewer is None else viewer.org_id  # visibility is per organisation
    # the inputs, not where the workspace sits: a copied or moved workspace keeps its
    # cache files (they live in the store's own folder); the memory cache, shared by every
    # store of the process, adds the folder
    key = f"{ALGORITHM}|{store.version}|{tags.version()}|{who}|{seq}"
    fp = hashlib.sha256(key.encode()).hexdigest()[:24]
    mem = f"{store.root}|{fp}"
    with _LOCK:
        hit = _MEMORY.get(mem)
        if hit is not None:
            _MEMORY.move_to_end(mem)
            return hit
    path = store.root / "cache" / f"attribution-{fp}.parquet"
    rows = _read(path)
    if rows is None:
        rows = _compute(store, tags, viewer, intel)
        _write(path, rows)
    att = Attribution(store.chain.code, fp, rows)
    with _LOCK:
        _MEMORY[mem] = att
        while len(_MEMORY) > _KEEP:
            _MEMORY.popitem(last=False)
    return att


def refresh(home: Path | None = None) -> list[str]:
    """Bring the workspace's attribution of every clustered chain up to date now (the
    chains it computed, by code): what a write that changes who is who (``tags import``,
    ``cluster``) calls, so the next read (a trace, a screening index build, a case) does
    not pay for it. A read that comes first computes it all the same."""
    from fundtrail.chains.reads import chain_stores

    done = []
    for store in chain_stores(home):
        if store.parts("clusters"):
            attribution(store, home=home)
            done.append(store.chain.code)
    return done


def _compute(
    store: ChainStore, tags: TagStore, viewer: Identity | None, intel: IntelStore | None
) -> pa.Table:
    with WorkSpace(store.root / "cache") as ws:  # arrays by address id: within the budget
        # the account chains' forwarders read a plain array (their ids are few: accounts)
        plain = None if ledger_for(store).shape == "utxo" else cluster_of(store)
        cluster = cluster_work(store, ws) if plain is None else in_ram(plain)
        parts = [tag_rows(store, cluster, tags)]
        if viewer is not None and intel is not None:
            parts.append(intel_rows(store, cluster, intel, viewer))
        direct = pa.concat_tables(parts)
        if len(cluster) and plain is None:
            direct = pa.concat_tables([direct, _behaviour(store, cluster, direct, ws)])
        elif plain is not None and len(plain):
            direct = pa.concat_tables([direct, _account_behaviour(store, plain, direct)])
    return direct


def _account_behaviour(store: ChainStore, cluster: np.ndarray, direct: pa.Table) -> pa.Table:
    """``hot_wallet`` and ``deposit_address`` rows from the stored forwarders (read now,
    against the services known now: see ``forwards``)."""
    fw = forwards.read_forwards(store, cluster)
    if not len(fw.address):
        return empty_rows()
    primary = Entities(direct)
    services, attributed = primary.ids[primary.service], primary.ids
    exchanges = np.array(sorted(c for c, e in primary.items() if e.category == "exchange"),
                         dtype=np.int64)  # fmt: skip
    found = forwards.find(store, cluster, fw, services, attributed, exchanges)
    named = {c: (e.label, e.category, e.confidence) for c, e in primary.items()}
    rows: list[dict[str, object]] = []
    for c, tx in zip(found.hot.tolist(), found.hot_tx, strict=True):
        label = f"unidentified service (cluster {c})"
        named[c] = (label, "service", forwards.HOT_WALLET_CONFIDENCE)
        rows.append(_row(c, label, "service",
                         "hot wallet: fed by many deposit addresses' forwards, pays many customers",
                         forwards.HOT_WALLET_CONFIDENCE, "hot_wallet", tx, None, None))  # fmt: skip
    idx = found.deposit
    if len(idx):
        want = distinct(fw.target[idx])
        con = store.connect()
        try:
            con.register("want_a", pa.table({"address_id": pa.array(want, pa.int64())}))
            names = dict(con.execute(
                "SELECT address_id, address FROM addresses SEMI JOIN want_a USING (address_id)"
            ).fetchall())  # fmt: skip
        finally:
            con.close()
    seen: set[tuple[int, int]] = set()
    for i in idx.tolist():
        d, s = int(fw.cluster[i]), int(fw.target_cluster[i])
        if (d, s) in seen:
            continue
        seen.add((d, s))
        label, category, conf = named[s]
        share = float(fw.share[i])
        rows.append(_row(d, label, category,
                         f"deposit_address: forwards {share:.1%} of what it receives to {label}",
                         forwards.deposit_confidence(conf), "deposit_address", fw.tx_hash[i],
                         names.get(int(fw.target[i])), s, 1))  # fmt: skip
    return pa.Table.from_pylist(rows, schema=ROWS) if rows else empty_rows()


def _behaviour(store: ChainStore, cluster: WorkArray, direct: pa.Table, ws: WorkSpace) -> pa.Table:
    """``hot_wallet`` and ``deposit_sweep`` rows, the chain read in tx ranges (see
    ``behaviour.find``): the whole chain is never in memory at once."""
    primary = Entities(direct)
    services, attributed = primary.ids[primary.service], primary.ids
    ranges = txchunks.tx_ranges(n_txs(store))
    marked = read_coinjoins(store)
    coinjoin = None if marked is None else np.sort(marked)
    # one entity's clusters share a key (its label): one exchange's hot addresses tagged apart
    entity_of = np.unique([primary[c].label.casefold() for c in attributed.tolist()],
                          return_inverse=True)[1].astype(np.int64)  # fmt: skip
    chunks = lambda: txchunks.iter_chunks(store, ranges, coinjoin)  # noqa: E731
    found = behaviour.find(chunks, cluster, services, attributed, ws, entity_of.reshape(-1),
                           _hot_groups(store, chunks, cluster, ws))  # fmt: skip
    if not len(found.hot) and not len(found.deposit):
        return empty_rows()
    txs = np.concatenate([found.hot_tx, found.sweep_tx])
    con = store.connect()
    try:
        con.register("want", pa.table({"tx_id": pa.array(txs, pa.int64())}))
        txid = dict(
            con.execute("SELECT tx_id, txid FROM txs SEMI JOIN want USING (tx_id)").fetchall()
        )
        # the service's address a sweep paid: its first output's
        con.register("sweep", pa.table({"tx_id": pa.array(found.sweep_tx, pa.int64())}))
        first_out = dict(con.execute(
            "SELECT tx_id, arg_min(address_id, n) FROM outputs SEMI JOIN sweep USING (tx_id) "
            "GROUP BY tx_id"
        ).fetchall())  # fmt: skip
        svc_addr = np.array([first_out[t] for t in found.sweep_tx.tolist()], dtype=np.int64)
        con.register("want_a", pa.table({"address_id": pa.array(svc_addr, pa.int64())}))
        names = dict(
            con.execute(
                "SELECT address_id, address FROM addresses SEMI JOIN want_a USING (address_id)"
            ).fetchall()
        )
    finally:
        con.close()
    named = {c: (e.label, e.category, e.confidence) for c, e in primary.items()}
    rows: list[dict[str, object]] = []
    group = found.hot if found.hot_group is None else found.hot_group
    for c, t, g in zip(found.hot.tolist(), found.hot_tx.tolist(), group.tolist(), strict=True):
        label = f"unidentified service (cluster {g})"  # hot addresses joined by change: one
        named[c] = (label, "service", behaviour.HOT_WALLET_CONFIDENCE)
        rows.append(_row(c, label, "service", "hot wallet: fed by sweeps, pays many customers",
                         behaviour.HOT_WALLET_CONFIDENCE, "hot_wallet",
                         txid.get(t), None, None))  # fmt: skip
    cols = (found.deposit.tolist(), found.service.tolist(), found.sweep_tx.tolist(),
            found.sweeps.tolist(), svc_addr.tolist())  # fmt: skip
    for d, s, t, n, a in zip(*cols, strict=True):
        label, category, conf = named[s]
        rows.append(_row(d, label, category, f"deposit_sweep into {label} ({n} sweep(s))",
                         behaviour.deposit_confidence(conf), "deposit_sweep",
                         txid.get(t), names.get(a), s, n))  # fmt: skip
    return pa.Table.from_pylist(rows, schema=ROWS)


def _hot_groups(
    store: ChainStore, chunks: behaviour.Chunks, cluster: WorkArray, ws: WorkSpace
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`hotchains.groups` of the store's current clusters, kept in ``cache/`` under
    the store's version: they do not depend on tags or intel, so a tag imported after
    clustering recomputes only the passes that read who is attributed (it saves two
    chain passes of five)."""
    key = f"{ALGORITHM}|{store.version}"  # in the store's own folder: its version names it
    path = store.root / "cache" / f"hotgroups-{hashlib.sha256(key.encode()).hexdigest()[:24]}.npz"
    try:
        with np.load(path) as got:
            return got["nodes"], got["reps"]
    except (OSError, ValueError, KeyError):
        pass  # absent or torn: computed again
    nodes, reps = hotchains.groups(chunks, cluster, ws)
    path.parent.mkdir(parents=True, exist_ok=True)
    for old in path.parent.glob("hotgroups-*.npz"):
        if ".tmp" not in old.name:  # another writer's file in flight is left to it
            old.unlink(missing_ok=True)  # one store version is read at a time
    tmp = path.with_suffix(f".{uuid.uuid4().hex[:12]}.tmp.npz")
    np.savez(tmp, nodes=nodes, reps=reps)
    tmp.replace(path)
    return nodes, reps


def _row(
    cluster: int, label: str, category: str, source: str, confidence: int, heuristic: str,
    tx: str | None, address: str | None, service: int | None, n: int = 0,
) -> dict[str, object]:  # fmt: skip
    return {"cluster_id": cluster, "label": label, "category": category, "source": source,
            "confidence": confidence, "heuristic": heuristic, "abuse": None, "actor": None,
            "n_tags": n, "definer": False, "evidence_tx": tx, "evidence_address": address,
            "service_cluster": service}  # fmt: skip


def _rank(r: dict[str, object]) -> tuple[object, ...]:
    """Direct knowledge before behaviour; then cluster definer, confidence, tags, label
    (:func:`_ranked`'s order, for sorting rows of several clusters)."""
    return (r["heuristic"] in BEHAVIOUR, not r["definer"], -int(r["confidence"] or 0),  # type: ignore[call-overload]
            -int(r["n_tags"] or 0), str(r["label"] or ""))  # type: ignore[call-overload]  # fmt: skip


def _ranked(rows: pa.Table) -> pa.Table:
    """``rows`` by cluster, each cluster's in :func:`_rank`'s order (stable: ties keep
    the rows' order), sorted by Arrow: no Python object per row."""
    keys = pa.table({
        "cluster_id": rows.column("cluster_id"),
        "behaviour": pc.fill_null(pc.is_in(rows.column("heuristic"), pa.array(BEHAVIOUR)), False),
        "definer": pc.fill_null(rows.column("definer"), False),
        "confidence": pc.fill_null(rows.column("confidence"), 0),
        "n_tags": pc.fill_null(rows.column("n_tags"), 0),
        "label": pc.fill_null(rows.column("label"), ""),
    })  # fmt: skip
    order = pc.sort_indices(keys, sort_keys=[
        ("cluster_id", "ascending"), ("behaviour", "ascending"), ("definer", "descending"),
        ("confidence", "descending"), ("n_tags", "descending"), ("label", "ascending"),
    ])  # fmt: skip
    return rows.take(order)


class Entities(Mapping[int, Entity]):
    """The primary entity of every attributed cluster, an :class:`Entity` built when one
    is asked for. Why: a whole chain's attribution is hundreds of thousands of clusters
    (50M background txs: the deposit clusters of every exchange customer), and a Python
    object per row and per entity, built by every command that read the attribution,
    made a trace's peak memory grow with the chain (782 MB at 5M txs, 1,165 MB at 50M).
    The masks every trace needs (services, deposits) come from the ranked columns."""

    def __init__(self, rows: pa.Table) -> None:
        self._rows = _ranked(rows)
        cid = self._rows.column("cluster_id").to_numpy().astype(np.int64)
        new = np.ones(len(cid), dtype=bool)
        new[1:] = cid[1:] != cid[:-1]
        self._starts = np.flatnonzero(new)
        self._ends = np.append(self._starts[1:], len(cid)).astype(np.int64)
        self.ids = cid[self._starts]  # sorted attributed clusters
        top = self._rows.take(pa.array(self._starts, pa.int64()))
        category = pc.utf8_lower(pc.fill_null(top.column("category"), "other"))
        self.service = pc.is_in(category, pa.array(sorted(STOP_CATEGORIES))).to_numpy(
            zero_copy_only=False
        )
        self.deposit = pc.fill_null(
            pc.is_in(top.column("heuristic"), pa.array(sorted(DEPOSIT_HEURISTICS))), False
        ).to_numpy(zero_copy_only=False)

    def _at(self, cluster_id: int) -> int:
        i = int(np.searchsorted(self.ids, cluster_id))
        if i >= len(self.ids) or self.ids[i] != cluster_id:
            return -1
        return i

    def rows_of(self, cluster_id: int) -> list[dict[str, object]]:
        """A cluster's attribution rows, ranked (the primary first); [] when it has none."""
        i = self._at(int(cluster_id))
        if i < 0:
            return []
        lo, hi = int(self._starts[i]), int(self._ends[i])
        return self._rows.slice(lo, hi - lo).to_pylist()

    def all(self) -> Iterator[Entity]:
        """Every entity, in cluster order, its rows read a batch of groups at a time: one
        slice per entity (what ``values()`` does) cost 38 us each, 27 s for the 700,000
        entities of a 50M-tx chain; a batch costs a few us per row, in bounded memory."""
        g = 0
        while g < len(self.ids):
            lo = int(self._starts[g])
            last = int(np.searchsorted(self._ends, lo + ALL_BATCH, side="right")) - 1
            last = max(last, g)  # a group bigger than a batch comes whole
            hi = int(self._ends[last])
            rows = self._rows.slice(lo, hi - lo).to_pylist()
            for i in range(g, last + 1):
                a, b = int(self._starts[i]) - lo, int(self._ends[i]) - lo
                yield _entity(int(self.ids[i]), rows[a:b])
            g = last + 1

    def __getitem__(self, cluster_id: int) -> Entity:
        group = self.rows_of(cluster_id)
        if not group:
            raise KeyError(cluster_id)
        return _entity(int(cluster_id), group)

    def __iter__(self) -> Iterator[int]:
        return iter(self.ids.tolist())

    def __len__(self) -> int:
        return len(self.ids)

    def __contains__(self, cluster_id: object) -> bool:
        return isinstance(cluster_id, (int, np.integer)) and self._at(int(cluster_id)) >= 0


def _entity(cid: int, group: list[dict[str, object]]) -> Entity:
    """The primary of one cluster's ranked rows (the first), naming the others' labels."""
    top = group[0]
    others = tuple(dict.fromkeys(str(r["label"]) for r in group[1:] if r["label"] != top["label"]))
    return Entity(
        cluster_id=cid,
        label=str(top["label"] or ""),
        category=str(top["category"] or "other").lower(),
        source=str(top["source"] or ""),
        confidence=int(top["confidence"] or 0),  # type: ignore[call-overload]
        heuristic=str(top["heuristic"]),
        abuse=top["abuse"],  # type: ignore[arg-type]
        actor=top["actor"],  # type: ignore[arg-type]
        n_tags=int(top["n_tags"] or 0),  # type: ignore[call-overload]
        conflict=bool(others),
        other_labels=others,
        evidence_tx=top["evidence_tx"],  # type: ignore[arg-type]
        evidence_address=top["evidence_address"],  # type: ignore[arg-type]
        service_cluster=top["service_cluster"],  # type: ignore[arg-type]
    )


def _read(path: Path) -> pa.Table | None:
    try:
        return pq.read_table(path).cast(ROWS) if path.exists() else None
    except (OSError, ValueError, pa.ArrowInvalid):
        return None  # a torn cache file is recomputed


def _write(path: Path, rows: pa.Table) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    for old in sorted(path.parent.glob("attribution-*.parquet"), key=lambda p: p.stat().st_mtime)[
        :-_KEEP
    ]:
        old.unlink(missing_ok=True)
    tmp = path.with_suffix(f".{threading.get_ident()}.tmp")
    pq.write_table(rows, tmp)
    tmp.replace(path)


__all__ = ["STOP_CATEGORIES", "Attribution", "attribution"]
