"""A UTXO trace end to end: starting points -> kernel walk -> endpoints, graph, summary."""

from __future__ import annotations

import duckdb
import numpy as np
import pyarrow as pa

from fundtrail.analysis.attribution import Attribution
from fundtrail.analysis.trace import result as res
from fundtrail.analysis.trace.fifo import FifoWalk, fifo_backward, fifo_forward
from fundtrail.analysis.trace.graph import UtxoGraph, utxo_graph
from fundtrail.analysis.trace.request import TraceRequest
from fundtrail.analysis.trace.result import Candidates, Edge, Endpoint, Node, TraceResult
from fundtrail.analysis.trace.starts import (
    AddressStart,
    TxStart,
    address_not_found,
    index_not_found,
    resolve,
    tx_not_found,
)
from fundtrail.analysis.trace.stops import (
    BURNED,
    COINJOIN,
    ENDINGS,
    KIND_NAMES,
    NONE,
)
from fundtrail.analysis.trace.walk import FAR, HAIRCUT, POISON, Walk, walk_kernel
from fundtrail.arrays import distinct
from fundtrail.chainstore.store import ChainStore


class UtxoFinder:
    """Start items (output indices) of a UTXO graph: the ``starts.Finder`` of UTXO chains."""

    def __init__(self, g: UtxoGraph, con: duckdb.DuckDBPyConnection) -> None:
        self.g, self.con = g, con

    def tx_items(self, starts: list[TxStart]) -> dict[TxStart, list[int]]:
        wanted = sorted({s.txid for s in starts})
        self.con.register("want_txids", pa.table({"txid": pa.array(wanted, pa.string())}))
        rows = self.con.execute(
            "SELECT txid, tx_id FROM txs SEMI JOIN want_txids USING (txid)"
        ).fetchall()
        tx_ids = {str(t): int(i) for t, i in rows}
        out: dict[TxStart, list[int]] = {}
        for s in starts:
            if s.txid not in tx_ids:
                raise tx_not_found(s)
            pos = int(self.g.position(np.array([tx_ids[s.txid]]))[0])
            if s.index is None:
                out[s] = list(range(int(self.g.out_ptr[pos]), int(self.g.out_ptr[pos + 1])))
                continue
            o = self.g.output_index(pos, s.index)
            if o < 0:
                raise index_not_found(s)
            out[s] = [o]
        return out

    def address_items(self, start: AddressStart, since: int | None, until: int | None) -> list[int]:
        rows = self.con.execute(
            "SELECT address_id FROM addresses WHERE address = ?", [start.address]
        ).fetchall()
        if not rows:
            raise address_not_found(start)
        g = self.g
        outs = np.flatnonzero(g.out_addr == int(rows[0][0]))
        times = g.tx_time[g.out_tx[outs]]
        lo = since if since is not None else -FAR
        hi = until if until is not None else FAR
        return [int(o) for o in outs[(times >= lo) & (times <= hi)]]

    def item_value(self, item: int) -> int:
        return int(self.g.out_val[item])


def walk(
    g: UtxoGraph, starts: dict[int, int], request: TraceRequest, addr_stop: np.ndarray
) -> Walk:
    """Run the request's method in its direction from the start outputs.

    ``addr_stop`` marks the addresses whose cluster ends the walk (``Attribution.stop_mask``).
    """
    forward = request.direction == "forward"
    bound = request.until if forward else request.since
    t_limit = int(bound) if bound is not None else (FAR if forward else -FAR)
    if request.method == "fifo":
        iv = {o: [(0, a)] for o, a in starts.items()}
        if forward:
            fw = fifo_forward(g, addr_stop, iv, max_hops=request.hops, until=t_limit)
        else:
            fw = fifo_backward(g, addr_stop, iv, max_hops=request.hops, since=t_limit)
        return _from_fifo(g, fw)
    start_o = np.fromiter(starts.keys(), dtype=np.int64, count=len(starts))
    start_amt = np.fromiter(starts.values(), dtype=np.int64, count=len(starts))
    return walk_kernel(
        g.kernel_arrays(), g.addr_cluster, addr_stop, start_o, start_amt,
        HAIRCUT if request.method == "haircut" else POISON, forward, request.hops, t_limit,
    )  # fmt: skip


def _from_fifo(g: UtxoGraph, fw: FifoWalk) -> Walk:
    """The FIFO walk's outputs in the kernel's arrays (zeros, written where reached)."""
    n = len(g.out_val)
    taint = np.zeros(n, dtype=np.int64)
    hop = np.zeros(n, dtype=np.int32)
    status = np.zeros(n, dtype=np.int8)
    src = np.zeros(n, dtype=np.int64)
    for o, s in fw.status.items():
        taint[o], hop[o], status[o], src[o] = fw.amount(o), fw.hop[o], s, fw.src.get(o, -1)
    reached = np.array(sorted(fw.status), dtype=np.int64)
    return Walk(taint, hop, status, src, fw.lost, fw.visited, reached)


_KIND_CODE = np.full(8, -1, dtype=np.int64)
_KIND_CODE[list(ENDINGS)] = np.arange(len(ENDINGS))  # ENDINGS in the order of result.kinds


def build_result(
    store: ChainStore,
    con: duckdb.DuckDBPyConnection,
    g: UtxoGraph,
    w: Walk,
    starts: dict[int, int],
    request: TraceRequest,
    att: Attribution,
) -> TraceResult:
    """Endpoints (the deposit address of a cash-out is where the money entered the
    service or its deposit cluster), dispersed totals, the flow graph and the summary."""
    asset = store.chain.native_asset
    direction = request.direction
    forward = direction == "forward"
    r = w.reached  # the walk's arrays are read there only (see ``Walk``)
    r_status, r_taint = w.status[r], w.taint[r]
    ends = r[np.isin(r_status, ENDINGS) & (r_taint > 0)]
    place = end_addr = g.out_addr[ends]
    clusters = np.where(end_addr >= 0, g.addr_cluster[np.maximum(end_addr, 0)], -1)
    uc, label_of = np.unique(clusters, return_inverse=True)
    ents = [att.entity(c) if c >= 0 else None for c in uc.tolist()]
    labels = sorted({e.label for e in ents if e is not None})
    code = {lab: i for i, lab in enumerate(labels)}
    label_code = np.array([code[e.label] if e else -1 for e in ents], dtype=np.int64)
    start_amount = int(sum(starts.values()))
    kind = _KIND_CODE[w.status[ends]]
    rows = Candidates(
        kind=kind,
        asset=np.zeros(len(ends), dtype=np.int64),
        place=place,
        label=label_code[label_of] if len(ends) else np.zeros(0, np.int64),
        amount=w.taint[ends],
        # the full value of each end output: how much of those payments was traced money
        received=g.out_val[ends] if forward and request.method != "poison" else None,
    )
    names = res.kinds(direction)
    listed, dispersed = res.size_for_people(
        rows, {0: request.floor(start_amount)}, names, labels, [asset]
    )
    chosen = ends[listed]
    tx_of = np.where(
        (w.status[chosen] == COINJOIN) & forward, g.out_spent[chosen], g.out_tx[chosen]
    )
    txids, addresses = _names(con, g, tx_of, np.concatenate([g.out_addr[chosen], place[listed]]))
    endpoints = []
    paid = g.out_val[chosen].tolist() if rows.received is not None else [None] * len(chosen)
    cols = zip(listed, g.out_addr[chosen].tolist(), tx_of.tolist(),
               w.taint[chosen].tolist(), w.hop[chosen].tolist(), g.tx_time[tx_of].tolist(),
               paid, strict=True)  # fmt: skip
    for i, a, tx, amount, hops, time, payment in cols:
        kind = names[int(rows.kind[i])]
        cid = int(g.addr_cluster[a]) if a >= 0 else None
        ent = att.entity(cid)
        endpoints.append(
            Endpoint(
                address=addresses.get(a),
                deposit_address=addresses.get(int(place[i])) if kind == "cash-out" else None,
                cluster_id=cid,
                entity=ent.brief() if ent else None,
                kind=kind,
                amount=amount,
                asset=asset,
                txid=txids.get(tx),
                time=time,
                hops=hops,
                payment=payment,
            )
        )
    nodes, edges = _flow_graph(g, w, starts, chosen, forward, asset, att)
    totals = {KIND_NAMES[direction][k]: int(r_taint[r_status == k].sum()) for k in ENDINGS}
    totals["burned"] = int(r_taint[r_status == BURNED].sum())
    totals["fee" if forward else "unresolved"] = int(w.lost)
    spent = g.out_spent[r[r_status != NONE]]
    spent = distinct(spent[spent >= 0])
    summary = {
        "chain": store.chain.code,
        "direction": direction,
        "method": request.method,
        "starts": len(starts),
        "start_amount": {asset: start_amount},
        "totals": {asset: totals},
        "endpoints": len(endpoints),
        "listing_floor": {asset: request.floor(start_amount)},
        # below the floor, a cash-out or held place this much traced money is listed too
        "listing_pure_share": res.PURE_SHARE if rows.received is not None else None,
        "txs_visited": int(w.visited),
        "coinjoin_txs": int(np.count_nonzero(g.coinjoin[spent])),
        "amounts": "poisoned output values (may exceed the start)"
        if request.method == "poison"
        else "taint shares (sum to the start)",
    }
    return TraceResult(endpoints, nodes, edges, summary, dispersed)


def _names(
    con: duckdb.DuckDBPyConnection, g: UtxoGraph, tx_pos: np.ndarray, addr_ids: np.ndarray
) -> tuple[dict[int, str], dict[int, str]]:
    tx_pos = distinct(tx_pos[tx_pos >= 0])
    ids = g.tx_ids[tx_pos]
    con.register("want_tx", pa.table({"tx_id": pa.array(ids, pa.int64())}))
    con.register(
        "want_addr",
        pa.table({"address_id": pa.array(distinct(addr_ids[addr_ids >= 0]), pa.int64())}),
    )
    rows = con.execute("SELECT tx_id, txid FROM txs SEMI JOIN want_tx USING (tx_id)").fetchall()
    by_id = {int(i): str(t) for i, t in rows}
    txids = {int(p): by_id[int(i)] for p, i in zip(tx_pos, ids, strict=True) if int(i) in by_id}
    rows = con.execute(
        "SELECT address_id, address FROM addresses SEMI JOIN want_addr USING (address_id)"
    ).fetchall()
    return txids, {int(i): str(a) for i, a in rows}


def _on_paths(w: Walk, chosen: np.ndarray) -> np.ndarray:
    """Every output on the way from a start to a listed endpoint (following ``src``);
    the mask's pages are written on those paths only."""
    mark = np.zeros(len(w.src), dtype=bool)
    frontier = distinct(chosen)
    while len(frontier):
        mark[frontier] = True
        frontier = distinct(w.src[frontier])
        frontier = frontier[frontier >= 0]
        frontier = frontier[~mark[frontier]]
    return mark


def _flow_graph(
    g: UtxoGraph,
    w: Walk,
    starts: dict[int, int],
    chosen: np.ndarray,
    forward: bool,
    asset: str,
    att: Attribution,
) -> tuple[list[Node], list[Edge]]:
    """Cluster-level flows between the clusters on the listed endpoints' paths.

    Every tainted output links its src's cluster to its own; only clusters on the way
    from a start to a listed endpoint are drawn (dispersed slivers would bury the path).
    """
    on_path = _on_paths(w, chosen)
    keep_c = distinct(g.addr_cluster[np.maximum(g.out_addr[on_path], 0)][g.out_addr[on_path] >= 0])
    r = w.reached
    moved = r[(w.src[r] >= 0) & (w.taint[r] > 0) & (g.out_addr[r] >= 0)]
    there_addr = g.out_addr[w.src[moved]]
    moved, there_addr = moved[there_addr >= 0], there_addr[there_addr >= 0]
    here, there = g.addr_cluster[g.out_addr[moved]], g.addr_cluster[there_addr]
    src_c, dst_c = (there, here) if forward else (here, there)
    keep = (src_c != dst_c) & np.isin(src_c, keep_c) & np.isin(dst_c, keep_c)
    src_c, dst_c, amt, tx = src_c[keep], dst_c[keep], w.taint[moved[keep]], g.out_tx[moved[keep]]
    edges: list[Edge] = []
    if len(src_c):
        base = int(max(src_c.max(), dst_c.max())) + 1
        keys, inv = np.unique(src_c * base + dst_c, return_inverse=True)
        uniq = np.stack([keys // base, keys % base], axis=1)
        sums = np.zeros(len(uniq), dtype=np.int64)  # exact: taints sum to at most the start
        np.add.at(sums, inv, amt)
        pair_tx = distinct(inv.astype(np.int64) * (int(tx.max()) + 1) + tx)
        tx_counts = np.bincount(pair_tx // (int(tx.max()) + 1), minlength=len(uniq))
        first = np.full(len(uniq), np.iinfo(np.int64).max, dtype=np.int64)
        np.minimum.at(first, inv, g.tx_time[tx].astype(np.int64))
        cols = (uniq[:, 0].tolist(), uniq[:, 1].tolist(), sums.tolist(), tx_counts.tolist(),
                first.tolist())  # fmt: skip
        edges = [Edge(s, d, v, asset, c, t) for s, d, v, c, t in zip(*cols, strict=True)]
    return _nodes(g, w, starts, chosen, edges, forward, att), edges


def _nodes(
    g: UtxoGraph,
    w: Walk,
    starts: dict[int, int],
    ends: np.ndarray,
    edges: list[Edge],
    forward: bool,
    att: Attribution,
) -> list[Node]:
    """One node per drawn cluster; its role is the strongest it plays."""
    roles = ("start", *res.kinds("forward" if forward else "backward"), "transit")
    rank = np.full(8, len(roles) - 1, dtype=np.int64)
    rank[list(ENDINGS)] = np.arange(1, len(ENDINGS) + 1)
    start_o = np.fromiter(starts, dtype=np.int64, count=len(starts))
    start_amt = np.fromiter(starts.values(), dtype=np.int64, count=len(starts))
    start_c = g.addr_cluster[np.maximum(g.out_addr[start_o], 0)]
    ends = ends[g.out_addr[ends] >= 0]
    e_src = np.array([e.source for e in edges], dtype=np.int64)
    e_dst = np.array([e.target for e in edges], dtype=np.int64)
    e_amt = np.array([e.amount for e in edges], dtype=np.int64)
    clusters = np.concatenate([start_c, g.addr_cluster[g.out_addr[ends]], e_src, e_dst])
    ranks = np.concatenate(
        [np.zeros(len(start_c), np.int64), rank[w.status[ends]],
         np.full(2 * len(edges), len(roles) - 1, np.int64)]
    )  # fmt: skip
    uc, inv = np.unique(clusters, return_inverse=True)
    best = np.full(len(uc), len(roles) - 1, dtype=np.int64)
    np.minimum.at(best, inv, ranks)
    received = np.zeros(len(uc), dtype=np.int64)
    np.add.at(received, np.searchsorted(uc, start_c), start_amt)
    into = np.searchsorted(uc, e_dst)
    not_start = best[into] != 0
    np.add.at(received, into[not_start], e_amt[not_start])
    touched = w.reached[w.taint[w.reached] > 0]
    touched = touched[g.out_addr[touched] >= 0]
    addr = distinct(g.out_addr[touched])
    addr_c = g.addr_cluster[addr]
    addr_c = addr_c[np.isin(addr_c, uc)]
    per_cluster = np.bincount(np.searchsorted(uc, addr_c), minlength=len(uc))
    n_starts = np.bincount(np.searchsorted(uc, start_c), minlength=len(uc))
    first = np.full(len(uc), np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(
        first, np.searchsorted(uc, start_c), g.tx_time[g.out_tx[start_o]].astype(np.int64)
    )
    e_time = np.array([e.first_time or 0 for e in edges], dtype=np.int64)
    np.minimum.at(first, into[not_start], e_time[not_start])
    nodes = []
    order = np.lexsort((uc, best))
    cols = (
        uc[order].tolist(), best[order].tolist(), received[order].tolist(),
        per_cluster[order].tolist(), first[order].tolist(), n_starts[order].tolist(),
    )  # fmt: skip
    for c, role, amount, n_addr, t, k in zip(*cols, strict=True):
        ent = att.entity(c)
        label, category = (ent.label, ent.category) if ent else (None, None)
        t_first = None if t == np.iinfo(np.int64).max else int(t)
        nodes.append(Node(c, label, category, roles[role], amount, n_addr, t_first, int(k)))
    return nodes


def trace_utxo(store: ChainStore, request: TraceRequest, att: Attribution) -> TraceResult:
    """The UTXO ledgers' trace kernel (``Ledger.trace_kernel``): starts -> walk -> result."""
    g = utxo_graph(store)
    con = g.cursor()
    try:
        found = resolve(request, store.chain.code, UtxoFinder(g, con))
        w = walk(g, found, request, att.stop_mask(g.addr_cluster))
        return build_result(store, con, g, w, found, request, att)
    finally:
        con.close()
