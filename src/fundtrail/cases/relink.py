"""`fundtrail campaigns link`: (re)build campaigns from every confirmed complaint.

Read everything, compute, then write in one short transaction (tracing can take
seconds and must not hold the store's write lock). Re-running after new complaints
or new blocks updates campaigns in place: ids are kept (see
:func:`fundtrail.cases.linking.assign_ids`), links are replaced, merged campaigns
point at the campaign they merged into. Complaints the chain did not confirm are
checked again first: newly ingested blocks may confirm them now.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import sqlalchemy as sa

from fundtrail.cases.balances import pure_wallets
from fundtrail.cases.complaints import ComplaintInput
from fundtrail.cases.linking import (
    SAME_ADDRESS,
    SAME_CASHOUT,
    SAME_CLUSTER,
    SAME_DOWNSTREAM,
    Linker,
    assign_ids,
)
from fundtrail.cases.tracing import (
    CampaignTrace,
    Place,
    TraceParams,
    meeting_points,
    reached_places,
    start_of,
)
from fundtrail.cases.tracing import trace_payments as _trace
from fundtrail.cases.verify import VERIFIED, verify_payments
from fundtrail.chainstore.store import ChainStore
from fundtrail.errors import FundtrailError
from fundtrail.intelstore import audit
from fundtrail.intelstore.base import utcnow
from fundtrail.intelstore.cases import Campaign, CampaignLink, Case, CaseOrg, Complaint
from fundtrail.intelstore.db import IntelStore

SERVICE_CATEGORIES = ("exchange", "service")  # their clusters never link victims


@dataclass(slots=True)
class LinkReport:
    campaigns: int = 0
    created: list[str] = field(default_factory=list)
    merged: dict[str, str] = field(default_factory=dict)
    linked: int = 0
    confirmed: int = 0  # complaints newly confirmed by the chain
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "campaigns": self.campaigns,
            "created": self.created,
            "merged": self.merged,
            "complaints_linked": self.linked,
            "newly_confirmed": self.confirmed,
            "notes": self.notes,
        }

    def summary(self) -> str:
        lines = [
            f"{self.linked} complaint(s) in {self.campaigns} campaign(s); "
            f"{len(self.created)} new, {len(self.merged)} merged"
        ]
        if self.confirmed:
            lines.append(f"{self.confirmed} complaint(s) newly confirmed by the chain")
        return "\n".join(lines + self.notes)


def _as_input(r: Complaint) -> ComplaintInput:
    return ComplaintInput(
        victim="",
        chain=r.chain,
        txid=r.txid,
        vout=None if r.vout < 0 else r.vout,
        to_address=r.to_address,
        amount=int(r.amount),
        asset=r.asset,
    )


def cluster_keys(rows: list[Complaint], home: Path | None) -> dict[str, list[str]]:
    """{payment key: [chain:cluster]} for destination addresses in a non-service cluster."""
    by_chain: dict[str, list[Complaint]] = defaultdict(list)
    for r in rows:
        by_chain[r.chain].append(r)
    out: dict[str, list[str]] = {}
    for chain, items in by_chain.items():
        store = ChainStore(chain, home)
        if not store.parts("clusters"):
            continue
        con = store.connect()
        try:
            con.register("wanted", pa.table({"address": sorted({r.to_address for r in items})}))
            found = con.execute(
                """SELECT a.address, c.cluster_id,
                          bool_or(coalesce(e.category IN ('exchange', 'service'), false))
                   FROM addresses a JOIN wanted w ON a.address = w.address
                   JOIN clusters c ON c.address_id = a.address_id
                   LEFT JOIN entities e ON e.cluster_id = c.cluster_id
                   GROUP BY 1, 2"""
            ).fetchall()
        finally:
            con.close()
        cluster = {addr: f"{chain}:cluster {cid}" for addr, cid, service in found if not service}
        for r in items:
            if r.to_address in cluster:
                out[r.payment_key] = [cluster[r.to_address]]
    return out


def attributed_chains(rows: list[Complaint], home: Path | None) -> tuple[set[str], list[str]]:
    """Chains whose stores name services (entities): only there can a trace tell a cash-out
    from a hub; elsewhere trace-based linking would join strangers at exchanges' wallets."""
    ok: set[str] = set()
    notes: list[str] = []
    for chain in sorted({r.chain for r in rows}):
        store = ChainStore(chain, home)
        if store.parts("entities"):
            ok.add(chain)
        else:
            notes.append(
                f"{chain}: no attributed services (import tags, run attribution), "
                "so complaints were linked by address and cluster only"
            )
    return ok, notes


def _trace_group(rows: list[Complaint], params: TraceParams, home: Path | None) -> CampaignTrace:
    return _trace(
        [(r.chain, start_of(r.txid, None if r.vout < 0 else r.vout), int(r.amount))
         for r in rows],
        params, home,
    )  # fmt: skip


def _totals(rows: list[Complaint]) -> dict[str, int]:
    out: dict[str, int] = defaultdict(int)
    for r in rows:
        out[r.asset] += int(r.amount)
    return out


def link_campaigns(
    store: IntelStore,
    *,
    params: TraceParams | None = None,
    trace: bool = True,
    home: Path | None = None,
    actor: Any = "cli",
) -> LinkReport:
    """Group confirmed complaints into campaigns, with reasons; returns what changed."""
    params = params or TraceParams()
    report = LinkReport()
    with store.read_session() as s:
        rows = list(s.scalars(sa.select(Complaint).order_by(Complaint.created)))
        previous_status = {c.id: c.status for c in s.scalars(sa.select(Campaign))}
    pending = [r for r in rows if r.status != VERIFIED]
    rechecked = dict(
        zip(
            [r.id for r in pending],
            verify_payments([_as_input(r) for r in pending], home),
            strict=True,
        )
    )
    confirmed = [
        r for r in rows if r.status == VERIFIED or (r.id in rechecked and rechecked[r.id].ok)
    ]
    by_key = {r.payment_key: r for r in confirmed}
    linker = Linker(by_key)
    linker.join_on(SAME_ADDRESS, {k: [f"{r.chain}:{r.to_address}"] for k, r in by_key.items()})
    linker.join_on(SAME_CLUSTER, cluster_keys(confirmed, home))
    traces: dict[tuple[str, ...], CampaignTrace] = {}
    traceable, notes = attributed_chains(confirmed, home) if trace else (set(), [])
    report.notes += notes
    if traceable:
        try:
            groups = linker.groups()
            reached: dict[str, dict[Place, int]] = {}
            for g in groups:
                grows = [by_key[k] for k in g if by_key[k].chain in traceable]
                if not grows:
                    continue
                traces[tuple(g)] = _trace_group(grows, params, home)
                reached[g[0]] = reached_places(traces[tuple(g)])
            held: dict[tuple[str, str, str], int] = defaultdict(int)
            for places in reached.values():
                for (reason, chain, address, asset), amount in places.items():
                    if reason == SAME_DOWNSTREAM:
                        held[(chain, address, asset)] += amount
            pure = pure_wallets(held, params.min_purity, home)
            totals = {g[0]: _totals([by_key[k] for k in g]) for g in groups}
            points = {
                k: meeting_points(p, totals[k], params.min_share, pure) for k, p in reached.items()
            }
            for reason in (SAME_CASHOUT, SAME_DOWNSTREAM):
                linker.join_on(reason, {k: p[reason] for k, p in points.items()})
        except (FundtrailError, ImportError) as exc:
            report.notes.append(f"tracing skipped: {exc}")
            traces.clear()
    groups = linker.groups()
    previous = {k: r.campaign_id for k, r in by_key.items() if r.campaign_id}
    assigned, report.merged = assign_ids(groups, previous)
    cashouts: dict[str, list[dict[str, Any]]] = {}
    for cid, g in assigned.items():
        t = traces.get(tuple(g))
        if t is None and traces:  # groups joined by the trace: trace them together
            t = _trace_group([by_key[k] for k in g if by_key[k].chain in traceable], params, home)
        if t is not None:
            cashouts[cid] = [c.to_dict() for c in t.cashouts]
    _write(store, assigned, report, by_key, rechecked, linker, cashouts, params, actor)
    report.created = sorted(c for c in assigned if c not in previous_status)
    report.campaigns = len(assigned)
    report.linked = len(by_key)
    report.confirmed = sum(1 for v in rechecked.values() if v.ok)
    return report


def _write(
    store: IntelStore,
    assigned: dict[str, list[str]],
    report: LinkReport,
    by_key: dict[str, Complaint],
    rechecked: dict[str, Any],
    linker: Linker,
    cashouts: dict[str, list[dict[str, Any]]],
    params: TraceParams,
    actor: Any,
) -> None:
    now = utcnow()
    ids = {k: r.id for k, r in by_key.items()}
    with store.session() as s:
        for cid, v in rechecked.items():
            row = s.get(Complaint, cid)
            if row is not None:
                row.status, row.status_detail = v.status, v.message
                if v.time is not None:
                    row.paid_at, row.height = datetime.fromtimestamp(v.time, UTC), v.height
        s.execute(sa.update(Complaint).values(campaign_id=None))
        s.execute(sa.delete(CampaignLink))
        for cid, group in assigned.items():
            camp = s.get(Campaign, cid)
            if camp is None:
                camp = Campaign(id=cid, created=now)
                s.add(camp)
            camp.status, camp.merged_into, camp.updated = "active", None, now
            if cid in cashouts:
                camp.cashouts, camp.trace_params = cashouts[cid], params.to_dict()
            s.flush()
            s.execute(
                sa.update(Complaint)
                .where(Complaint.id.in_([ids[k] for k in group]))
                .values(campaign_id=cid)
            )
            for lk in linker.links_of(group):
                s.add(
                    CampaignLink(
                        campaign_id=cid,
                        complaint_a=ids[lk.a],
                        complaint_b=ids[lk.b],
                        reason=lk.reason,
                        detail=lk.detail[:300],
                    )
                )
        for old, new in report.merged.items():
            camp = s.get(Campaign, old)
            if camp is not None:
                camp.status, camp.merged_into, camp.updated = "merged", new, now
            _carry_case(s, old, new)
        gone = sa.update(Campaign).where(
            Campaign.id.not_in([*assigned, *report.merged]), Campaign.status == "active"
        )
        s.execute(gone.values(status="empty", updated=now))
        audit.record(
            s,
            actor,
            "campaign.link",
            "campaign",
            None,
            {"campaigns": len(assigned), "merged": report.merged},
        )


def _carry_case(s: Any, old: str, new: str) -> None:
    """A merged campaign's case goes with its complaints: moved to the surviving
    campaign, or, when that has a case already, its orgs are added to that case."""
    moved = s.scalars(sa.select(Case).where(Case.campaign_id == old)).first()
    if moved is None:
        return
    kept = s.scalars(sa.select(Case).where(Case.campaign_id == new)).first()
    if kept is None:
        moved.campaign_id = new
        s.flush()
        return
    have = set(s.scalars(sa.select(CaseOrg.org_id).where(CaseOrg.case_id == kept.id)))
    members = set(s.scalars(sa.select(CaseOrg.org_id).where(CaseOrg.case_id == moved.id)))
    carried = members | ({moved.owner_org_id} - {None})
    for org_id in sorted(carried - have - {kept.owner_org_id}):
        s.add(CaseOrg(case_id=kept.id, org_id=org_id))


class LinkScheduler:
    """Re-link after API writes without piling up runs: one at a time, and one more if
    complaints arrived while it ran (a burst of single POSTs costs two runs, not N)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running = False
        self._again = False

    def run(self, store: IntelStore, home: Path | None = None, actor: Any = "api") -> None:
        with self._lock:
            if self._running:
                self._again = True
                return
            self._running = True
        try:
            while True:
                self._again = False
                link_campaigns(store, home=home, actor=actor)
                with self._lock:
                    if not self._again:
                        self._running = False
                        return
        except BaseException:
            with self._lock:
                self._running = False
            raise
