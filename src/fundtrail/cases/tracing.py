"""Forward traces from victims' payments, through the tracing part's one entry point.

Turns a trace's endpoints into what a case needs: cash-out points per exchange, the
deposit addresses freeze requests cite.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fundtrail.cases.views import CashoutView


@dataclass(frozen=True, slots=True)
class TraceParams:
    method: str = "haircut"
    hops: int = 10
    min_share: float | None = None  # None: the trace's default listing floor

    def to_dict(self) -> dict[str, Any]:
        return {"direction": "forward", "method": self.method, "hops": self.hops}


@dataclass(slots=True)
class CampaignTrace:
    """Every chain's trace of one set of payments, merged."""

    results: dict[str, Any] = field(default_factory=dict)  # chain -> TraceResult
    cashouts: list[CashoutView] = field(default_factory=list)

    def endpoints(self) -> list[dict[str, Any]]:
        return [
            e.to_dict() | {"chain": chain} for chain, r in self.results.items() for e in r.endpoints
        ]

    def to_dict(self) -> dict[str, Any]:
        return {
            "endpoints": self.endpoints(),
            "graph": {c: r.to_dict()["graph"] for c, r in self.results.items()},
            "summary": {c: r.summary for c, r in self.results.items()},
        }


def start_of(txid: str, vout: int | None) -> str:
    """The trace start for a complaint: TXID:VOUT, TXHASH:LOGINDEX or TXHASH (native)."""
    return txid if vout is None or vout < 0 else f"{txid}:{vout}"


def trace_payments(
    payments: Iterable[tuple[str, str, int]], params: TraceParams, home: Path | None = None
) -> CampaignTrace:
    """Forward-trace ``(chain, start, amount)`` payments; each start capped at its amount."""
    from fundtrail.analysis.trace.request import DEFAULT_MIN_SHARE, TraceRequest
    from fundtrail.analysis.trace.service import trace

    by_chain: dict[str, dict[str, int]] = defaultdict(dict)
    for chain, start, amount in payments:
        by_chain[chain][start] = by_chain[chain].get(start, 0) + amount
    out = CampaignTrace()
    for chain, amounts in sorted(by_chain.items()):
        floor = DEFAULT_MIN_SHARE if params.min_share is None else params.min_share
        request = TraceRequest.parse(
            chain, list(amounts), method=params.method, hops=params.hops, amounts=amounts,
            min_share=floor,
        )  # fmt: skip
        result = trace(request, home=home)
        out.results[chain] = result
        out.cashouts += mark_service_wallets(chain, cashouts_of(chain, result.endpoints), home)
    return out


def mark_service_wallets(
    chain: str, cashouts: list[CashoutView], home: Path | None = None
) -> list[CashoutView]:
    """Flag cash-outs whose "deposit address" is a wallet tagged as the service's own."""
    from fundtrail.chainstore.tags import TagStore

    wanted = {c.deposit_address for c in cashouts if c.deposit_address}
    if not wanted:
        return cashouts
    own = {
        t.address
        for t in TagStore(home).lookup(chain, wanted)
        if t.category in ("exchange", "service")
    }
    for c in cashouts:
        if c.deposit_address in own:
            c.deposit_identified = False
    return cashouts


def cashouts_of(chain: str, endpoints: Sequence[Any]) -> list[CashoutView]:
    """Cash-out endpoints, merged per (exchange, deposit address, txid)."""
    merged: dict[tuple[str, str | None, str | None, str], CashoutView] = {}
    for e in endpoints:
        if e.kind != "cash-out":
            continue
        entity = e.entity or {}
        name = entity.get("label") or f"unattributed service (cluster {e.cluster_id})"
        key = (name, e.deposit_address, e.txid, e.asset)
        payment = getattr(e, "payment", None)
        if key in merged:
            c = merged[key]
            c.amount += int(e.amount)
            c.payment = None if payment is None or c.payment is None else c.payment + payment
            continue
        merged[key] = CashoutView(
            exchange=name,
            category=entity.get("category"),
            deposit_address=e.deposit_address,
            address=e.address or e.deposit_address or "",
            amount=int(e.amount),
            asset=e.asset,
            txid=e.txid,
            time=datetime.fromtimestamp(e.time, UTC) if e.time is not None else None,
            hops=e.hops,
            chain=chain,
            attribution_confidence=_confidence(entity),
            payment=None if payment is None else int(payment),
        )
    return sorted(merged.values(), key=lambda c: (c.exchange, -c.amount, c.txid or ""))


def _confidence(entity: dict[str, Any]) -> int | None:
    value = entity.get("confidence")
    return int(value) if isinstance(value, (int, float)) else None
