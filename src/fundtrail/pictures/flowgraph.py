"""One money-flow model for every picture: the web canvas, `trace --picture`, the case file.

A trace's cluster graph can hold thousands of clusters. People read a few dozen boxes, so
the graph is reduced the same way everywhere:

- **starts grouped**: more than ``MAX_STARTS`` start clusters become one box that says how
  many starting points (victims' payments) it stands for;
- **forward in time**: a flow that returns to a cluster the money already passed (a cycle)
  is drawn to a "returns to ..." box instead of backwards; ranks (columns, left to right)
  are longest paths from the starts, so every arrow points right, and a flow never leaves
  a cluster before money entered it (``first_time`` on nodes and edges);
- **largest flows first**: endpoints are kept by amount (cash-outs first) together with the
  widest path that brought money to each, up to ``max_nodes`` boxes; the endpoints left out
  are summed per kind and category into "dispersed" boxes, joined to the last box drawn on
  their way, so what is drawn still adds up to what was traced;
- **held means held**: a box drawn as "held" has no outgoing arrow; a cluster that keeps
  part of the money and passes the rest on is a transit box that says what it still holds.

Every amount and time on a label comes from :mod:`fundtrail.model.display`; values in fiat
(when prices were imported) from the ``fiat`` callback, which names its source.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from fundtrail.analysis.trace.result import Edge, Node, TraceResult
from fundtrail.model import display

MAX_STARTS = 3
TERMINAL = ("cash-out", "held", "limit", "coinjoin", "source")
# fiat(asset, chain, unix_time, amount) -> "≈ 1,234.56 USD (source)" or None
FiatLookup = Callable[[str, str, int | None, int], str | None]


@dataclass(slots=True)
class FlowNode:
    id: str
    kind: str  # start | transit | cash-out | held | limit | coinjoin | dispersed | return
    title: str
    subtitle: str
    category: str | None
    amounts: dict[str, int]  # per asset as the trace names it
    first_time: int | None
    cluster_id: int | None = None
    count: int = 1  # starts grouped, or endpoints dispersed, in this box
    holds: dict[str, int] = field(default_factory=dict)  # a transit box's own held part
    rank: int = 0
    amount_text: str = ""
    fiat_text: str | None = None
    time_text: str = ""
    held_text: str | None = None
    weight: float = 0.0  # 0..1, this box's amount against the largest

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "title": self.title,
            "subtitle": self.subtitle,
            "category": self.category,
            "amounts": dict(self.amounts),
            "amount_text": self.amount_text,
            "fiat_text": self.fiat_text,
            "first_time": self.first_time,
            "time_text": self.time_text,
            "held_text": self.held_text,
            "cluster_id": self.cluster_id,
            "count": self.count,
            "rank": self.rank,
            "weight": round(self.weight, 4),
        }


@dataclass(slots=True)
class FlowEdge:
    id: str
    source: str
    target: str
    amount: int
    asset: str
    txs: int
    first_time: int | None
    dashed: bool = False  # to a dispersed box: the way there is not drawn
    via: int = 0  # wallets passed in a chain (peel chain) drawn as this one arrow
    amount_text: str = ""
    fiat_text: str | None = None
    weight: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "source": self.source,
            "target": self.target,
            "amount": self.amount,
            "asset": self.asset,
            "amount_text": self.amount_text,
            "fiat_text": self.fiat_text,
            "txs": self.txs,
            "first_time": self.first_time,
            "time_text": display.time_utc(self.first_time),
            "dashed": self.dashed,
            "via": self.via,
            "weight": round(self.weight, 4),
        }


@dataclass(slots=True)
class FlowGraph:
    chain: str
    title: str
    nodes: list[FlowNode]
    edges: list[FlowEdge]
    left_out: int = 0  # clusters of the trace not drawn as their own box
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "chain": self.chain,
            "title": self.title,
            "nodes": [n.to_dict() for n in self.nodes],
            "edges": [e.to_dict() for e in self.edges],
            "left_out": self.left_out,
            "notes": list(self.notes),
        }

    def node(self, node_id: str) -> FlowNode:
        return next(n for n in self.nodes if n.id == node_id)


def build(
    result: TraceResult,
    *,
    max_nodes: int = 24,
    fiat: FiatLookup | None = None,
    expand: frozenset[str] = frozenset(),
    collapse: frozenset[str] = frozenset(),
    squash_chains: bool = False,
    keep_ways: bool = True,
) -> FlowGraph:
    """The drawn graph of ``result``: about ``max_nodes`` boxes (dispersed boxes and the
    start box included), ranked left to right, labelled for people. ``expand`` names boxes
    whose next hop is drawn whatever the budget; ``collapse`` boxes whose onward flows are
    folded into the dispersed boxes (the canvas's expand and collapse).
    ``squash_chains`` draws a chain of plain wallets (a peel chain) as one arrow that says
    how many wallets it passed, for pictures that must fit a printed page; then
    ``keep_ways`` lets the plain wallets on the way to a large endpoint cost no room."""
    full = _full_graph(result)
    kept = _choose(full, max(4, max_nodes), free_plain=squash_chains and keep_ways)
    kept = _expanded(full, kept, expand, collapse)
    graph = _reduced(full, kept, result)
    if squash_chains:
        _squash(graph)
    _label(graph, fiat)
    return graph


def _squash(graph: FlowGraph) -> None:
    """Fold each plain transit box with one way in and one way out into that arrow."""
    while True:
        ins: dict[str, list[FlowEdge]] = defaultdict(list)
        outs: dict[str, list[FlowEdge]] = defaultdict(list)
        for e in graph.edges:
            ins[e.target].append(e)
            outs[e.source].append(e)
        plain = next(
            (
                n
                for n in graph.nodes
                if _plain(n) and len(ins[n.id]) == 1
                and len(outs[n.id]) == 1 and ins[n.id][0].asset == outs[n.id][0].asset
                and not outs[n.id][0].dashed
            ),
            None,
        )  # fmt: skip
        if plain is None:
            break
        a, b = ins[plain.id][0], outs[plain.id][0]
        # what went into the chain and came out of it (a link may have other ways in or out
        # that are not drawn: the arrow never claims more than either side carried)
        a.target, a.amount, a.via = b.target, min(a.amount, b.amount), a.via + b.via + 1
        a.txs += b.txs
        graph.edges.remove(b)
        graph.nodes.remove(plain)
    by_id = {n.id: n for n in graph.nodes}
    _rank(by_id, graph.edges)
    _push_ends(graph.nodes)


# --- the whole graph, starts grouped and cycles turned into "returns to" boxes ----------


@dataclass(slots=True)
class _Full:
    chain: str
    nodes: dict[str, FlowNode]
    edges: list[FlowEdge]  # acyclic
    best_in: dict[str, FlowEdge]  # the widest flow into each box
    terminals: list[str]  # boxes whose money stayed there, by amount


def _full_graph(result: TraceResult) -> _Full:
    chain = str(result.summary.get("chain", "BTC"))
    ends = _endpoint_sums(result)
    starts = [n for n in result.nodes if n.role == "start"]
    grouped = len(starts) > MAX_STARTS
    nodes: dict[str, FlowNode] = {}
    alias: dict[int, str] = {}
    if grouped:
        total = result.summary.get("start_amount") or {}
        count = int(result.summary.get("starts") or sum(n.starts for n in starts))
        times = [n.first_time for n in starts if n.first_time is not None]
        nodes["starts"] = FlowNode(
            "starts", "start", f"{count:,} starting points", f"in {len(starts):,} clusters",
            None, {str(k): int(v) for k, v in dict(total).items()}, min(times, default=None),
            count=count,
        )  # fmt: skip
        alias = {n.cluster_id: "starts" for n in starts}
    for n in result.nodes:
        if n.cluster_id in alias:
            continue
        nid = f"c{n.cluster_id}"
        alias[n.cluster_id] = nid
        nodes[nid] = _node(n, ends.get(n.cluster_id, {}))
    edges = _merged_edges(result.edges, alias)
    _amounts_from_flows(nodes, edges, result)
    edges = _forward_only(nodes, edges)
    out_of: dict[str, int] = defaultdict(int)
    for e in edges:
        out_of[e.source] += 1
    for nid, node in nodes.items():
        _settle_kind(node, has_out=out_of[nid] > 0, own=ends.get(node.cluster_id or -1, {}))
    best_in: dict[str, FlowEdge] = {}
    for e in edges:
        if e.target not in best_in or e.amount > best_in[e.target].amount:
            best_in[e.target] = e
    terminals = sorted(
        (nid for nid, n in nodes.items() if out_of[nid] == 0 and n.kind != "start"),
        key=lambda nid: (nodes[nid].kind != "cash-out", -_size(nodes[nid]), nid),
    )
    _rank(nodes, edges)
    return _Full(chain, nodes, edges, best_in, terminals)


def _endpoint_sums(result: TraceResult) -> dict[int, dict[str, dict[str, int]]]:
    """cluster -> endpoint kind -> asset -> amount that ended there."""
    out: dict[int, dict[str, dict[str, int]]] = defaultdict(
        lambda: defaultdict(lambda: defaultdict(int))
    )
    for e in result.endpoints:
        if e.cluster_id is not None:
            out[e.cluster_id][e.kind][e.asset] += int(e.amount)
    return out


def _node(n: Node, ends: dict[str, dict[str, int]]) -> FlowNode:
    amounts: dict[str, int] = defaultdict(int)
    for per_asset in ends.values():
        for a, v in per_asset.items():
            amounts[a] += v
    title = n.label or _ROLE_TITLES.get(n.role, "Unattributed wallet")
    if n.role == "start" and not n.label:
        title = f"Start: {n.starts:,} payment{'s' if n.starts != 1 else ''}"
    sub = f"cluster {n.cluster_id} · {n.addresses:,} addr."
    return FlowNode(
        f"c{n.cluster_id}", n.role, title, sub, n.category, dict(amounts), n.first_time,
        cluster_id=n.cluster_id, count=max(1, n.starts) if n.role == "start" else 1,
    )  # fmt: skip


def _amounts_from_flows(
    nodes: dict[str, FlowNode], edges: list[FlowEdge], result: TraceResult
) -> None:
    """A box's amount per asset: what flowed into it (a start: what left it). Endpoint sums
    stand where no flow is drawn; the trace's native asset where nothing else is known."""
    into: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    out: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for e in edges:
        into[e.target][e.asset] += e.amount
        out[e.source][e.asset] += e.amount
    native = next(iter(result.summary.get("start_amount") or {}), "")
    for nid, n in nodes.items():
        if n.kind == "start" and nid == "starts":
            continue
        flows = out[nid] if n.kind == "start" else into[nid]
        if flows:
            n.amounts = dict(flows)
        elif not n.amounts:
            raw = next((x for x in result.nodes if f"c{x.cluster_id}" == nid), None)
            n.amounts = {native: int(raw.amount)} if raw is not None else {}


_ROLE_TITLES = {
    "start": "Start",
    "transit": "Unattributed wallet",
    "held": "Holding wallet",
    "limit": "Hop limit reached",
    "coinjoin": "CoinJoin",
    "cash-out": "Service",
    "source": "Source",
}


def _merged_edges(edges: list[Edge], alias: dict[int, str]) -> list[FlowEdge]:
    merged: dict[tuple[str, str, str], FlowEdge] = {}
    for e in edges:
        s, t = alias.get(e.source), alias.get(e.target)
        if s is None or t is None or s == t:
            continue
        key = (s, t, e.asset)
        cur = merged.get(key)
        if cur is None:
            merged[key] = FlowEdge("", s, t, int(e.amount), e.asset, e.txs, e.first_time)
        else:
            cur.amount += int(e.amount)
            cur.txs += e.txs
            cur.first_time = _min_time(cur.first_time, e.first_time)
    out = sorted(merged.values(), key=lambda f: (_t(f.first_time), -f.amount, f.source, f.target))
    for i, f in enumerate(out):
        f.id = f"e{i}"
    return out


def _forward_only(nodes: dict[str, FlowNode], edges: list[FlowEdge]) -> list[FlowEdge]:
    """Money that comes back to a cluster it had passed (a cycle) goes to a "returns to"
    box instead of an arrow pointing back. Cycles are found as strongly connected
    components; inside one, boxes are ordered by when money first entered them and a flow
    against that order is the returning one."""
    import numpy as np
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    ids = {nid: i for i, nid in enumerate(nodes)}
    if not edges:
        return edges
    src = np.array([ids[e.source] for e in edges])
    dst = np.array([ids[e.target] for e in edges])
    m = coo_matrix((np.ones(len(edges)), (src, dst)), shape=(len(ids), len(ids)))
    _, comp = connected_components(m, directed=True, connection="strong")
    order = {nid: (_t(n.first_time), nid) for nid, n in nodes.items()}
    out: list[FlowEdge] = []
    for e, a, b in zip(edges, src.tolist(), dst.tolist(), strict=True):
        if comp[a] == comp[b] and order[e.source] >= order[e.target]:
            back = nodes[e.target]
            rid = f"{e.target}-return-{e.id}"
            nodes[rid] = FlowNode(
                rid, "return", f"Returns to {back.title}", back.subtitle, back.category,
                {e.asset: e.amount}, e.first_time, cluster_id=back.cluster_id,
            )  # fmt: skip
            e.target = rid
        out.append(e)
    return out


def _settle_kind(node: FlowNode, *, has_out: bool, own: dict[str, dict[str, int]]) -> None:
    """A box that passes money on is transit, whatever else ends there (it says so)."""
    if node.kind in ("start", "return", "dispersed"):
        return
    if has_out:
        held: dict[str, int] = defaultdict(int)
        for per_asset in own.values():
            for a, v in per_asset.items():
                held[a] += v
        if node.kind != "transit" and node.title == _ROLE_TITLES.get(node.kind):
            node.title = _ROLE_TITLES["transit"]
        node.kind, node.holds = "transit", dict(held)


def _rank(nodes: dict[str, FlowNode], edges: list[FlowEdge]) -> None:
    """Columns: the longest path from a start (Kahn's order over the acyclic flows)."""
    indeg: dict[str, int] = {nid: 0 for nid in nodes}
    out: dict[str, list[str]] = defaultdict(list)
    for e in edges:
        indeg[e.target] += 1
        out[e.source].append(e.target)
    queue = [nid for nid, d in indeg.items() if d == 0]
    for n in nodes.values():
        n.rank = 0
    i = 0
    while i < len(queue):
        nid = queue[i]
        i += 1
        for t in out[nid]:
            nodes[t].rank = max(nodes[t].rank, nodes[nid].rank + 1)
            indeg[t] -= 1
            if indeg[t] == 0:
                queue.append(t)


# --- choosing what to draw ------------------------------------------------------------


def _choose(full: _Full, budget: int, *, free_plain: bool = False) -> set[str]:
    """Boxes to draw: the starts, then endpoints by amount (cash-outs first, for up to half
    the budget) each with the widest way that brought money there. With ``free_plain``
    (chains are folded into arrows afterwards) plain wallets on a way cost nothing."""
    kept = {nid for nid, n in full.nodes.items() if n.kind == "start"}
    used = len(kept)
    reserve = min(3, budget // 4)  # room for dispersed boxes
    cash_first = [t for t in full.terminals if full.nodes[t].kind == "cash-out"]
    for first, group in ((True, cash_first[: max(1, (budget - reserve) // 2)]),
                         (False, full.terminals)):  # fmt: skip
        for t in group:
            if t in kept:
                continue
            path = _way_to(full, t, kept)
            cost = sum(1 for nid in path if not (free_plain and _plain(full.nodes[nid])))
            if used + cost <= budget - reserve and len(kept) + len(path) <= 4 * budget:
                kept |= set(path)
                used += cost
            elif first and used + 1 <= budget - reserve:
                kept.add(t)  # a large cash-out is drawn even when its way is too long to be
                used += 1  # (one arrow from the last box drawn says how many wallets it took)
    return kept


def _plain(n: FlowNode) -> bool:
    """An unattributed wallet that only passes money on (a peel chain's link)."""
    return (
        n.kind == "transit"
        and not n.holds
        and n.category is None
        and (n.title == _ROLE_TITLES["transit"])
    )


def _expanded(
    full: _Full, kept: set[str], expand: frozenset[str], collapse: frozenset[str]
) -> set[str]:
    out = set(kept)
    for e in full.edges:
        if e.source in expand and e.source in out:
            out.add(e.target)
    if collapse:
        below: dict[str, list[str]] = defaultdict(list)
        for e in full.edges:
            below[e.source].append(e.target)
        stack = [t for c in collapse for t in below.get(c, [])]
        while stack:
            nid = stack.pop()
            if nid in out and full.nodes[nid].kind != "start" and nid not in expand:
                out.discard(nid)
                stack.extend(below.get(nid, []))
    return out


def _way_to(full: _Full, target: str, kept: set[str]) -> list[str]:
    """``target`` and the boxes on the widest flow into it, back to a box already kept."""
    path, nid, seen = [], target, set()
    while nid not in kept and nid not in seen:
        seen.add(nid)
        path.append(nid)
        e = full.best_in.get(nid)
        if e is None:
            break
        nid = e.source
    return path


def _last_kept(full: _Full, target: str, kept: set[str]) -> str:
    nid, seen = target, set()
    while nid not in kept and nid not in seen:
        seen.add(nid)
        e = full.best_in.get(nid)
        if e is None:
            return next(iter(sorted(n for n in kept if full.nodes[n].kind == "start")), nid)
        nid = e.source
    return nid


def _group(n: FlowNode) -> str:
    return f"{n.kind}|{n.category or ''}"


def _reduced(full: _Full, kept: set[str], result: TraceResult) -> FlowGraph:
    nodes = [n for nid, n in full.nodes.items() if nid in kept]
    edges = [e for e in full.edges if e.source in kept and e.target in kept]
    entered = {e.target for e in edges}
    for n in nodes:  # a box whose way is not drawn: one arrow from the last box on it
        if n.kind == "start" or n.id in entered or n.id not in full.best_in:
            continue
        via, hops, nid = n.id, 0, n.id
        while nid not in kept or nid == n.id:
            e = full.best_in.get(nid)
            if e is None:
                break
            nid, hops = e.source, hops + 1
        via = nid if nid in kept else "starts" if "starts" in kept else via
        if via != n.id:
            for a, v in sorted(n.amounts.items()):
                edges.append(FlowEdge(f"w{len(edges)}", via, n.id, v, a, 0, n.first_time,
                                      dashed=True, via=max(0, hops - 1)))  # fmt: skip
    groups: dict[tuple[str, str], list[str]] = defaultdict(list)
    for t in full.terminals:
        if t not in kept:
            groups[(_last_kept(full, t, kept), _group(full.nodes[t]))].append(t)
    boxes: dict[str, FlowNode] = {}
    for (via, group), members in sorted(groups.items()):
        kind, category = group.split("|")
        bid = f"dispersed-{kind}-{category or 'unattributed'}"
        box = boxes.get(bid)
        if box is None:
            box = boxes[bid] = FlowNode(
                bid, "dispersed", _KIND_PLURAL.get(kind, f"Other {kind}"),
                category or "unattributed", category or None, {}, None, count=0,
            )  # fmt: skip
        totals: dict[str, int] = defaultdict(int)
        for m in members:
            node = full.nodes[m]
            box.count += 1
            box.first_time = _min_time(box.first_time, node.first_time)
            for a, v in node.amounts.items():
                box.amounts[a] = box.amounts.get(a, 0) + v
                totals[a] += v
        if via in kept:
            for a, v in sorted(totals.items()):
                edges.append(FlowEdge(f"d{len(edges)}", via, bid, v, a, len(members),
                                      box.first_time, dashed=True))  # fmt: skip
    for box in boxes.values():
        noun = "endpoint" if box.count == 1 else "endpoints"
        box.subtitle = f"{box.count:,} {noun} not drawn · {box.subtitle}"
    nodes += list(boxes.values())
    by_id = {n.id: n for n in nodes}
    _rank(by_id, edges)
    _push_ends(nodes)
    s = result.summary
    title = f"{s.get('method', '')} trace {s.get('direction', '')} on {full.chain}".strip()
    left_out = len(full.nodes) - len(kept)
    graph = FlowGraph(full.chain, title, nodes, edges, left_out=left_out)
    if left_out:
        graph.notes.append(
            f"{left_out:,} smaller clusters are not drawn as their own box: their endpoints "
            "are summed into the dashed 'Other ...' boxes"
        )
    return graph


def _push_ends(nodes: list[FlowNode]) -> None:
    """Cash-outs (and the dispersed boxes) in the rightmost column."""
    last = max((n.rank for n in nodes if n.kind in ("start", "transit")), default=0)
    for n in nodes:
        if n.kind in ("cash-out", "dispersed"):
            n.rank = max(last + 1, n.rank)


_KIND_PLURAL = {
    "cash-out": "Other cash-outs",
    "held": "Other holding wallets",
    "limit": "Other hop-limit ends",
    "coinjoin": "Other CoinJoins",
    "return": "Other returning flows",
    "transit": "Other wallets",
    "source": "Other sources",
}


# --- labels -------------------------------------------------------------------------


def _label(graph: FlowGraph, fiat: FiatLookup | None) -> None:
    chain = graph.chain
    peak_node = max((_size(n) for n in graph.nodes), default=1) or 1
    peak_edge = max((e.amount for e in graph.edges), default=1) or 1
    for n in graph.nodes:
        amounts = {a: v for a, v in n.amounts.items() if a}
        n.amount_text = display.amounts(amounts, chain=chain)
        n.time_text = display.time_utc(n.first_time)
        if n.holds:
            n.held_text = "still holds " + display.amounts(n.holds, chain=chain)
        n.weight = _size(n) / peak_node
        if fiat is not None:
            parts = [fiat(a, chain, n.first_time, v) for a, v in amounts.items()]
            n.fiat_text = "; ".join(p for p in parts if p) or None
    for e in graph.edges:
        e.amount_text = display.amount(e.amount, e.asset, chain=chain)
        if e.via:
            e.amount_text += f" via {e.via} wallet{'s' if e.via != 1 else ''}"
        e.weight = e.amount / peak_edge
        if fiat is not None:
            e.fiat_text = fiat(e.asset, chain, e.first_time, e.amount)


def _size(n: FlowNode) -> int:
    return max(n.amounts.values(), default=0)


def _min_time(a: int | None, b: int | None) -> int | None:
    if a is None:
        return b
    if b is None:
        return a
    return min(a, b)


def _t(t: int | None) -> int:
    return t if t is not None else 2**62
