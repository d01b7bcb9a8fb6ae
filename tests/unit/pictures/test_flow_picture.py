"""Money-flow pictures people can read: the rules the round-one pictures broke.

Built from hand-made trace results (a few hundred starts, a cycle, a cluster that keeps
part and passes the rest on, hundreds of cash-outs) and drawn by the real Graphviz; the
layout is read back from dot's JSON (positions and text extents in points).
"""

from __future__ import annotations

import json
from itertools import combinations

import pytest

from fundtrail.analysis.trace.result import Edge, Endpoint, Node, TraceResult
from fundtrail.pictures import dot
from fundtrail.pictures.flowgraph import build

T0 = 1_700_000_000
COIN = 100_000_000


def _trace() -> TraceResult:
    """400 victims pay 400 collection clusters (1..400) -> gang 1000 -> peel 1001 -> 1002,
    1002 sends some back to 1001 (a cycle) and keeps 2 BTC; 1002 -> 60 exchange deposits
    (cash-outs 2000..2059, 0.5-30 BTC) and 1001 -> mixer-ish holding wallets 3000..3039."""
    nodes = [Node(i, None, None, "start", COIN, 1, T0 + i, 1) for i in range(1, 401)]
    edges = [Edge(i, 1000, COIN, "BTC", 1, T0 + 500 + i) for i in range(1, 401)]
    nodes += [
        Node(1000, "Gang wallet", "scam", "transit", 400 * COIN, 3, T0 + 501),
        Node(1001, None, None, "transit", 390 * COIN, 2, T0 + 2000),
        Node(1002, None, None, "held", 380 * COIN, 2, T0 + 3000),
    ]
    edges += [
        Edge(1000, 1001, 390 * COIN, "BTC", 5, T0 + 2000),
        Edge(1001, 1002, 380 * COIN, "BTC", 4, T0 + 3000),
        Edge(1002, 1001, 3 * COIN, "BTC", 1, T0 + 3500),  # money comes back: a cycle
    ]
    endpoints = [Endpoint("held2", None, 1002, None, "held", 2 * COIN, "BTC", "tx", T0 + 3000, 3)]
    for k in range(60):
        cid, amount = 2000 + k, (30 * COIN) // (k + 1)
        nodes.append(
            Node(cid, f"Exchange {k % 4}", "exchange", "cash-out", amount, 1, T0 + 4000 + k)
        )
        edges.append(Edge(1002, cid, amount, "BTC", 1, T0 + 4000 + k))
        endpoints.append(Endpoint(f"a{cid}", f"d{cid}", cid, {"label": f"Exchange {k % 4}",
                         "category": "exchange"}, "cash-out", amount, "BTC", f"t{cid}", T0 + 4000 + k, 4))  # fmt: skip
    for k in range(40):
        cid = 3000 + k
        nodes.append(Node(cid, None, None, "held", COIN // 4, 1, T0 + 2500 + k))
        edges.append(Edge(1001, cid, COIN // 4, "BTC", 1, T0 + 2500 + k))
        endpoints.append(Endpoint(f"h{cid}", None, cid, None, "held", COIN // 4, "BTC", f"u{cid}", T0 + 2500 + k, 3))  # fmt: skip
    summary = {"chain": "BTC", "direction": "forward", "method": "haircut", "starts": 400,
               "start_amount": {"BTC": 400 * COIN}}  # fmt: skip
    return TraceResult(endpoints, nodes, edges, summary)


@pytest.fixture(scope="module")
def result() -> TraceResult:
    return _trace()


def test_starts_are_one_box_that_says_how_many(result: TraceResult) -> None:
    g = build(result, max_nodes=20)
    starts = [n for n in g.nodes if n.kind == "start"]
    assert [(n.title, n.amount_text) for n in starts] == [("400 starting points", "400 BTC")]


def test_boxes_are_named_and_amounts_in_coins(result: TraceResult) -> None:
    g = build(result, max_nodes=20)
    gang = g.node("c1000")
    assert gang.title == "Gang wallet" and gang.subtitle == "cluster 1000 · 3 addr."
    assert gang.amount_text == "400 BTC"
    biggest = max((e for e in g.edges if e.target.startswith("c2")), key=lambda e: e.amount)
    assert biggest.amount_text == "30 BTC"
    assert all("cluster" not in n.title for n in g.nodes)


def test_at_most_the_budget_and_nothing_lost(result: TraceResult) -> None:
    g = build(result, max_nodes=20)
    assert len(g.nodes) <= 20
    ends = {n.id: n for n in g.nodes if n.kind in ("cash-out", "held", "dispersed", "return")}
    drawn = sum(sum(n.amounts.values()) for n in ends.values())
    traced = sum(e.amount for e in result.edges if e.target >= 2000) + 3 * COIN
    assert drawn == traced  # what is not drawn as a box is summed into the dispersed ones
    assert any(n.kind == "dispersed" and n.count > 1 for n in g.nodes)


def test_arrows_forward_held_boxes_hold(result: TraceResult) -> None:
    g = build(result, max_nodes=20)
    rank = {n.id: n.rank for n in g.nodes}
    kind = {n.id: n.kind for n in g.nodes}
    assert all(rank[e.source] < rank[e.target] for e in g.edges)
    assert not [e for e in g.edges if kind[e.source] == "held"]
    whole = build(result, max_nodes=500)
    back = [e for e in whole.edges if whole.node(e.target).kind == "return"]
    assert [(e.source, e.amount_text) for e in back] == [("c1002", "3 BTC")]  # not an arrow back
    assert g.node("c1002").held_text == "still holds 2 BTC"
    cash = [n.rank for n in g.nodes if n.kind == "cash-out"]
    assert min(cash) == max(rank.values())  # cash-outs in the rightmost column
    assert all(rank[e.source] <= rank[e.target] for e in g.edges if e.first_time)
    for e in g.edges:  # and in time: money leaves a box only after it entered
        src = g.node(e.source)
        if src.first_time is not None and e.first_time is not None:
            assert e.first_time >= src.first_time


def _layout(graph_dot: str) -> dict:
    return json.loads(dot.render(graph_dot, "json"))


def _texts(layout: dict) -> list[tuple[float, float, float, float, str]]:
    """(x0, y0, x1, y1, text) of every text dot placed, from its xdot drawing ops."""
    out = []
    for obj in layout.get("objects", []) + layout.get("edges", []):
        size = 14.0
        for key in ("_ldraw_", "_hldraw_", "_tldraw_"):
            for op in obj.get(key, []):
                if op["op"] == "F":
                    size = float(op["size"])
                if op["op"] == "T":
                    x, y = op["pt"]
                    w = float(op["width"])
                    x0 = {"l": x, "c": x - w / 2, "r": x - w}[op["align"]]
                    out.append((x0, y - size * 0.25, x0 + w, y + size * 0.75, op["text"]))
    return out


def test_printed_text_is_8pt_and_labels_do_not_overlap(result: TraceResult) -> None:
    fitted = dot.fit_for_page(result)
    assert fitted.scale * dot.SMALL_PT >= 8.0
    assert fitted.print_width_pt <= dot.PAGE_W_PT + 0.5
    texts = _texts(_layout(dot.to_dot(fitted.graph)))
    assert len(texts) > 20
    sizes = set()
    for a, b in combinations(texts, 2):
        overlap_x = min(a[2], b[2]) - max(a[0], b[0])
        overlap_y = min(a[3], b[3]) - max(a[1], b[1])
        assert overlap_x <= 0.5 or overlap_y <= 0.5, f"{a[4]!r} overlaps {b[4]!r}"
    for obj in _layout(dot.to_dot(fitted.graph)).get("objects", []):
        for op in obj.get("_ldraw_", []):
            if op["op"] == "F":
                sizes.add(float(op["size"]))
    assert min(sizes) * fitted.scale >= 8.0


def test_arrows_point_right_in_the_drawing(result: TraceResult) -> None:
    graph = build(result, max_nodes=20)
    layout = _layout(dot.to_dot(graph))
    pos = {o["name"]: float(o["pos"].split(",")[0]) for o in layout["objects"] if "pos" in o}
    for e in layout.get("edges", []):
        tail, head = layout["objects"][e["tail"]]["name"], layout["objects"][e["head"]]["name"]
        assert pos[tail] < pos[head], (tail, head)
    start_x = pos["starts"]
    cash_x = [pos[n.id] for n in graph.nodes if n.kind == "cash-out"]
    assert cash_x and all(start_x < x for x in cash_x)


def test_the_largest_cash_out_is_drawn_even_when_its_way_is_not(result: TraceResult) -> None:
    g = build(result, max_nodes=5)
    assert "c2000" in {n.id for n in g.nodes}  # 30 BTC at Exchange 0, three boxes away
    (way,) = [e for e in g.edges if e.target == "c2000"]
    assert way.source == "starts" and way.via == 3 and way.amount_text == "30 BTC via 3 wallets"
