"""Campaign -> case: trace every victim payment forward, then write the case file."""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fundtrail.cases.campaigns import get_campaign, open_case
from fundtrail.cases.casefiles import write_audience
from fundtrail.cases.casefolder import stage
from fundtrail.cases.cashouts import campaign_payments, save_trace
from fundtrail.cases.freshness import current_inputs
from fundtrail.cases.profiles import load_profile
from fundtrail.cases.provenance import chain_provenance
from fundtrail.cases.report import FlowPicture, ReportOptions, write_report
from fundtrail.cases.tracing import CampaignTrace, TraceParams, trace_payments
from fundtrail.cases.views import CampaignView
from fundtrail.errors import NotFoundError
from fundtrail.intelstore import audit
from fundtrail.intelstore.audit import Actor
from fundtrail.intelstore.cases import Campaign
from fundtrail.intelstore.db import IntelStore
from fundtrail.model.identity import Identity
from fundtrail.model.tlp import TLP
from fundtrail.prices.book import PriceBook
from fundtrail.prices.service import book_for


@dataclass(slots=True)
class CampaignTraceReport:
    view: CampaignView
    trace: CampaignTrace
    params: TraceParams

    def to_dict(self) -> dict[str, Any]:
        exchanges: dict[str, dict[str, Any]] = {}
        for name, rows in self.view.cashouts_by_exchange().items():
            total: dict[str, int] = defaultdict(int)
            for r in rows:
                total[r.asset] += r.amount
            frozen: dict[str, int] = defaultdict(int)
            marks = {(r.deposit_address or r.address): r.frozen for r in rows if r.frozen}
            for m in marks.values():  # each address once, however many payments reached it
                frozen[m["asset"]] += m["amount"]
            exchanges[name] = {
                "total": dict(total),
                "frozen": dict(sorted(frozen.items())),
                "deposit_addresses": sorted({r.deposit_address or r.address for r in rows}),
                "deposits": [r.to_dict() for r in rows],
            }
        return {
            "campaign": self.view.id,
            "params": self.params.to_dict(),
            "total_loss": self.view.total_loss,
            "exchanges": exchanges,
            "cashouts": [c.to_dict() for c in self.view.cashouts],
            **self.trace.to_dict(),
        }


def trace_campaign(
    store: IntelStore,
    campaign_id: str,
    *,
    params: TraceParams | None = None,
    viewer: Identity,
    home: Path | None = None,
) -> CampaignTraceReport:
    """Forward trace from every confirmed victim payment; cash-outs saved on the campaign."""
    params = params or TraceParams()
    with store.read_session() as s:
        view = get_campaign(s, campaign_id, viewer, home=home)
        payments = campaign_payments(s, [view.id]).get(view.id, [])
        inputs = current_inputs(s, home)
    if not payments:
        raise NotFoundError(f"campaign {view.id} has no confirmed payment to trace")
    result = trace_payments(payments, params, home)
    view.cashouts = result.cashouts
    view.trace_params = params.to_dict()
    if params == TraceParams():  # the campaign's stored cash-outs are the default trace's
        with store.session() as s:
            row = s.get(Campaign, view.id)
            if row is not None:
                save_trace(s, row, result, params, inputs, payments)
    from fundtrail.cases.requests.service import mark_frozen

    with store.read_session() as s:  # what exchanges froze since, to the viewer's requests
        mark_frozen(s, viewer, view)
    return CampaignTraceReport(view, result, params)


def _flow_picture(trace: CampaignTrace, prices: PriceBook | None = None) -> FlowPicture | None:
    """The money-flow picture of the campaign's trace (its largest chain's)."""
    if not trace.results:
        return None
    from fundtrail.pictures.dot import draw

    result = max(trace.results.values(), key=lambda r: len(r.nodes))

    def flow(path: Path) -> float:
        return draw(result, path, fiat=prices.fiat if prices else None).print_width_pt

    return flow


def write_campaign_report(
    store: IntelStore,
    campaign_id: str,
    out: Path,
    *,
    tlp: str = "amber",
    params: TraceParams | None = None,
    viewer: Identity,
    requester: str = "",
    home: Path | None = None,
    actor: Actor | str | None = "cli",
    profile: dict[str, Any] | None = None,
    progress: Callable[[str], None] | None = None,
) -> list[Path]:
    """`fundtrail campaign report`: trace, open the case, write every file and SHA256SUMS
    into a new version folder ``out/vN`` (``out/latest`` points to it); returns its files.

    The requesting organisation is the caller's; for the workspace operator, the case's
    lead organisation or else the organisation that reported most of its complaints, so
    a freeze request never names an anonymous requester. The audit row pins the case
    file: the SHA-256 of its SHA256SUMS covers every file.
    """
    level = TLP.parse(tlp)
    step = progress or (lambda _name: None)
    step("tracing every victim payment")
    from fundtrail.cases.freezing import plan_for

    traced = trace_campaign(store, campaign_id, params=params, viewer=viewer, home=home)
    view = traced.view
    with store.read_session() as s:
        payments = campaign_payments(s, [view.id]).get(view.id, [])
    freeze = plan_for(traced, payments, home)
    with store.session() as s:
        # the writer leads a new case only if it may (law enforcement); an open case
        # keeps its lead whoever writes the file
        lead = viewer.org_name if viewer.is_law_enforcement else None
        case = open_case(s, view.id, owner=lead, actor=viewer)
        view.case_reference = case.reference
    methods = {
        "Payment check": "each complaint's txid, output/log index, address and amount "
        "matched against the ingested chain; mismatches refused",
        "Campaign linking": "same destination address; victims' money spent together, or "
        "resting at the same wallet or cash-out deposit address, where complaint money is "
        "most of what the tx spent (never in exchanges' sweeps, services, CoinJoins, mixers)",
        "Trace direction": "forward, from every confirmed victim payment",
        "Taint method": traced.params.method,
        "Hop limit": str(traced.params.hops),
        "Stops": "attributed exchange/service clusters (cash-out), unspent outputs (held), "
        "hop limit, CoinJoins (flagged)",
        "Amounts": "exact integers in base units; no rounding",
    }
    org = requester or viewer.org_name or _lead_org(view)
    prices = book_for(store)
    opts = ReportOptions(
        reference=case.reference,
        tlp=level,
        requester=org,
        method=traced.params.method,
        hops=traced.params.hops,
        profile=load_profile(org, home, **(profile or {})),
        pii_note="all (workspace operator)"
        if viewer.is_operator
        else f"only complaints {viewer.org_name} reported or shares as a case member",
        methods=methods,
        provenance=chain_provenance(view.chains, home),
        prices=prices,
        now=datetime.now(UTC),
        freeze=freeze,
        requests=_requests(store, viewer, view),
    )
    staging = stage(out)
    try:
        files = write_report(
            view, staging.path, opts, _flow_picture(traced.trace, prices), progress=step
        )
        write_audience(staging.path, view, viewer)  # who may download it (cases/casefiles)
    except BaseException:
        staging.abandon()
        raise
    final = staging.commit()
    files = [final / p.name for p in files]
    sums = next((p for p in files if p.name == "SHA256SUMS"), None)
    with store.session() as s:
        audit.record(
            s,
            actor,
            "case.report",
            "case",
            case.reference,
            {
                "campaign": view.id,
                "folder": str(final),
                "files": len(files),
                "sha256sums": hashlib.sha256(sums.read_bytes()).hexdigest() if sums else None,
            },
        )
    return files


def _lead_org(view: CampaignView) -> str:
    orgs = Counter(c.org for c in view.complaints if c.org)
    return orgs.most_common(1)[0][0] if orgs else ""


def _requests(store: IntelStore, viewer: Identity, view: CampaignView) -> dict[str, Any]:
    """The viewer's requests to partners for this campaign and their answers."""
    from fundtrail.cases.requests.service import campaign_requests

    with store.read_session() as s:
        return campaign_requests(s, viewer, view.id, view.total_loss)
