"""A UTXO trace end to end: starting points -> kernel walk -> endpoints, graph, summary."""

from __future__ import annotations

import re
from dataclasses import dataclass

import duckdb
import numpy as np
import pyarrow as pa

from fundtrail.analysis.trace.fifo import FifoWalk, fifo_backward, fifo_forward
from fundtrail.analysis.trace.graph import UtxoGraph
from fundtrail.analysis.trace.result import Edge, Endpoint, Node, TraceResult
from fundtrail.analysis.trace.stops import (
    BURNED,
    CASH_OUT,
    COINJOIN,
    HELD,
    KIND_NAMES,
    LIMIT,
    NONE,
    pays_outside,
)
from fundtrail.analysis.trace.walk import HAIRCUT, POISON, backward_kernel, forward_kernel
from fundtrail.chainstore.store import ChainStore
from fundtrail.errors import InvalidInputError, NotFoundError
from fundtrail.model.addresses import parse_address

HEX64 = re.compile(r"^(0x)?[0-9a-fA-F]{64}$")
FAR_FUTURE = 2**62


@dataclass
class Walk:
    """Per-output arrays of a finished walk, the same for every method."""

    taint: np.ndarray
    hop: np.ndarray
    status: np.ndarray
    src: np.ndarray
    lost: int
    visited: int


def resolve_starts(
    store: ChainStore,
    con: duckdb.DuckDBPyConnection,
    g: UtxoGraph,
    starts: list[str],
    *,
    since: int | None,
    until: int | None,
    amounts: dict[str, int] | None = None,
) -> dict[int, int]:
    """Output index -> starting taint for TXID:VOUT, TXID (all outputs) or ADDR starts."""
    parsed = [(text, *text.strip().partition(":")[::2]) for text in starts]
    wanted = sorted({t.lower().removeprefix("0x") for _, t, _ in parsed if HEX64.match(t)})
    con.register("want_txids", pa.table({"txid": pa.array(wanted, pa.string())}))
    rows = con.execute("SELECT txid, tx_id FROM txs SEMI JOIN want_txids USING (txid)").fetchall()
    tx_ids = {str(t): int(i) for t, i in rows}
    found: dict[int, int] = {}
    for text, head, vout in parsed:
        if HEX64.match(head):
            outs = _tx_outputs(g, tx_ids, head.lower().removeprefix("0x"), vout, text)
        else:
            outs = _address_outputs(con, g, text.strip(), store.chain.code, since, until)
        cap = (amounts or {}).get(text) or None
        for o in outs:
            value = int(g.out_val[o])
            amount = value if cap is None else min(value, int(cap))
            found[o] = max(found.get(o, 0), amount)
    return found


def _tx_outputs(g: UtxoGraph, tx_ids: dict[str, int], txid: str, vout: str, text: str) -> list[int]:
    if txid not in tx_ids:
        raise NotFoundError(f"tx {txid} is not in the chain store (start {text!r})", field="from")
    pos = int(g.position(np.array([tx_ids[txid]]))[0])
    if vout == "":
        return list(range(int(g.out_ptr[pos]), int(g.out_ptr[pos + 1])))
    if not vout.isdigit():
        raise InvalidInputError(
            f"output index {vout!r} of start {text!r} is not a number", field="from"
        )
    o = g.output_index(pos, int(vout))
    if o < 0:
        raise NotFoundError(f"tx {txid} has no output {vout} (start {text!r})", field="from")
    return [o]


def _address_outputs(
    con: object, g: UtxoGraph, address: str, chain: str, since: int | None, until: int | None
) -> list[int]:
    try:
        address = parse_address(address, chain).value
    except InvalidInputError as exc:
        raise InvalidInputError(
            f"start {address!r} is neither TXID:VOUT nor a valid address: {exc}", field="from"
        ) from exc
    rows = con.execute("SELECT address_id FROM addresses WHERE address = ?", [address]).fetchall()  # type: ignore[attr-defined]
    row = rows[0] if rows else None
    if row is None:
        raise NotFoundError(
            f"{address!r} is neither TXID:VOUT nor an address seen on this chain", field="from"
        )
    outs = np.flatnonzero(g.out_addr == int(row[0]))
    times = g.tx_time[g.out_tx[outs]]
    keep = (times >= (since if since is not None else -FAR_FUTURE)) & (
        times <= (until if until is not None else FAR_FUTURE)
    )
    return [int(o) for o in outs[keep]]


def walk(
    g: UtxoGraph,
    starts: dict[int, int],
    *,
    direction: str,
    method: str,
    hops: int,
    min_amount: int,
    since: int | None,
    until: int | None,
) -> Walk:
    """Run one method in one direction from the start outputs."""
    lo_t = since if since is not None else -FAR_FUTURE
    hi_t = until if until is not None else FAR_FUTURE
    if method == "fifo":
        iv = {o: [(0, a)] for o, a in starts.items()}
        if direction == "forward":
            fw = fifo_forward(g, iv, max_hops=hops, min_amount=min_amount, until=hi_t)
        else:
            fw = fifo_backward(g, iv, max_hops=hops, min_amount=min_amount, since=lo_t)
        return _from_fifo(g, fw)
    code = HAIRCUT if method == "haircut" else POISON
    start_o = np.fromiter(starts.keys(), dtype=np.int64, count=len(starts))
    start_amt = np.fromiter(starts.values(), dtype=np.int64, count=len(starts))
    if direction == "forward":
        out = forward_kernel(
            g.out_ptr,
            g.out_addr,
            g.out_val,
            g.out_spent,
            g.in_ptr,
            g.in_src,
            g.in_addr,
            g.tx_in_total,
            g.tx_time,
            g.coinjoin,
            g.addr_cluster,
            g.addr_stop,
            start_o,
            start_amt,
            code,
            hops,
            min_amount,
            hi_t,
        )
    else:
        out = backward_kernel(
            g.out_ptr,
            g.out_addr,
            g.out_val,
            g.out_spent,
            g.out_tx,
            g.in_ptr,
            g.in_src,
            g.in_addr,
            g.in_val,
            g.tx_time,
            g.coinjoin,
            g.addr_cluster,
            g.addr_stop,
            start_o,
            start_amt,
            code,
            hops,
            min_amount,
            lo_t,
        )
    return Walk(*out)


def _from_fifo(g: UtxoGraph, fw: FifoWalk) -> Walk:
    n = len(g.out_val)
    w = Walk(
        taint=np.zeros(n, dtype=np.int64),
        hop=np.full(n, -1, dtype=np.int32),
        status=np.zeros(n, dtype=np.int8),
        src=np.full(n, -1, dtype=np.int64),
        lost=fw.lost,
        visited=fw.visited,
    )
    for o, status in fw.status.items():
        w.taint[o], w.hop[o], w.status[o] = fw.amount(o), fw.hop[o], status
        w.src[o] = fw.src.get(o, -1)
    return w


def build_result(
    store: ChainStore,
    con: duckdb.DuckDBPyConnection,
    g: UtxoGraph,
    w: Walk,
    starts: dict[int, int],
    *,
    direction: str,
    method: str,
) -> TraceResult:
    asset = store.chain.native_asset
    ends = np.flatnonzero(np.isin(w.status, (HELD, CASH_OUT, LIMIT, COINJOIN)) & (w.taint > 0))
    # the output order of sort_endpoints, done on arrays: kind, then amount (largest first)
    ends = ends[np.lexsort((ends, -w.taint[ends], _KIND_ORDER[w.status[ends]]))]
    txs_needed = np.unique(np.concatenate([g.out_tx[ends], g.out_spent[ends]]))
    addrs_needed = np.unique(np.concatenate([g.out_addr[ends], _deposit_inputs(g, w, ends)]))
    txids, addresses = _names(con, g, txs_needed, addrs_needed)
    paid: dict[int, bool] = {}
    endpoints = []
    tx_of = np.where(
        (w.status[ends] == COINJOIN) & (direction == "forward"), g.out_spent[ends], g.out_tx[ends]
    )
    cols = zip(ends.tolist(), w.status[ends].tolist(), g.out_addr[ends].tolist(),
               tx_of.tolist(), w.taint[ends].tolist(), w.hop[ends].tolist(),
               g.tx_time[tx_of].tolist(), strict=True)  # fmt: skip
    for o, status, a, tx, amount, hops, time in cols:
        kind = KIND_NAMES[status]
        cid = int(g.addr_cluster[a]) if a >= 0 else None
        ent = g.entities.get(cid) if cid is not None else None
        deposit = None
        if kind == "cash-out" and direction == "forward":
            deposit = addresses.get(_deposit_address(g, w, o, paid))
        endpoints.append(
            Endpoint(
                address=addresses.get(a),
                deposit_address=deposit,
                cluster_id=cid,
                entity={"label": ent.label, "category": ent.category} if ent else None,
                kind=kind,
                amount=amount,
                asset=asset,
                txid=txids.get(tx),
                time=time,
                hops=hops,
            )
        )
    nodes, edges = _flow_graph(g, w, starts, ends, direction, asset)
    start_amount = int(sum(starts.values()))
    totals = {KIND_NAMES[k]: int(w.taint[w.status == k].sum()) for k in KIND_NAMES}
    totals["burned"] = int(w.taint[w.status == BURNED].sum())
    totals["fee" if direction == "forward" else "unresolved"] = int(w.lost)
    spent = np.unique(g.out_spent[(w.status != NONE) & (g.out_spent >= 0)])
    cj = spent[g.coinjoin[spent]]
    summary = {
        "chain": store.chain.code,
        "direction": direction,
        "method": method,
        "starts": len(starts),
        "start_amount": {asset: start_amount},
        "totals": {asset: totals},
        "endpoints": len(endpoints),
        "txs_visited": int(w.visited),
        "coinjoin_txs": len(cj),
        "amounts": "poisoned output values (may exceed the start)"
        if method == "poison"
        else "taint shares (sum to the start)",
    }
    return TraceResult(endpoints, nodes, edges, summary)


def _deposit_inputs(g: UtxoGraph, w: Walk, ends: np.ndarray) -> np.ndarray:
    src = w.src[ends]
    return g.out_addr[src[src >= 0]]


def _deposit_address(g: UtxoGraph, w: Walk, o: int, paid: dict[int, bool]) -> int:
    """The customer deposit address through which the money entered the service.

    Normally the address of the cash-out output itself. But when clustering left the
    deposit address outside the service, the trace meets the service one step later, at
    its hot wallet, in the *sweep*: a tx whose outputs all go to the service. Then the
    deposit address is the sweep's (dominant tainted) input, provided the output address
    is a hot wallet: it pays addresses outside the service (withdrawals), which a deposit
    address never does.
    """
    a = int(g.out_addr[o])
    src = int(w.src[o])
    if a in g.known_deposits or src < 0:
        return a
    t = int(g.out_tx[o])
    outs = g.out_addr[int(g.out_ptr[t]) : int(g.out_ptr[t + 1])]
    cluster = int(g.addr_cluster[a])
    if np.any(outs < 0) or np.any(g.addr_cluster[outs] != cluster):
        return a  # a payment with change: the output is the deposit address
    a_in = int(g.out_addr[src])
    if a_in < 0 or g.addr_stop[a_in]:
        return a
    if a not in paid:
        paid[a] = pays_outside(_paid_clusters(g, a), cluster)
    return a_in if paid[a] else a


def _paid_clusters(g: UtxoGraph, address: int) -> np.ndarray:
    """Clusters of every output of every tx that ``address`` spent from."""
    spends = np.flatnonzero(g.in_addr == address)
    txs = np.unique(np.searchsorted(g.in_ptr, spends, side="right") - 1)
    if len(txs) == 0:
        return np.zeros(0, dtype=np.int64)
    outs = np.concatenate([np.arange(g.out_ptr[t], g.out_ptr[t + 1]) for t in txs[:1000]])
    addrs = g.out_addr[outs]
    return np.asarray(g.addr_cluster[addrs[addrs >= 0]])


def _names(
    con: duckdb.DuckDBPyConnection, g: UtxoGraph, tx_pos: np.ndarray, addr_ids: np.ndarray
) -> tuple[dict[int, str], dict[int, str]]:
    tx_pos = tx_pos[tx_pos >= 0]
    ids = g.tx_ids[tx_pos]
    con.register("want_tx", pa.table({"tx_id": pa.array(ids, pa.int64())}))
    con.register(
        "want_addr", pa.table({"address_id": pa.array(addr_ids[addr_ids >= 0], pa.int64())})
    )
    rows = con.execute("SELECT tx_id, txid FROM txs SEMI JOIN want_tx USING (tx_id)").fetchall()
    by_id = {int(i): str(t) for i, t in rows}
    txids = {int(p): by_id[int(i)] for p, i in zip(tx_pos, ids, strict=True) if int(i) in by_id}
    rows = con.execute(
        "SELECT address_id, address FROM addresses SEMI JOIN want_addr USING (address_id)"
    ).fetchall()
    return txids, {int(i): str(a) for i, a in rows}


def _flow_graph(
    g: UtxoGraph,
    w: Walk,
    starts: dict[int, int],
    ends: np.ndarray,
    direction: str,
    asset: str,
) -> tuple[list[Node], list[Edge]]:
    """Cluster-level flows: every tainted output links its src's cluster to its own."""
    moved = np.flatnonzero((w.src >= 0) & (w.taint > 0) & (g.out_addr >= 0))
    here = g.addr_cluster[g.out_addr[moved]]
    there_addr = g.out_addr[w.src[moved]]
    ok = there_addr >= 0
    moved, here, there = moved[ok], here[ok], g.addr_cluster[there_addr[ok]]
    src_c, dst_c = (there, here) if direction == "forward" else (here, there)
    keep = src_c != dst_c
    src_c, dst_c, amt, tx = src_c[keep], dst_c[keep], w.taint[moved[keep]], g.out_tx[moved[keep]]
    edges: list[Edge] = []
    if len(src_c):
        base = int(max(src_c.max(), dst_c.max())) + 1
        keys, inv = np.unique(src_c * base + dst_c, return_inverse=True)
        uniq = np.stack([keys // base, keys % base], axis=1)
        sums = np.zeros(len(uniq), dtype=np.int64)  # exact: taints sum to at most the start
        np.add.at(sums, inv, amt)
        pair_tx = np.unique(inv.astype(np.int64) * (int(tx.max()) + 1) + tx)
        tx_counts = np.bincount(pair_tx // (int(tx.max()) + 1), minlength=len(uniq))
        cols = (uniq[:, 0].tolist(), uniq[:, 1].tolist(), sums.tolist(), tx_counts.tolist())
        edges = [Edge(s, d, v, asset, c) for s, d, v, c in zip(*cols, strict=True)]
    return _nodes(g, w, starts, ends, edges), edges


_KIND_ORDER = np.full(8, 9, dtype=np.int64)
_KIND_ORDER[[CASH_OUT, HELD, LIMIT, COINJOIN]] = [0, 1, 2, 3]  # as result.KINDS

ROLES = ("start", "cash-out", "coinjoin", "held", "limit", "transit")
_STATUS_RANK = np.full(8, 5, dtype=np.int64)
for _status, _kind in KIND_NAMES.items():
    _STATUS_RANK[_status] = ROLES.index(_kind)


def _nodes(
    g: UtxoGraph, w: Walk, starts: dict[int, int], ends: np.ndarray, edges: list[Edge]
) -> list[Node]:
    """One node per cluster the money touched; its role is the strongest it plays."""
    start_o = np.fromiter(starts, dtype=np.int64, count=len(starts))
    start_amt = np.fromiter(starts.values(), dtype=np.int64, count=len(starts))
    start_c = g.addr_cluster[np.maximum(g.out_addr[start_o], 0)]
    e_src = np.array([e.source for e in edges], dtype=np.int64)
    e_dst = np.array([e.target for e in edges], dtype=np.int64)
    e_amt = np.array([e.amount for e in edges], dtype=np.int64)
    clusters = np.concatenate([start_c, g.addr_cluster[g.out_addr[ends]], e_src, e_dst])
    ranks = np.concatenate(
        [np.zeros(len(start_c), np.int64), _STATUS_RANK[w.status[ends]],
         np.full(2 * len(edges), 5, np.int64)]
    )  # fmt: skip
    uc, inv = np.unique(clusters, return_inverse=True)
    best = np.full(len(uc), 5, dtype=np.int64)
    np.minimum.at(best, inv, ranks)
    received = np.zeros(len(uc), dtype=np.int64)
    np.add.at(received, np.searchsorted(uc, start_c), start_amt)
    into = np.searchsorted(uc, e_dst)
    not_start = best[into] != 0
    np.add.at(received, into[not_start], e_amt[not_start])
    touched = np.flatnonzero(w.taint > 0)
    touched = touched[g.out_addr[touched] >= 0]
    addr = np.unique(g.out_addr[touched])
    per_cluster = np.bincount(np.searchsorted(uc, g.addr_cluster[addr]), minlength=len(uc))
    nodes = []
    order = np.lexsort((uc, best))
    cols = (uc[order].tolist(), best[order].tolist(), received[order].tolist(),
            per_cluster[order].tolist())  # fmt: skip
    for c, role, amount, n_addr in zip(*cols, strict=True):
        ent = g.entities.get(c)
        label, category = (ent.label, ent.category) if ent else (None, None)
        nodes.append(Node(c, label, category, ROLES[role], amount, n_addr))
    return nodes
