"""The shape of a trace's answer: endpoints, dispersed totals, a money-flow graph, a summary.

``TraceResult.to_dict()`` is the ``--json`` output and the API body::

    {"endpoints": [{"address", "deposit_address", "cluster_id", "entity", "kind",
                    "amount", "asset", "txid", "time", "hops"}],
     "dispersed": [{"kind", "entity", "asset", "amount", "places", "endpoints"}],
     "graph": {"nodes": [...], "edges": [...]},
     "summary": {...}}

Endpoint kinds, forward: ``cash-out`` (money entered a service: an exchange, or a
deposit cluster swept into one), ``held`` (it rests in a wallet), ``limit`` (the hop
limit or time window stopped the walk), ``coinjoin`` (poison stops at CoinJoins).
Backward the ends are ``source`` (the money came out of a service), ``origin`` (coins
mined or minted, or no recorded inflow explains them), ``limit`` and ``coinjoin``.

Results are sized for people: endpoints are grouped by *place* (kind, deposit address or
address, asset) and ranked by the place's amount; a place below the request's floor is
not listed but summed into ``dispersed`` (per kind, entity and asset), so that listed
endpoints plus dispersed totals add up exactly to the kind totals of the summary. A
forward cash-out or held place that one payment of mostly traced money reached (at
least ``PURE_SHARE`` of that output's, or on account chains that transfer's, value) is
listed whatever the floor: a gang's peel
into a deposit address (swept or not yet, the address shared with other deposits or
not) may be small but is all proceeds, where an ordinary customer's payment reached by
a sliver is mostly its own money.
Amounts are exact integers in base units (JSON numbers of any size).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from fundtrail.arrays import distinct

FORWARD_KINDS = ("cash-out", "held", "limit", "coinjoin")
BACKWARD_KINDS = ("source", "origin", "limit", "coinjoin")
SERVICE_KINDS = frozenset({"cash-out", "source"})
PURE_SHARE = 0.5  # a payment this much traced lists its cash-out/held place below the floor
PURE_KINDS = frozenset({"cash-out", "held"})


def kinds(direction: str) -> tuple[str, ...]:
    return FORWARD_KINDS if direction == "forward" else BACKWARD_KINDS


@dataclass(frozen=True, slots=True)
class Endpoint:
    """Where (part of) the traced money ended: one output or one address balance."""

    address: str | None
    deposit_address: str | None  # cash-out: the customer deposit address it entered by
    cluster_id: int | None
    entity: dict[str, Any] | None  # {"label", "category", "heuristic", "confidence"}
    kind: str  # see the module docstring
    amount: int
    asset: str
    txid: str | None  # the tx (or TXHASH:LOGINDEX transfer) that brought the money here
    time: int | None
    hops: int
    # the whole value of the payment (output, or account transfer into a service) that
    # brought it (forward haircut/FIFO traces; else None): amount / payment is how much of
    # that one payment was traced money
    payment: int | None = None

    @property
    def place(self) -> tuple[str, str, str | None]:
        """What a person acts on: a deposit address (cash-outs) or a wallet address."""
        return (self.kind, self.asset, self.deposit_address or self.address)

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
            "payment": None if self.payment is None else int(self.payment),
        }


@dataclass(slots=True)
class Dispersed:
    """Money below the listing floor, summed per kind, entity and asset."""

    kind: str
    entity: str | None  # the entity's label (e.g. the exchange of small cash-outs)
    asset: str
    amount: int = 0
    places: int = 0
    endpoints: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "entity": self.entity,
            "asset": self.asset,
            "amount": int(self.amount),
            "places": self.places,
            "endpoints": self.endpoints,
        }


@dataclass(slots=True)
class Node:
    """A cluster the traced money passed through or ended in."""

    cluster_id: int
    label: str | None
    category: str | None
    role: str  # start | transit | an endpoint kind
    amount: int = 0  # taint received (start: taint that left it)
    addresses: int = 0
    first_time: int | None = None  # Unix time traced money first entered (start: was paid)
    starts: int = 0  # how many of the trace's starting points lie in this cluster

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": f"c{self.cluster_id}",
            "cluster_id": self.cluster_id,
            "label": self.label,
            "category": self.category,
            "role": self.role,
            "amount": int(self.amount),
            "addresses": self.addresses,
            "first_time": self.first_time,
            "starts": self.starts,
        }


@dataclass(slots=True)
class Edge:
    source: int  # cluster ids; money flows source -> target
    target: int
    amount: int
    asset: str
    txs: int
    first_time: int | None = None  # Unix time of the earliest tx in this flow
    swap: bool = False  # money into a swap pool, or the other asset it paid back

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "source": f"c{self.source}",
            "target": f"c{self.target}",
            "amount": int(self.amount),
            "asset": self.asset,
            "txs": self.txs,
            "first_time": self.first_time,
        }
        if self.swap:
            out["swap"] = True
        return out


@dataclass
class TraceResult:
    endpoints: list[Endpoint]
    nodes: list[Node] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)
    dispersed: list[Dispersed] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "endpoints": [e.to_dict() for e in self.endpoints],
            "dispersed": [d.to_dict() for d in self.dispersed],
            "graph": {
                "nodes": [n.to_dict() for n in self.nodes],
                "edges": [e.to_dict() for e in self.edges],
            },
            "summary": self.summary,
        }

    def total(self, kind: str | None = None, asset: str | None = None) -> int:
        """Listed plus dispersed amount of ``kind`` (all kinds if None) in ``asset``."""
        listed = sum(
            e.amount
            for e in self.endpoints
            if (kind is None or e.kind == kind) and (asset is None or e.asset == asset)
        )
        return listed + sum(
            d.amount
            for d in self.dispersed
            if (kind is None or d.kind == kind) and (asset is None or d.asset == asset)
        )

    def cash_outs(self) -> list[Endpoint]:
        return [e for e in self.endpoints if e.kind == "cash-out"]


@dataclass(frozen=True, slots=True)
class Candidates:
    """Every endpoint a walk produced, as parallel arrays (one row per endpoint).

    ``kind`` indexes the direction's kinds, ``asset`` and ``label`` index the caller's
    lists (``label`` -1: no entity), ``place`` is the address id a person acts on
    (the deposit address of a cash-out, else the address; -1: none). ``amount`` is int64
    (UTXO) or object (Python ints: account-chain amounts exceed 64 bits). ``received``
    (same dtype, optional): the full value of the payment the row's taint rides in, for
    the purity rule of ``size_for_people`` (None: amounts alone decide, e.g. poison; a
    None entry: that row's amount alone decides, e.g. an account chain's held balance).
    """

    kind: np.ndarray
    asset: np.ndarray
    place: np.ndarray
    label: np.ndarray
    amount: np.ndarray
    received: np.ndarray | None = None


def size_for_people(
    rows: Candidates,
    floors: dict[int, int],
    kind_names: Sequence[str],
    labels: Sequence[str],
    assets: Sequence[str],
) -> tuple[list[int], list[Dispersed]]:
    """Rows to list, ranked, and the rest summed as dispersed totals.

    A place is listed when its total (all its rows) reaches ``floors[asset]``, or when
    it is a cash-out or held place one of whose rows carries at least ``PURE_SHARE`` of
    the value of its payment (``rows.received``); its rows are ranked by the place's total (largest
    first), then place, amount and row, so the order is stable. Nothing is lost: every
    row is either listed or summed.
    """
    n = len(rows.amount)
    if n == 0:
        return [], []
    key = (rows.kind.astype(np.int64) * 4096 + rows.asset.astype(np.int64)) << 40
    key |= rows.place.astype(np.int64) + 1
    uniq, inv = np.unique(key, return_inverse=True)
    totals = np.zeros(len(uniq), dtype=rows.amount.dtype)
    np.add.at(totals, inv, rows.amount)
    floor = np.array([floors.get(int(a), 0) for a in rows.asset.tolist()], dtype=object)
    place_total = totals[inv]
    keep = np.array(
        [t > 0 and t >= f for t, f in zip(place_total.tolist(), floor.tolist(), strict=True)],
        dtype=bool,
    )
    if rows.received is not None:
        service = np.isin(rows.kind, [k for k, name in enumerate(kind_names)
                                      if name in PURE_KINDS])  # fmt: skip
        amount, got = rows.amount.tolist(), rows.received.tolist()
        pure = np.array([v is not None and a > 0 and a >= PURE_SHARE * v
                         for a, v in zip(amount, got, strict=True)],
                        dtype=bool) & service  # fmt: skip
        pure_place = np.zeros(len(uniq), dtype=bool)
        pure_place[inv[pure]] = True
        keep |= pure_place[inv] & (place_total > 0)
    listed = np.flatnonzero(keep).tolist()
    tot, place, amount = place_total.tolist(), rows.place.tolist(), rows.amount.tolist()
    listed.sort(key=lambda i: (-tot[i], place[i], -amount[i], i))
    dropped = np.flatnonzero(~keep)
    out: list[Dispersed] = []
    if len(dropped):
        gkey = (rows.kind[dropped].astype(np.int64) * 4096 + rows.asset[dropped]) << 32
        gkey |= rows.label[dropped].astype(np.int64) + 1
        groups, ginv = np.unique(gkey, return_inverse=True)
        sums = np.zeros(len(groups), dtype=rows.amount.dtype)
        np.add.at(sums, ginv, rows.amount[dropped])
        counts = np.bincount(ginv, minlength=len(groups))
        places = np.bincount(distinct(ginv.astype(np.int64) * len(uniq) + inv[dropped])
                             // len(uniq), minlength=len(groups))  # fmt: skip
        for g, s, c, p in zip(groups.tolist(), sums.tolist(), counts.tolist(), places.tolist(),
                              strict=True):  # fmt: skip
            label = (g & 0xFFFFFFFF) - 1
            kind, asset = divmod(g >> 32, 4096)
            out.append(Dispersed(kind_names[kind], labels[label] if label >= 0 else None,
                                 assets[asset], int(s), int(p), int(c)))  # fmt: skip
    out.sort(key=lambda d: (d.asset, -d.amount, d.kind, d.entity or ""))
    return listed, out
