"""Forward traces from victims' payments, through the tracing part's one entry point.

Turns a trace's endpoints into what a case needs: cash-out points per exchange
(what freeze requests cite) and the downstream places a group of complaints' money
reached in a material share (what links groups into one campaign).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fundtrail.cases.linking import SAME_CASHOUT, SAME_DOWNSTREAM
from fundtrail.cases.views import CashoutView


@dataclass(frozen=True, slots=True)
class TraceParams:
    method: str = "haircut"
    hops: int = 10
    min_share: float = 0.05  # a downstream place links groups if each sent it >= 5% of its money
    min_purity: float = 0.5  # ... and a held wallet only if traced money is >= 50% of it

    def to_dict(self) -> dict[str, Any]:
        return {
            "direction": "forward",
            "method": self.method,
            "hops": self.hops,
            "link_min_share": self.min_share,
            "link_min_purity": self.min_purity,
        }


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
    from fundtrail.analysis.trace.request import TraceRequest
    from fundtrail.analysis.trace.service import trace

    by_chain: dict[str, dict[str, int]] = defaultdict(dict)
    for chain, start, amount in payments:
        by_chain[chain][start] = by_chain[chain].get(start, 0) + amount
    out = CampaignTrace()
    for chain, amounts in sorted(by_chain.items()):
        request = TraceRequest.parse(
            chain, list(amounts), method=params.method, hops=params.hops, amounts=amounts
        )
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
        if key in merged:
            merged[key].amount += int(e.amount)
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
        )
    return sorted(merged.values(), key=lambda c: (c.exchange, -c.amount, c.txid or ""))


Place = tuple[str, str, str, str]  # (reason, chain, address, asset)


def reached_places(trace: CampaignTrace) -> dict[Place, int]:
    """Taint that reached each cash-out deposit address and each downstream wallet.

    Downstream wallets are where the money rests (held, after at least one hop);
    CoinJoin and hop-limit endpoints never count (strangers share them).
    """
    reached: dict[Place, int] = defaultdict(int)
    for chain, result in trace.results.items():
        for e in result.endpoints:
            if e.kind == "cash-out" and e.deposit_address:
                reached[(SAME_CASHOUT, chain, e.deposit_address, e.asset)] += int(e.amount)
            elif e.kind == "held" and e.address and e.hops > 0:
                reached[(SAME_DOWNSTREAM, chain, e.address, e.asset)] += int(e.amount)
    return dict(reached)


def meeting_points(
    reached: dict[Place, int],
    totals: dict[str, int],
    min_share: float,
    pure: set[tuple[str, str, str]] | None = None,
) -> dict[str, set[str]]:
    """{reason: places} a group's money reached with at least ``min_share`` of its total.

    A downstream wallet counts only when it is in ``pure`` (mostly traced money: a
    service's wallet, full of other people's funds, must not join strangers).
    """
    found: dict[str, set[str]] = {SAME_CASHOUT: set(), SAME_DOWNSTREAM: set()}
    for (reason, chain, address, asset), amount in reached.items():
        if reason == SAME_DOWNSTREAM and pure is not None and (chain, address, asset) not in pure:
            continue
        total = totals.get(asset, 0)
        if total and amount >= min_share * total:
            found[reason].add(f"{chain}:{address}")
    return found
