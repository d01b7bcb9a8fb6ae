"""An account-chain trace end to end: starts -> per-asset walks -> endpoints, graph, summary."""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from fundtrail.analysis.trace.accgraph import SINK_KINDS, AccountGraph, account_graph
from fundtrail.analysis.trace.account import (
    FAR,
    HEX64,
    AccountWalk,
    backward_balance,
    fifo_walk,
    forward_balance,
)
from fundtrail.analysis.trace.graph import open_tables
from fundtrail.analysis.trace.result import Edge, Endpoint, Node, TraceResult, sort_endpoints
from fundtrail.chainstore.store import ChainStore
from fundtrail.errors import InvalidInputError, NotFoundError
from fundtrail.model.addresses import parse_address

ROLE_RANK = {"start": 0, "cash-out": 1, "coinjoin": 2, "held": 3, "limit": 4, "transit": 5}


def resolve_starts(
    store: ChainStore,
    g: AccountGraph,
    starts: list[str],
    since: int | None,
    until: int | None,
    amounts: dict[str, int] | None,
) -> dict[int, int]:
    """Transfer position -> starting taint for TXHASH:LOGINDEX, TXHASH or ADDR starts."""
    found: dict[int, int] = {}
    hashes = g.tx_hash.to_numpy(zero_copy_only=False)
    for text in starts:
        key = text.strip()
        head, _, tail = key.partition(":")
        if HEX64.match(head):
            pos = np.flatnonzero(hashes == head.lower())
            if len(pos) == 0:
                raise NotFoundError(
                    f"tx {head} is not in the chain store (start {text!r})", field="from"
                )
            if tail:
                if not tail.lstrip("-").isdigit():
                    raise InvalidInputError(
                        f"log index {tail!r} of start {text!r} is not a number", field="from"
                    )
                pos = pos[g.log_index[pos] == int(tail)]
                if len(pos) == 0:
                    raise NotFoundError(
                        f"tx {head} has no transfer with log index {tail}", field="from"
                    )
        else:
            pos = _address_inflows(store, g, key, since, until)
        chosen = [int(p) for p in pos if g.kind[p] not in SINK_KINDS and g.values[p] > 0]
        cap = (amounts or {}).get(text) or None
        for p in chosen:
            amount = g.values[p] if cap is None else min(g.values[p], cap)
            found[p] = max(found.get(p, 0), amount)
    return found


def _address_inflows(
    store: ChainStore, g: AccountGraph, text: str, since: int | None, until: int | None
) -> np.ndarray:
    try:
        address = parse_address(text, "ETH").value
    except InvalidInputError as exc:
        raise InvalidInputError(
            f"start {text!r} is neither TXHASH[:LOGINDEX] nor a valid address: {exc}", field="from"
        ) from exc
    con = open_tables(store, ("addresses",))
    try:
        rows = con.execute(
            "SELECT address_id FROM addresses WHERE address = ?", [address]
        ).fetchall()
        row = rows[0] if rows else None
    finally:
        con.close()
    if row is None:
        raise NotFoundError(
            f"{text!r} is neither TXHASH[:LOGINDEX] nor an address seen on this chain", field="from"
        )
    hist = g.history(int(row[0]))
    hist = hist[g.to[hist] == int(row[0])]
    t = g.time[hist]
    keep = (t >= (since if since is not None else -FAR)) & (
        t <= (until if until is not None else FAR)
    )
    return hist[keep]


def trace_account(
    store: ChainStore,
    starts: list[str],
    *,
    direction: str,
    method: str,
    hops: int,
    min_amount: int,
    since: int | None,
    until: int | None,
    amounts: dict[str, int] | None = None,
) -> TraceResult:
    g = account_graph(store)
    found = resolve_starts(store, g, starts, since, until, amounts)
    if not found:
        raise NotFoundError(
            "no transfer matches the starting points in that time window", field="from"
        )
    by_asset: dict[int, dict[int, int]] = defaultdict(dict)
    for p, amount in found.items():
        by_asset[int(g.asset[p])][p] = amount
    lo, hi = since if since is not None else -FAR, until if until is not None else FAR
    walks: dict[int, AccountWalk] = {}
    for asset, group in sorted(by_asset.items()):
        if method == "fifo":
            walks[asset] = fifo_walk(
                g,
                group,
                asset,
                direction == "forward",
                hops,
                min_amount,
                hi if direction == "forward" else lo,
            )
        elif direction == "forward":
            walks[asset] = forward_balance(g, group, asset, method, hops, min_amount, hi)
        else:
            walks[asset] = backward_balance(g, group, asset, method, hops, min_amount, lo)
    return _result(store, g, found, by_asset, walks, direction, method)


def _result(
    store: ChainStore,
    g: AccountGraph,
    found: dict[int, int],
    by_asset: dict[int, dict[int, int]],
    walks: dict[int, AccountWalk],
    direction: str,
    method: str,
) -> TraceResult:
    ids = {h.address for w in walks.values() for h in w.hits} | {
        h.deposit for w in walks.values() for h in w.hits
    }
    names = _address_names(store, ids)
    endpoints: list[Endpoint] = []
    totals: dict[str, dict[str, int]] = {}
    start_amount: dict[str, int] = {}
    for asset, w in walks.items():
        name = g.assets.get(asset, f"asset-{asset}")
        start_amount[name] = sum(by_asset[asset].values())
        tot = {"cash-out": 0, "held": 0, "limit": 0, "coinjoin": 0, "fee": w.fee}
        for h in w.hits:
            cid = g.cluster(h.address)
            ent = g.entities.get(cid)
            endpoints.append(
                Endpoint(
                    address=names.get(h.address),
                    deposit_address=names.get(h.deposit)
                    if h.kind == "cash-out" and direction == "forward"
                    else None,
                    cluster_id=cid if cid >= 0 else None,
                    entity={"label": ent.label, "category": ent.category} if ent else None,
                    kind=h.kind,
                    amount=h.amount,
                    asset=name,
                    txid=g.txid(h.pos),
                    time=int(g.time[h.pos]),
                    hops=h.hops,
                )
            )
            tot[h.kind] += h.amount
        totals[name] = tot
    nodes, edges = _flow_graph(g, found, walks, endpoints)
    summary = {
        "chain": store.chain.code,
        "direction": direction,
        "method": method,
        "starts": len(found),
        "start_amount": start_amount,
        "totals": totals,
        "endpoints": len(endpoints),
        "txs_visited": sum(w.visited for w in walks.values()),
        "coinjoin_txs": 0,
        "amounts": "poisoned transfer values (may exceed the start)"
        if method == "poison"
        else "taint shares (sum to the start)",
    }
    return TraceResult(sort_endpoints(endpoints), nodes, edges, summary)


def _address_names(store: ChainStore, ids: set[int]) -> dict[int, str]:
    wanted = sorted(i for i in ids if i >= 0)
    con = open_tables(store, ("addresses",))
    try:
        rows = con.execute(
            "SELECT address_id, address FROM addresses WHERE list_contains(?, address_id)", [wanted]
        ).fetchall()
    finally:
        con.close()
    return {int(i): str(a) for i, a in rows}


def _flow_graph(
    g: AccountGraph, found: dict[int, int], walks: dict[int, AccountWalk], endpoints: list[Endpoint]
) -> tuple[list[Node], list[Edge]]:
    agg: dict[tuple[int, int, str], list[int]] = {}
    txs: dict[tuple[int, int, str], set[str]] = defaultdict(set)
    for asset, w in walks.items():
        name = g.assets.get(asset, f"asset-{asset}")
        for s, d, amount, p in w.flows:
            cs, cd = g.cluster(s), g.cluster(d)
            if cs == cd or cs < 0 or cd < 0:
                continue
            key = (cs, cd, name)
            agg.setdefault(key, [0])[0] += amount
            txs[key].add(g.txid(p))
    edges = [Edge(s, d, v[0], a, len(txs[(s, d, a)])) for (s, d, a), v in sorted(agg.items())]
    role: dict[int, str] = {}
    received: dict[int, int] = defaultdict(int)
    for p, amount in found.items():
        c = g.cluster(int(g.to[p]))
        role[c] = "start"
        received[c] += amount
    for end in endpoints:
        cid = end.cluster_id
        if cid is not None and ROLE_RANK[end.kind] < ROLE_RANK[role.get(cid, "transit")]:
            role[cid] = end.kind
    for e in edges:
        role.setdefault(e.source, "transit")
        role.setdefault(e.target, "transit")
        if role[e.target] != "start":
            received[e.target] += e.amount
    nodes = []
    for c in sorted(role, key=lambda c: (ROLE_RANK[role[c]], c)):
        ent = g.entities.get(c)
        nodes.append(
            Node(c, ent.label if ent else None, ent.category if ent else None, role[c], received[c])
        )
    return nodes, edges
