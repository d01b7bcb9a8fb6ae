"""Reading clusters back: ``show`` (one address's cluster) and ``why`` (the evidence path).

``why`` walks the stored evidence forest (``cluster_edges``: only edges that joined two
clusters, so at most one path exists between two members) with scipy's breadth-first
search over just that cluster's edges, then names every hop's transaction and heuristic.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import breadth_first_order

from fundtrail.analysis.attribution import Attribution, attribution
from fundtrail.analysis.cluster.service import cluster_of
from fundtrail.chains.ledger import ledger_for
from fundtrail.chainstore.store import ChainStore
from fundtrail.chainstore.tags import TagStore, normalize_address
from fundtrail.errors import NotFoundError
from fundtrail.model.identity import Identity

PAGE_SIZE = 100


def address_id(store: ChainStore, address: str) -> tuple[int, str]:
    """(address_id, normalised text) of ``address``; NotFoundError if the chain never saw it."""
    norm = normalize_address(store.chain.code, address)
    con = store.connect()
    try:
        rows = con.sql(
            "SELECT address_id FROM addresses WHERE address = $a", params={"a": norm}
        ).fetchall()
    finally:
        con.close()
    if not rows:
        raise NotFoundError(
            f"address {address} does not occur on {store.chain.code} in this workspace"
        )
    return int(rows[0][0]), norm


def _require_clusters(store: ChainStore) -> None:
    if not store.parts("clusters"):
        raise NotFoundError(
            f"no clusters for {store.chain.code} yet; run `fundtrail cluster` first"
        )


def show(
    store: ChainStore,
    address: str,
    *,
    page: int = 1,
    home: Any = None,
    viewer: Identity | None = None,
) -> dict[str, Any]:
    """The cluster of ``address``: id, size, balance, activity, entity, tags, members (paged).

    The entity is read now from the current tags, the intel ``viewer`` may see and the
    chain's behaviour (``analysis.attribution``), whatever ran before.
    """
    _require_clusters(store)
    aid, norm = address_id(store, address)
    cid = int(cluster_of(store)[aid])
    page = max(page, 1)
    con = store.connect()
    try:
        params = {"c": cid, "lim": PAGE_SIZE, "off": (page - 1) * PAGE_SIZE}
        stats = con.sql("SELECT * FROM cluster_stats WHERE cluster_id = $c", params={"c": cid})
        srow = stats.to_arrow_table().to_pylist()
        members = con.sql(
            "SELECT a.address FROM clusters c JOIN addresses a USING (address_id) "
            "WHERE c.cluster_id = $c ORDER BY c.address_id LIMIT $lim OFFSET $off",
            params=params,
        ).fetchall()
        all_members = con.sql(
            "SELECT a.address FROM clusters c JOIN addresses a USING (address_id) "
            "WHERE c.cluster_id = $c",
            params={"c": cid},
        ).to_arrow_table()
    finally:
        con.close()
    att = attribution(store, home=home, viewer=viewer)
    entity = att.entity(cid)
    s = srow[0] if srow else {}
    size = int(s.get("size") or all_members.num_rows)
    tags = TagStore(home).lookup_stored(store.chain.code, all_members.column("address"))
    return {
        "chain": store.chain.code,
        "address": norm,
        "cluster_id": cid,
        "size": size,
        "balance": int(s["balance"]) if s.get("balance") is not None else None,
        "first_seen": s.get("first_seen"),
        "last_seen": s.get("last_seen"),
        "in_degree": s.get("in_degree"),
        "out_degree": s.get("out_degree"),
        "entity": entity.to_dict() if entity else None,
        "labels": [_label(r) for r in att.labels(cid)],
        "tags": [t.to_dict() for t in tags],
        "page": page,
        "pages": max(1, -(-size // PAGE_SIZE)),
        "addresses": [r[0] for r in members],
    }


def _label(row: dict[str, Any]) -> dict[str, Any]:
    keep = ("label", "category", "source", "confidence", "heuristic", "abuse", "actor", "n_tags",
            "is_primary", "conflict", "evidence_tx", "evidence_address")  # fmt: skip
    return {k: row.get(k) for k in keep}


def why(
    store: ChainStore,
    address_a: str,
    address_b: str,
    *,
    home: Any = None,
    viewer: Identity | None = None,
) -> dict[str, Any]:
    """The chain of evidence (tx, heuristic per hop) joining two addresses, or why not.

    Two addresses in different clusters may still belong to one service: a deposit
    cluster swept into the service's wallet. Then ``attribution`` gives that evidence
    (``deposit_sweep``, the sweep tx and the service address it paid).
    """
    _require_clusters(store)
    a, na = address_id(store, address_a)
    b, nb = address_id(store, address_b)
    cl = cluster_of(store)
    out: dict[str, Any] = {
        "chain": store.chain.code,
        "a": na,
        "b": nb,
        "cluster_a": int(cl[a]),
        "cluster_b": int(cl[b]),
    }
    if cl[a] != cl[b]:
        att = attribution(store, home=home, viewer=viewer)
        return {**out, "together": False, "path": [],
                "attribution": _same_service(att, int(cl[a]), int(cl[b]))}  # fmt: skip
    if a == b:
        return {**out, "together": True, "path": []}
    con = store.connect()
    try:
        con.register("members", pa.table({"address_id": np.flatnonzero(cl == cl[a])}))
        edges = con.sql(
            "SELECT e.address_id_a, e.address_id_b, e.tx_id, coalesce(e.tx_hash, t.txid) AS tx, "
            "e.heuristic FROM cluster_edges e SEMI JOIN members m ON m.address_id = e.address_id_a "
            "LEFT JOIN txs t ON t.tx_id = e.tx_id"
            if ledger_for(store).shape == "utxo"
            else "SELECT e.address_id_a, e.address_id_b, e.tx_id, e.tx_hash AS tx, e.heuristic "
            "FROM cluster_edges e SEMI JOIN members m ON m.address_id = e.address_id_a"
        ).to_arrow_table()
        path = _path(edges, a, b)
        ids = sorted({x for hop in path for x in (hop[0], hop[1])})
        con.register("ids", pa.table({"address_id": pa.array(ids, pa.int64())}))
        names = dict(
            con.sql(
                "SELECT address_id, address FROM addresses SEMI JOIN ids USING (address_id)"
            ).fetchall()
        )
    finally:
        con.close()
    if not path:
        return {**out, "together": True, "path": [], "note": "evidence not recorded for this run"}
    return {**out, "together": True, "path": _compact(path, names)}


def _same_service(att: Attribution, ca: int, cb: int) -> dict[str, Any] | None:
    """How attribution puts two clusters in one service (a deposit cluster and its
    service, or two deposit clusters of one service), or None."""
    ea, eb = att.entity(ca), att.entity(cb)
    service = {c: (e.service_cluster if e and e.service_cluster is not None else c)
               for c, e in ((ca, ea), (cb, eb))}  # fmt: skip
    if ea is None or eb is None or service[ca] != service[cb]:
        return None
    hops = [e.to_dict() for e in (ea, eb) if e.service_cluster is not None]
    if not hops:
        return None
    owner = att.entity(service[ca])
    return {"service": owner.to_dict() if owner else None, "evidence": hops}


def _compact(path: list[tuple[int, int, str, str]], names: dict[int, str]) -> list[dict[str, Any]]:
    """One hop per piece of evidence: star edges of one tx (A - rep - B) become A - B."""
    hops: list[dict[str, Any]] = []
    for u, v, tx, h in path:
        if hops and hops[-1]["tx"] == tx and hops[-1]["heuristic"] == h:
            hops[-1]["to"] = names[v]
            hops[-1]["via"].append(names[u])
        else:
            hops.append({"from": names[u], "to": names[v], "tx": tx, "heuristic": h, "via": []})
    return hops


def _path(edges: pa.Table, a: int, b: int) -> list[tuple[int, int, str, str]]:
    """Hops from a to b through the evidence forest (empty if no stored path)."""
    if not edges.num_rows:
        return []
    ea = edges.column("address_id_a").to_numpy()
    eb = edges.column("address_id_b").to_numpy()
    nodes, inv = np.unique(np.concatenate([ea, eb, [a, b]]), return_inverse=True)
    m = ea.shape[0]
    u, v = inv[:m], inv[m : 2 * m]
    ia, ib = int(inv[2 * m]), int(inv[2 * m + 1])
    graph = coo_matrix((np.arange(1, m + 1), (u, v)), shape=(nodes.size, nodes.size)).tocsr()
    _, pred = breadth_first_order(graph + graph.T, ia, directed=False, return_predecessors=True)
    if ib != ia and pred[ib] < 0:
        return []
    lookup = {(int(x), int(y)): i for i, (x, y) in enumerate(zip(u, v, strict=True))}
    txs = edges.column("tx").to_pylist()
    heur = edges.column("heuristic").to_pylist()
    hops: list[tuple[int, int, str, str]] = []
    node = ib
    while node != ia:
        prev = int(pred[node])
        i = lookup.get((prev, node), lookup.get((node, prev)))
        assert i is not None
        hops.append((int(nodes[prev]), int(nodes[node]), txs[i], heur[i]))
        node = prev
    return hops[::-1]
