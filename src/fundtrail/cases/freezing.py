"""A campaign's freeze plan from the stores: three traces, what each deposit received.

:func:`fundtrail.cases.freeze.plan_freeze` decides; this gathers its inputs: the
campaign's haircut trace (its cash-outs and the slivers the trace summed), a FIFO trace
of the same payments to set beside it, a poison trace of them (it stops at CoinJoins, so
a deposit haircut reaches and it does not was reached only through a CoinJoin), and
from each chain's ledger what every candidate deposit address ever received.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from fundtrail.cases.casefile import CampaignTraceReport, trace_campaign
from fundtrail.cases.cashouts import campaign_payments
from fundtrail.cases.freeze import FreezePlan, Place, asset_key, plan_freeze
from fundtrail.cases.tracing import CampaignTrace, TraceParams, trace_payments
from fundtrail.cases.views import CashoutView
from fundtrail.chains.ledger import ledger_for
from fundtrail.chainstore.store import ChainStore
from fundtrail.intelstore.db import IntelStore
from fundtrail.model.identity import Identity


def received_by(places: Iterable[tuple[str, str]], home: Path | None = None) -> dict[Place, int]:
    """{(chain, address, asset key): everything it ever received} for (chain, address)."""
    by_chain: dict[str, set[str]] = {}
    for chain, address in places:
        by_chain.setdefault(chain, set()).add(address)
    out: dict[Place, int] = {}
    for chain, addresses in sorted(by_chain.items()):
        store = ChainStore(chain, home)
        ledger = ledger_for(store)
        shown = {ledger.parse_address(a).value: a for a in addresses}
        for (key, asset), value in ledger.received(store, shown).items():
            out[(chain, shown[key], asset.key)] = value
    return out


def _dispersed(trace: CampaignTrace) -> list[tuple[str, str, str, int]]:
    return [
        (d.entity or "unattributed service", chain, asset_key(d.asset, chain), int(d.amount))
        for chain, result in trace.results.items()
        for d in getattr(result, "dispersed", [])
        if d.kind == "cash-out" and d.amount > 0
    ]


def _converted(trace: CampaignTrace) -> dict[str, int]:
    """Per asset key, what the trace followed into it through swaps."""
    out: dict[str, int] = {}
    for chain, result in trace.results.items():
        for name, amount in (getattr(result, "summary", {}) or {}).get("converted", {}).items():
            key = asset_key(name, chain)
            out[key] = out.get(key, 0) + int(amount)
    return out


def _started(trace: CampaignTrace) -> dict[str, int]:
    """Per asset key, what the trace started from (the payments as the chain has them)."""
    out: dict[str, int] = {}
    for chain, result in trace.results.items():
        for name, amount in (getattr(result, "summary", {}) or {}).get("start_amount", {}).items():
            key = asset_key(name, chain)
            out[key] = out.get(key, 0) + int(amount)
    return out


def coinjoin_stopping_trace(
    payments: Iterable[tuple[str, str, int]], hops: int, home: Path | None = None
) -> CampaignTrace:
    """A poison trace of the payments: it stops at CoinJoins, so what it reaches is
    reached around them. Every place is listed, however small: one below the listing
    floor would otherwise look reached only through a CoinJoin."""
    return trace_payments(payments, TraceParams("poison", hops, 0.0), home)


def _past_coinjoins(haircut: Iterable[CashoutView], direct: CampaignTrace) -> set[Place]:
    """Haircut cash-outs the CoinJoin-stopping trace never reached, on the chains where it
    met a CoinJoin (elsewhere the two reach the same places by construction)."""
    mixed = {chain for chain, r in direct.results.items()
             if any(e.kind == "coinjoin" for e in r.endpoints)}  # fmt: skip
    reached = {(c.chain, c.deposit_address or c.address) for c in direct.cashouts}
    reached |= {(c.chain, c.address) for c in direct.cashouts}
    return {
        (c.chain, c.deposit_address or c.address, asset_key(c.asset, c.chain))
        for c in haircut
        if c.chain in mixed and (c.chain, c.deposit_address or c.address) not in reached
    }


def plan_for(
    traced: CampaignTraceReport,
    payments: Iterable[tuple[str, str, int]],
    home: Path | None = None,
) -> FreezePlan:
    """The plan of an already traced campaign (``traced``, haircut) from its ``payments``:
    FIFO and poison traces of the same payments are run here to set beside it."""
    payments = list(payments)
    fifo = trace_payments(payments, TraceParams("fifo", traced.params.hops), home)
    direct = coinjoin_stopping_trace(payments, traced.params.hops, home)
    haircut: list[CashoutView] = traced.view.cashouts  # the trace's, frozen deposits marked
    wanted = {(c.chain, c.deposit_address or c.address) for c in haircut}
    return plan_freeze(
        traced.view.id,
        traced.view.total_loss,
        haircut,
        fifo.cashouts,
        received_by(wanted, home),
        dispersed=_dispersed(traced.trace),
        method=traced.params.method,
        converted=_converted(traced.trace),
        started=_started(traced.trace),
        past_coinjoins=_past_coinjoins(haircut, direct),
    )


def campaign_freeze(
    store: IntelStore,
    campaign_id: str,
    *,
    viewer: Identity,
    params: TraceParams | None = None,
    home: Path | None = None,
) -> tuple[CampaignTraceReport, FreezePlan]:
    """Trace the campaign (three ways) and plan its freeze requests."""
    traced = trace_campaign(store, campaign_id, params=params, viewer=viewer, home=home)
    with store.read_session() as s:
        payments = campaign_payments(s, [traced.view.id]).get(traced.view.id, [])
    return traced, plan_for(traced, payments, home)
