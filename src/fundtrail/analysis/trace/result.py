"""The shape of a trace's answer: endpoints, a cluster-level money-flow graph, a summary.

``TraceResult.to_dict()`` is the ``--json`` output and the API body::

    {"endpoints": [{"address", "deposit_address", "cluster_id", "entity", "kind",
                    "amount", "asset", "txid", "time", "hops"}],
     "graph": {"nodes": [...], "edges": [...]},
     "summary": {...}}

Amounts are exact integers in base units (JSON numbers of any size).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

KINDS = ("cash-out", "held", "limit", "coinjoin")


@dataclass(frozen=True, slots=True)
class Endpoint:
    """Where (part of) the traced money ended: one output or one address balance."""

    address: str | None
    deposit_address: str | None  # cash-out: the customer deposit address it entered by
    cluster_id: int | None
    entity: dict[str, str] | None  # {"label", "category"} of the cluster, if attributed
    kind: str  # cash-out | held | limit | coinjoin
    amount: int
    asset: str
    txid: str | None  # the tx (or TXHASH:LOGINDEX transfer) that brought the money here
    time: int | None
    hops: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "address": self.address,
            "deposit_address": self.deposit_address,
            "cluster_id": self.cluster_id,
            "entity": dict(self.entity) if self.entity else None,
            "kind": self.kind,
            "amount": int(self.amount),
            "asset": self.asset,
            "txid": self.txid,
            "time": self.time,
            "hops": int(self.hops),
        }


@dataclass(slots=True)
class Node:
    """A cluster the traced money passed through or ended in."""

    cluster_id: int
    label: str | None
    category: str | None
    role: str  # start | transit | cash-out | held | limit | coinjoin
    amount: int = 0  # taint received (start: taint that left it)
    addresses: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": f"c{self.cluster_id}",
            "cluster_id": self.cluster_id,
            "label": self.label,
            "category": self.category,
            "role": self.role,
            "amount": int(self.amount),
            "addresses": self.addresses,
        }


@dataclass(slots=True)
class Edge:
    source: int  # cluster ids; money flows source -> target
    target: int
    amount: int
    asset: str
    txs: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": f"c{self.source}",
            "target": f"c{self.target}",
            "amount": int(self.amount),
            "asset": self.asset,
            "txs": self.txs,
        }


@dataclass
class TraceResult:
    endpoints: list[Endpoint]
    nodes: list[Node] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "endpoints": [e.to_dict() for e in self.endpoints],
            "graph": {
                "nodes": [n.to_dict() for n in self.nodes],
                "edges": [e.to_dict() for e in self.edges],
            },
            "summary": self.summary,
        }

    def total(self, kind: str | None = None, asset: str | None = None) -> int:
        return sum(
            e.amount
            for e in self.endpoints
            if (kind is None or e.kind == kind) and (asset is None or e.asset == asset)
        )

    def cash_outs(self) -> list[Endpoint]:
        return [e for e in self.endpoints if e.kind == "cash-out"]


def sort_endpoints(endpoints: list[Endpoint]) -> list[Endpoint]:
    """Cash-outs first, then by amount (largest first), then by txid for a stable order."""
    rank = {k: i for i, k in enumerate(KINDS)}
    return sorted(
        endpoints, key=lambda e: (rank.get(e.kind, 9), -e.amount, e.txid or "", e.address or "")
    )
