"""What the trace canvas shows: the flow model, per-exchange subtotals, a page of endpoints.

The browser never formats an amount: JSON numbers lose precision beyond 2**53 (wei) and
a second formatter would drift from the first. Every amount and time arrives here as the
display layer's text beside the exact base units (as a string). The graph is the same
:func:`fundtrail.pictures.flowgraph.build` the printed pictures use, so the canvas and
the case file show the same boxes, ranks and labels.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from fundtrail.analysis.trace.result import Endpoint, TraceResult
from fundtrail.model import display
from fundtrail.pictures.flowgraph import FiatLookup, build

PER_PAGE = 50
MAX_NODES = 24


def canvas_payload(
    result: TraceResult,
    *,
    expand: frozenset[str] = frozenset(),
    collapse: frozenset[str] = frozenset(),
    max_nodes: int = MAX_NODES,
    page: int = 1,
    fiat: FiatLookup | None = None,
) -> dict[str, Any]:
    """The body of ``/ui/trace.json``: graph, summary, subtotals, one page of endpoints."""
    chain = str(result.summary.get("chain", "BTC"))
    graph = build(result, max_nodes=max_nodes, fiat=fiat, expand=expand, collapse=collapse,
                  squash_chains=True)  # fmt: skip
    pages = max(1, -(-len(result.endpoints) // PER_PAGE))
    page = min(max(1, page), pages)
    rows = result.endpoints[(page - 1) * PER_PAGE : page * PER_PAGE]
    return {
        "graph": graph.to_dict(),
        "summary": _summary(result, chain),
        "exchanges": exchange_subtotals(result.endpoints, chain),
        "endpoints": [endpoint_row(e, chain, fiat) for e in rows],
        "page": page,
        "pages": pages,
        "endpoints_total": len(result.endpoints),
    }


def endpoint_row(e: Endpoint, chain: str, fiat: FiatLookup | None = None) -> dict[str, Any]:
    ent = e.entity or {}
    return {
        "kind": e.kind,
        "entity": f"{ent['label']} ({ent['category']})" if ent else "",
        "address": e.deposit_address or e.address or "",
        "amount": str(e.amount),
        "amount_text": display.amount(e.amount, e.asset, chain=chain),
        "fiat_text": fiat(e.asset, chain, e.time, e.amount) if fiat else None,
        "hops": e.hops,
        "txid": e.txid or "",
        "time_text": display.time_utc(e.time),
    }


def exchange_subtotals(endpoints: list[Endpoint], chain: str) -> list[dict[str, Any]]:
    """Cash-outs per exchange, largest first: the first thing an investigator asks."""
    per: dict[str, dict[str, Any]] = {}
    for e in endpoints:
        if e.kind != "cash-out":
            continue
        name = (e.entity or {}).get("label") or "unattributed service"
        row = per.setdefault(name, {"amounts": defaultdict(int), "deposits": set(), "n": 0})
        row["amounts"][e.asset] += e.amount
        row["deposits"].add(e.deposit_address or e.address)
        row["n"] += 1
    out = [
        {
            "exchange": name,
            "amount_text": display.amounts(dict(r["amounts"]), chain=chain),
            "amounts": {a: str(v) for a, v in r["amounts"].items()},
            "deposit_addresses": len(r["deposits"]),
            "payments": r["n"],
        }
        for name, r in per.items()
    ]
    return sorted(out, key=lambda r: -max(int(v) for v in r["amounts"].values()))


def _summary(result: TraceResult, chain: str) -> dict[str, Any]:
    s = result.summary
    started = {
        a: display.amount(v, a, chain=chain) for a, v in (s.get("start_amount") or {}).items()
    }
    totals = {
        asset: {k: display.amount(v, asset, chain=chain) for k, v in per.items() if v}
        for asset, per in (s.get("totals") or {}).items()
    }
    return {
        "chain": chain,
        "method": s.get("method"),
        "direction": s.get("direction"),
        "starts": s.get("starts"),
        "started_text": ", ".join(started.values()),
        "totals_text": totals,
        "endpoints": len(result.endpoints),
        "clusters": len(result.nodes),
    }
