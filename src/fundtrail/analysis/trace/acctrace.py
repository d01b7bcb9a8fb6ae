"""An account-chain trace end to end: starts -> per-asset walks -> endpoints, graph, summary."""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from fundtrail.analysis.attribution import Attribution
from fundtrail.analysis.trace import result as res
from fundtrail.analysis.trace import starts
from fundtrail.analysis.trace.accgraph import SINK_KINDS, AccountGraph, account_graph
from fundtrail.analysis.trace.account import (
    FAR,
    AccountWalk,
    Hit,
    backward_balance,
    fifo_walk,
    forward_balance,
)
from fundtrail.analysis.trace.graph import open_tables
from fundtrail.analysis.trace.request import TraceRequest
from fundtrail.analysis.trace.result import Candidates, Edge, Endpoint, Node, TraceResult
from fundtrail.analysis.trace.starts import (
    AddressStart,
    TxStart,
    address_not_found,
    index_not_found,
    tx_not_found,
)
from fundtrail.chains.ledger import ledger_for
from fundtrail.chainstore.store import ChainStore


class AccountFinder:
    """Start items (transfer positions) of an account graph: its ``starts.Finder``."""

    def __init__(self, store: ChainStore, g: AccountGraph) -> None:
        self.store, self.g = store, g
        self.ledger = ledger_for(store)  # stored tx keys: 0x on EVM chains, bare on TRON
        self.hashes = g.tx_hash.to_numpy(zero_copy_only=False)

    def tx_items(self, starts: list[TxStart]) -> dict[TxStart, list[int]]:
        out: dict[TxStart, list[int]] = {}
        for s in starts:
            pos = np.flatnonzero(self.hashes == self.ledger.parse_txid(s.txid))
            if len(pos) == 0:
                raise tx_not_found(s)
            if s.index is not None:
                pos = pos[self.g.log_index[pos] == s.index]
                if len(pos) == 0:
                    raise index_not_found(s, "transfer with log index")
            out[s] = [int(p) for p in pos if self.g.kind[p] not in SINK_KINDS]
        return out

    def address_items(self, start: AddressStart, since: int | None, until: int | None) -> list[int]:
        con = open_tables(self.store, ("addresses",))
        try:
            rows = con.execute(
                "SELECT address_id FROM addresses WHERE address = ?", [start.address]
            ).fetchall()
        finally:
            con.close()
        if not rows:
            raise address_not_found(start)
        g = self.g
        hist = g.history(int(rows[0][0]))
        hist = hist[g.to[hist] == int(rows[0][0])]
        t = g.time[hist]
        lo = since if since is not None else -FAR
        hi = until if until is not None else FAR
        return [int(p) for p in hist[(t >= lo) & (t <= hi)] if g.kind[p] not in SINK_KINDS]

    def item_value(self, item: int) -> int:
        return int(self.g.values[item])


def trace_account(store: ChainStore, request: TraceRequest, att: Attribution) -> TraceResult:
    base = account_graph(store)
    g = base.with_stops(att.stop_mask(base.addr_cluster), att.deposit_mask(base.addr_cluster))
    found = starts.resolve(request, store.chain.code, AccountFinder(store, g))
    by_asset: dict[int, dict[int, int]] = defaultdict(dict)
    for p, amount in found.items():
        by_asset[int(g.asset[p])][p] = amount
    walks, entered = _walk_through_swaps(g, dict(by_asset), request)
    return _result(store, g, found, by_asset, entered, walks, request, att)


def _whole(h: Hit, g: AccountGraph) -> int | None:
    """The whole payment a cash-out's or held place's taint came in by (the transfer into
    the service; held: the last transfer that brought taint), as on UTXO chains the
    output; None for other kinds. A gang's peel is all traced money; the dust a gang's hop
    address keeps of a large payment, or a customer's sliver, is not."""
    return int(g.values[h.pos]) if h.kind in ("cash-out", "held") else None


MAX_SWAP_ROUNDS = 8  # swaps of swapped money: USDT -> TRX -> USDT ... each round one more


def _walk_through_swaps(
    g: AccountGraph, by_asset: dict[int, dict[int, int]], request: TraceRequest
) -> tuple[dict[int, AccountWalk], dict[int, dict[int, int]]]:
    """Walk every asset from its starts; what a swap converted becomes starts of the asset
    paid out (forward) or paid in (backward), and the walks are run again until no new
    conversion appears
    (each walk is a pure function of its starts, so the result is the fixed point, not
    an order of work). Returns the walks and every asset's starts, converted included."""
    forward = request.direction == "forward"
    lo = request.since if request.since is not None else -FAR
    hi = request.until if request.until is not None else FAR
    starts_of = {a: dict(group) for a, group in by_asset.items()}
    hops0: dict[int, int] = {}
    walks: dict[int, AccountWalk] = {}
    for _ in range(MAX_SWAP_ROUNDS):
        walks = {}
        for asset, group in sorted(starts_of.items()):
            if request.method == "fifo":
                limit = hi if forward else lo
                walks[asset] = fifo_walk(g, group, asset, forward, request.hops, 0, limit, hops0)
            elif forward:
                walks[asset] = forward_balance(
                    g, group, asset, request.method, request.hops, 0, hi, hops0
                )
            else:
                walks[asset] = backward_balance(
                    g, group, asset, request.method, request.hops, 0, lo, hops0
                )
        nxt = {a: dict(group) for a, group in by_asset.items()}
        for w in walks.values():
            for c in w.swaps:
                for p, amount in c.outs:
                    if amount <= 0:
                        continue
                    group = nxt.setdefault(int(g.asset[p]), {})
                    group[p] = group.get(p, 0) + amount
                    hops0[p] = min(hops0.get(p, c.hops + 1), c.hops + 1)
        if nxt == starts_of:
            break
        starts_of = nxt
    return walks, starts_of


# the walks name hits as a forward trace does; a hit's kind is its position in result.kinds
_KIND_INDEX = {"cash-out": 0, "held": 1, "limit": 2, "coinjoin": 3}


def _result(
    store: ChainStore,
    g: AccountGraph,
    found: dict[int, int],
    by_asset: dict[int, dict[int, int]],
    entered: dict[int, dict[int, int]],
    walks: dict[int, AccountWalk],
    request: TraceRequest,
    att: Attribution,
) -> TraceResult:
    direction = request.direction
    names = res.kinds(direction)
    assets = sorted(walks)
    asset_names = [g.assets.get(a, f"asset-{a}") for a in assets]
    hits = [(i, h) for i, a in enumerate(assets) for h in walks[a].hits]
    ents = [att.entity(g.cluster(h.address)) or g.protocol_entity(h.address) for _, h in hits]
    labels = sorted({e.label for e in ents if e is not None})
    code = {lab: i for i, lab in enumerate(labels)}
    cash = [names[_KIND_INDEX[h.kind]] == "cash-out" for _, h in hits]
    paid = direction == "forward" and request.method != "poison"
    rows = Candidates(
        kind=np.array([_KIND_INDEX[h.kind] for _, h in hits], dtype=np.int64),
        asset=np.array([i for i, _ in hits], dtype=np.int64),
        place=np.array(
            [h.deposit if c else h.address for (_, h), c in zip(hits, cash, strict=True)],
            dtype=np.int64,
        ),
        label=np.array([code[e.label] if e else -1 for e in ents], dtype=np.int64),
        amount=np.array([h.amount for _, h in hits], dtype=object),
        received=np.array([_whole(h, g) for _, h in hits], dtype=object) if paid else None,
    )
    start_amount = {
        asset_names[i]: sum(by_asset[a].values()) for i, a in enumerate(assets) if a in by_asset
    }
    arrived = {i: sum(entered.get(a, {}).values()) for i, a in enumerate(assets)}
    floors = {i: request.floor(arrived[i]) for i in range(len(assets))}
    listed, dispersed = res.size_for_people(rows, floors, names, labels, asset_names)
    ids = {hits[i][1].address for i in listed} | {hits[i][1].deposit for i in listed}
    addr_names = _address_names(store, ids)
    endpoints: list[Endpoint] = []
    for i in listed:
        a, h = hits[i]
        cid, ent = g.cluster(h.address), ents[i]
        endpoints.append(
            Endpoint(
                address=addr_names.get(h.address),
                deposit_address=addr_names.get(h.deposit) if cash[i] else None,
                cluster_id=cid if cid >= 0 else None,
                entity=ent.brief() if ent else None,
                kind=names[_KIND_INDEX[h.kind]],
                amount=h.amount,
                asset=asset_names[a],
                txid=g.txid(h.pos),
                time=int(g.time[h.pos]),
                hops=h.hops,
                payment=_whole(h, g) if paid else None,
            )
        )
    totals: dict[str, dict[str, int]] = {}
    for i, a in enumerate(assets):
        tot = dict.fromkeys(names, 0)
        for h in walks[a].hits:
            tot[names[_KIND_INDEX[h.kind]]] += h.amount
        tot["fee" if direction == "forward" else "unresolved"] = walks[a].fee
        if walks[a].swapped:
            tot["swapped"] = walks[a].swapped
        totals[asset_names[i]] = tot
    nodes, edges = _flow_graph(g, found, walks, endpoints, direction, att)
    summary = {
        "chain": store.chain.code,
        "direction": direction,
        "method": request.method,
        "starts": len(found),
        "start_amount": start_amount,
        "totals": totals,
        "endpoints": len(endpoints),
        "listing_floor": {asset_names[i]: f for i, f in floors.items()},
        "txs_visited": sum(w.visited for w in walks.values()),
        **_swap_summary(store, g, walks),
        "coinjoin_txs": 0,
        "amounts": "poisoned transfer values (may exceed the start)"
        if request.method == "poison"
        else "taint shares (sum to the start)",
    }
    return TraceResult(endpoints, nodes, edges, summary, dispersed)


def _swap_summary(
    store: ChainStore, g: AccountGraph, walks: dict[int, AccountWalk]
) -> dict[str, object]:
    """``converted`` (per asset, the traced amount swaps turned into it, in the trace's
    direction) and ``swaps`` (each conversion: who, which pool, in which transaction, sold
    and bought at the tx's rate); nothing when the trace met no swap.

    Forward, ``sold`` is the traced money paid in (``paid_in``: all the pool got in that
    asset in the tx) and ``bought`` each output (``paid_back``: the output's value).
    Backward, ``bought`` is the traced money the pool paid (``paid_out``: all it paid in
    that asset) and ``sold`` each input that paid for it (``paid_in``: the input's value),
    with ``direction: backward``."""
    convs = sorted((c for w in walks.values() for c in w.swaps), key=lambda c: c.pos)
    if not convs:
        return {}
    names = _address_names(store, {c.address for c in convs} | {c.pool for c in convs})
    converted: dict[str, int] = defaultdict(int)
    swaps = []
    for c in convs:
        here = g.assets.get(int(g.asset[c.pos]), "?")
        other = []
        for p, amount in c.outs:
            name = g.assets.get(int(g.asset[p]), "?")
            converted[name] += amount
            key = "paid_in" if c.backward else "paid_back"
            other.append({"asset": name, "amount": amount, key: g.values[p]})
        entry: dict[str, object] = {
            "txid": g.txid(c.pos), "address": names.get(c.address), "pool": names.get(c.pool),
            "hops": c.hops,
        }  # fmt: skip
        if c.backward:
            bought = {"asset": here, "amount": c.amount, "paid_out": c.paid_in}
            entry |= {"direction": "backward", "sold": other, "bought": bought}
        else:
            entry |= {"sold": {"asset": here, "amount": c.amount, "paid_in": c.paid_in},
                      "bought": other}  # fmt: skip
        swaps.append(entry)
    return {"converted": dict(converted), "swaps": swaps}


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
    g: AccountGraph,
    found: dict[int, int],
    walks: dict[int, AccountWalk],
    endpoints: list[Endpoint],
    direction: str,
    att: Attribution,
) -> tuple[list[Node], list[Edge]]:
    rank = {k: i for i, k in enumerate(("start", *res.kinds(direction), "transit"))}
    agg: dict[tuple[int, int, str], list[int]] = {}
    txs: dict[tuple[int, int, str], set[str]] = defaultdict(set)
    first: dict[tuple[int, int, str], int] = {}
    swap_pos = {c.pos for w in walks.values() for c in w.swaps}
    swap_pos |= {q for w in walks.values() for c in w.swaps for q, _ in c.outs}
    swap_keys: set[tuple[int, int, str]] = set()
    for asset, w in walks.items():
        name = g.assets.get(asset, f"asset-{asset}")
        for s, d, amount, p in w.flows:
            cs, cd = g.cluster(s), g.cluster(d)
            if cs == cd or cs < 0 or cd < 0:
                continue
            key = (cs, cd, name)
            if p in swap_pos:
                swap_keys.add(key)
            agg.setdefault(key, [0])[0] += amount
            txs[key].add(g.txid(p))
            first[key] = min(first.get(key, int(g.time[p])), int(g.time[p]))
    edges = [
        Edge(s, d, v[0], a, len(txs[(s, d, a)]), first[(s, d, a)], (s, d, a) in swap_keys)
        for (s, d, a), v in sorted(agg.items())
    ]
    role: dict[int, str] = {}
    received: dict[int, int] = defaultdict(int)
    entered: dict[int, int] = {}
    starts: dict[int, int] = defaultdict(int)
    for p, amount in found.items():
        c = g.cluster(int(g.to[p]))
        role[c] = "start"
        received[c] += amount
        starts[c] += 1
        entered[c] = min(entered.get(c, int(g.time[p])), int(g.time[p]))
    for end in endpoints:
        cid = end.cluster_id
        if cid is not None and rank[end.kind] < rank[role.get(cid, "transit")]:
            role[cid] = end.kind
    for e in edges:
        role.setdefault(e.source, "transit")
        role.setdefault(e.target, "transit")
        if role[e.target] != "start":
            received[e.target] += e.amount
            t = e.first_time if e.first_time is not None else entered.get(e.target)
            if t is not None:
                entered[e.target] = min(entered.get(e.target, t), t)
    protocol = {g.cluster(a): g.protocol_entity(a) for a in g.protocol}
    nodes = []
    for c in sorted(role, key=lambda c: (rank[role[c]], c)):
        ent = att.entity(c) or protocol.get(c)
        label, category = (ent.label, ent.category) if ent else (None, None)
        nodes.append(
            Node(c, label, category, role[c], received[c], 0, entered.get(c), starts.get(c, 0))
        )
    return nodes, edges
