"""A campaign's cash-outs: traced from its payments, kept with what they came from.

Linking says which complaints belong together; where their money was cashed out is a
forward trace (the tracing part's one semantics) of the campaign's confirmed payments.
It is stored on the campaign with a stamp of its inputs (members, chain, tags, intel,
trace settings) and traced again only when the stamp no longer matches: a read after
new tags shows the exchanges the tags name, never the older answer.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from fundtrail.cases.access import accepted_complaints, case_orgs, counts
from fundtrail.cases.freshness import STAMP, Inputs, current_inputs, digest
from fundtrail.cases.tracing import CampaignTrace, TraceParams, start_of, trace_payments
from fundtrail.cases.verify import VERIFIED
from fundtrail.errors import FundtrailError
from fundtrail.intelstore.cases import Campaign, Complaint
from fundtrail.intelstore.db import IntelStore

Payments = list[tuple[str, str, int]]  # (chain, trace start, amount)


def stamp(params: TraceParams, inputs: Inputs, payments: Payments) -> dict[str, Any]:
    """What a campaign's stored cash-outs were computed from (its ``trace_params``)."""
    return params.to_dict() | {STAMP: digest([inputs.to_json(), sorted(payments)])}


def campaign_payments(s: Session, campaign_ids: Iterable[str]) -> dict[str, Payments]:
    """{campaign id: its confirmed payments that count}, each payment once (several orgs
    may report it)."""
    ids = list(campaign_ids)
    accepted, on_case = accepted_complaints(s, ids), case_orgs(s, ids)
    out: dict[str, dict[str, tuple[str, str, int]]] = defaultdict(dict)
    for i in range(0, len(ids), 500):
        rows = s.scalars(
            sa.select(Complaint).where(
                Complaint.campaign_id.in_(ids[i : i + 500]), Complaint.status == VERIFIED
            )
        )
        for r in rows:
            cid = r.campaign_id or ""
            if not counts(r, accepted.get(cid), on_case.get(cid, set())):
                continue  # pending the case lead's acceptance
            start = start_of(r.txid, None if r.vout < 0 else r.vout)
            out[r.campaign_id or ""][r.payment_key] = (r.chain, start, int(r.amount))
    return {cid: sorted(p.values()) for cid, p in out.items()}


def is_current(row: Campaign, params: TraceParams, inputs: Inputs, payments: Payments) -> bool:
    return dict(row.trace_params or {}) == stamp(params, inputs, payments)


def save_trace(
    s: Session, row: Campaign, trace: CampaignTrace, params: TraceParams, inputs: Inputs,
    payments: Payments,
) -> None:  # fmt: skip
    row.cashouts = [c.to_dict() for c in trace.cashouts]
    row.trace_params = stamp(params, inputs, payments)


def refresh_cashouts(
    store: IntelStore,
    campaign_ids: Iterable[str] | None = None,
    *,
    params: TraceParams | None = None,
    home: Path | None = None,
) -> list[str]:
    """Trace the (active) campaigns whose stored cash-outs are not current; returns notes."""
    params = params or TraceParams()
    with store.read_session() as s:
        inputs = current_inputs(s, home)
        q = sa.select(Campaign).where(Campaign.status == "active")
        if campaign_ids is not None:
            q = q.where(Campaign.id.in_(list(campaign_ids)))
        rows = {c.id: c for c in s.scalars(q)}
        payments = campaign_payments(s, rows)
        todo = [
            cid for cid, row in sorted(rows.items())
            if not is_current(row, params, inputs, payments.get(cid, []))
        ]  # fmt: skip
    traced: dict[str, CampaignTrace | None] = {}
    notes: list[str] = []
    for cid in todo:
        try:
            traced[cid] = trace_payments(payments.get(cid, []), params, home)
        except (FundtrailError, ImportError) as exc:
            traced[cid] = None
            notes.append(f"{cid}: cash-outs not traced: {exc}")
    if traced:
        with store.session() as s:
            for cid, result in traced.items():
                row = s.get(Campaign, cid)
                if row is not None:
                    save_trace(s, row, result or CampaignTrace(), params, inputs,
                               payments.get(cid, []))  # fmt: skip
    return notes
