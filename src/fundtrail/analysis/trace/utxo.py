"""A UTXO trace end to end: starting points -> kernel walk -> endpoints, graph, summary."""

from __future__ import annotations

import re
from dataclasses import dataclass

import duckdb
import numpy as np

from fundtrail.analysis.trace.fifo import FifoWalk, fifo_backward, fifo_forward
from fundtrail.analysis.trace.graph import UtxoGraph
from fundtrail.analysis.trace.result import Edge, Endpoint, Node, TraceResult, sort_endpoints
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
    found: dict[int, int] = {}
    for text in starts:
        key = text.strip()
        txid, _, vout = key.partition(":")
        if HEX64.match(txid):
            outs = _tx_outputs(con, g, txid.lower().removeprefix("0x"), vout, key)
        else:
            outs = _address_outputs(con, g, key, store.chain.code, since, until)
        cap = (amounts or {}).get(text) or None
        for o in outs:
            value = int(g.out_val[o])
            amount = value if cap is None else min(value, int(cap))
            found[o] = max(found.get(o, 0), amount)
    return found


def _tx_outputs(con: object, g: UtxoGraph, txid: str, vout: str, text: str) -> list[int]:
    row = con.execute("SELECT tx_id FROM txs WHERE txid = ?", [txid]).fetchone()  # type: ignore[attr-defined]
    if row is None:
        raise NotFoundError(f"tx {txid} is not in the chain store (start {text!r})", field="from")
    pos = int(g.position(np.array([row[0]]))[0])
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
    row = con.execute("SELECT address_id FROM addresses WHERE address = ?", [address]).fetchone()  # type: ignore[attr-defined]
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
    txs_needed = np.unique(np.concatenate([g.out_tx[ends], g.out_spent[ends]]))
    addrs_needed = np.unique(np.concatenate([g.out_addr[ends], _deposit_inputs(g, w, ends)]))
    txids, addresses = _names(con, g, txs_needed, addrs_needed)
    deposit_ids = _known_deposits(store)
    endpoints = []
    for o in ends.tolist():
        kind = KIND_NAMES[int(w.status[o])]
        a = int(g.out_addr[o])
        tx = (
            int(g.out_spent[o])
            if kind == "coinjoin" and direction == "forward"
            else int(g.out_tx[o])
        )
        cid = int(g.addr_cluster[a]) if a >= 0 else None
        ent = g.entities.get(cid) if cid is not None else None
        deposit = None
        if kind == "cash-out" and direction == "forward":
            deposit = addresses.get(_deposit_address(g, w, o, deposit_ids))
        endpoints.append(
            Endpoint(
                address=addresses.get(a),
                deposit_address=deposit,
                cluster_id=cid,
                entity={"label": ent.label, "category": ent.category} if ent else None,
                kind=kind,
                amount=int(w.taint[o]),
                asset=asset,
                txid=txids.get(tx),
                time=int(g.tx_time[tx]),
                hops=int(w.hop[o]),
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
    return TraceResult(sort_endpoints(endpoints), nodes, edges, summary)


def _deposit_inputs(g: UtxoGraph, w: Walk, ends: np.ndarray) -> np.ndarray:
    src = w.src[ends]
    return g.out_addr[src[src >= 0]]


def _known_deposits(store: ChainStore) -> set[int]:
    """Addresses the clustering found to be customer deposit addresses of a service."""
    if "counterparties" not in store.schemas or not store.parts("counterparties"):
        return set()
    table = store.read_table("counterparties", ["counterparty_id"])
    return set(table.column("counterparty_id").to_pylist())


def _deposit_address(g: UtxoGraph, w: Walk, o: int, known: set[int]) -> int:
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
    if a in known or src < 0:
        return a
    t = int(g.out_tx[o])
    outs = g.out_addr[int(g.out_ptr[t]) : int(g.out_ptr[t + 1])]
    cluster = int(g.addr_cluster[a])
    if np.any(outs < 0) or np.any(g.addr_cluster[outs] != cluster):
        return a  # a payment with change: the output is the deposit address
    a_in = int(g.out_addr[src])
    if a_in < 0 or g.addr_stop[a_in]:
        return a
    return a_in if pays_outside(_paid_clusters(g, a), cluster) else a


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
    addr_ids = addr_ids[addr_ids >= 0]
    ids = g.tx_ids[tx_pos]
    rows = con.execute(
        "SELECT tx_id, txid FROM txs WHERE list_contains(?, tx_id)", [ids.tolist()]
    ).fetchall()
    by_id = {int(i): str(t) for i, t in rows}
    txids = {int(p): by_id[int(i)] for p, i in zip(tx_pos, ids, strict=True) if int(i) in by_id}
    rows = con.execute(
        "SELECT address_id, address FROM addresses WHERE list_contains(?, address_id)",
        [addr_ids.tolist()],
    ).fetchall()
    return txids, {int(i): str(a) for i, a in rows}


ROLE_RANK = {"start": 0, "cash-out": 1, "coinjoin": 2, "held": 3, "limit": 4, "transit": 5}


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
        pairs = np.stack([src_c, dst_c], axis=1)
        uniq, inv = np.unique(pairs, axis=0, return_inverse=True)
        inv = inv.reshape(-1)
        sums = np.zeros(len(uniq), dtype=object)
        for i, a in zip(inv.tolist(), amt.tolist(), strict=True):
            sums[i] += a
        tx_counts = np.bincount(
            np.unique(np.stack([inv, tx], axis=1), axis=0)[:, 0], minlength=len(uniq)
        )
        edges = [
            Edge(int(s), int(d), int(v), asset, int(c))
            for (s, d), v, c in zip(uniq.tolist(), sums.tolist(), tx_counts.tolist(), strict=True)
        ]
    role: dict[int, str] = {}
    received: dict[int, int] = {}
    for o, amount in starts.items():
        c = int(g.addr_cluster[g.out_addr[o]]) if g.out_addr[o] >= 0 else -1
        role[c] = "start"
        received[c] = received.get(c, 0) + int(amount)
    for o in ends.tolist():
        c = int(g.addr_cluster[g.out_addr[o]])
        kind = KIND_NAMES[int(w.status[o])]
        if ROLE_RANK[kind] < ROLE_RANK[role.get(c, "transit")]:
            role[c] = kind
    for e in edges:
        for c in (e.source, e.target):
            role.setdefault(c, "transit")
        if role[e.target] != "start":
            received[e.target] = received.get(e.target, 0) + e.amount
    nodes = []
    for c in sorted(role, key=lambda c: (ROLE_RANK[role[c]], c)):
        ent = g.entities.get(c)
        nodes.append(
            Node(
                c,
                ent.label if ent else None,
                ent.category if ent else None,
                role[c],
                received.get(c, 0),
            )
        )
    return nodes, edges
