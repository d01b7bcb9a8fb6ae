"""The case file: report.html and report.pdf, freeze requests, STIX indicators, SHA256SUMS.

Files are written in an order that lets the report cite the SHA-256 of every other
file (pictures, freeze requests, indicators); ``SHA256SUMS`` (``sha256sum -c``
format) then covers everything, the report included.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from fundtrail import __version__
from fundtrail.cases.charts import timeline_svg
from fundtrail.cases.freeze import FreezePlan, share_text, write_freeze_requests
from fundtrail.cases.method import ACCURACY_SOURCE, HEURISTICS, LIMITATIONS, taint_text
from fundtrail.cases.profiles import CaseProfile
from fundtrail.cases.render import render_html, write_pdf
from fundtrail.cases.stixout import campaign_bundle
from fundtrail.cases.views import CampaignView, CashoutView
from fundtrail.model import display
from fundtrail.model.assets import Asset, resolve
from fundtrail.model.tlp import TLP
from fundtrail.prices.book import PriceBook

_EMPTY_SVG = '<svg xmlns="http://www.w3.org/2000/svg" width="1" height="1"/>'
# draws the money flow into the given .svg path; returns its print width in points
FlowPicture = Callable[[Path], float]


@dataclass(slots=True)
class ReportOptions:
    reference: str
    tlp: TLP = TLP.AMBER
    requester: str = ""
    pii_note: str = "all (workspace operator)"
    methods: dict[str, Any] = field(default_factory=dict)
    provenance: dict[str, Any] = field(default_factory=dict)
    freeze: FreezePlan | None = None  # the campaign's freeze plan (none: no requests)
    now: datetime = field(default_factory=lambda: datetime.now(UTC))
    method: str = "haircut"
    hops: int = 10
    profile: CaseProfile = field(default_factory=CaseProfile)
    prices: PriceBook | None = None  # fiat values beside amounts, when prices were imported
    requests: dict[str, Any] | None = None  # requests to partners and their answers


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _fmt(amount: int, asset: str, chain: str | None = None) -> str:
    return display.amount(amount, asset, chain=chain)


REPORT_STEPS = 5  # the steps `progress` hears, tracing included (for a progress bar)


def write_report(
    view: CampaignView,
    out: Path,
    opts: ReportOptions,
    flow: FlowPicture | None = None,
    *,
    progress: Callable[[str], None] | None = None,
) -> list[Path]:
    """Write the whole case file into ``out``; returns the files written, SHA256SUMS last.

    ``out`` is a fresh folder (:mod:`fundtrail.cases.casefolder` stages it and renames it
    to the next version only when this returns)."""
    step = progress or (lambda _name: None)
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    step("drawing the timeline and the money flow")
    timeline = out / "timeline.svg"
    timeline.write_text(timeline_svg(view) or _EMPTY_SVG)
    written.append(timeline)
    flow_path: Path | None = None
    flow_width = 0.0
    if flow is not None:
        flow_path = out / "money-flow.svg"
        flow_width = flow(flow_path)
        written.append(flow_path)
    deadline = opts.now + timedelta(days=opts.profile.deadline_days)
    requester = {
        "org": opts.requester,
        "analyst": opts.profile.analyst,
        "contact": opts.profile.contact,
        "legal_basis": opts.profile.legal_basis,
        "deadline": display.time_utc(deadline),
    }
    step("writing the freeze requests")
    plan = opts.freeze
    if plan is not None:
        written += write_freeze_requests(
            plan,
            out,
            reference=opts.reference,
            requester=opts.requester,
            now=opts.now,
            requester_details=requester,
            fiat=_freeze_fiat(plan, view, opts.prices),
        )
    stix = out / "indicators.stix.json"
    bundle = campaign_bundle(view, tlp=opts.tlp, now=opts.now, reference=opts.reference,
                             freeze=plan)  # fmt: skip
    stix.write_text(json.dumps(bundle, indent=2) + "\n")
    written.append(stix)
    asked = opts.requests if opts.requests and opts.requests.get("exchanges") else None
    if asked is not None:
        answers = out / "requests.json"
        answers.write_text(json.dumps(asked, indent=2) + "\n")
        written.append(answers)
    frozen = plan.requested_cashouts(view.cashouts) if plan is not None else {}
    context = {
        "requests": asked,
        "reference": opts.reference,
        "chain": view.chains[0] if len(view.chains) == 1 else None,  # for totals by symbol
        "tlp": opts.tlp.value,
        "generated": display.time_utc(opts.now),
        "version": __version__,
        "requester": opts.requester,
        "profile": opts.profile,
        "deadline": display.time_utc(deadline),
        "pii_note": opts.pii_note,
        "findings": _findings(view, frozen, opts.prices),
        "loss_fiat": _loss_fiat(view, opts.prices),
        "cashout_totals": _totals(view.cashouts),
        "timeline_svg": timeline.name,
        "flow_svg": flow_path.name if flow_path else None,
        "flow_width": f"{flow_width:.0f}pt",
        "methods": opts.methods,
        "taint": taint_text(opts.method),
        "method": opts.method,
        "heuristics": HEURISTICS,
        "accuracy_source": ACCURACY_SOURCE,
        "limitations": LIMITATIONS,
        "freeze_note": (
            f"Freeze requests: {plan.rule}; the deposits left out, and why, are listed below."
            if plan is not None
            else "No freeze requests."
        ),
        "freeze_left_out": [x.to_dict() for x in plan.left_out] if plan is not None else [],
        "frozen": {(c.deposit_address, c.txid) for rows in frozen.values() for c in rows},
        "provenance": {"chains": [], "tag_sources": [], **opts.provenance},
        "hashes": [(p.name, sha256_file(p)) for p in written],
    }
    step("writing the report (HTML and PDF)")
    html = render_html(
        "report.html", v=view, r=context, fmt=_fmt, iso=display.time_utc, share=share_text
    )
    report_html = out / "report.html"
    report_html.write_text(html)
    report_pdf = out / "report.pdf"
    write_pdf(html, report_pdf)
    written += [report_html, report_pdf]
    step("hashing every file")
    sums = out / "SHA256SUMS"
    sums.write_text("".join(f"{sha256_file(p)}  {p.name}\n" for p in sorted(written)))
    return [*written, sums]


def _totals(rows: list[CashoutView]) -> dict[str, int]:
    out: dict[str, int] = defaultdict(int)
    for c in rows:
        out[resolve(c.asset, c.chain).key] += c.amount
    return dict(sorted(out.items()))


def _loss_fiat(view: CampaignView, prices: PriceBook | None) -> str | None:
    if prices is None:
        return None
    return prices.total_text([(c.amount, resolve(c.asset, c.chain), _unix(c.paid_at))
                              for c in view.complaints])  # fmt: skip


def _freeze_fiat(
    plan: FreezePlan, view: CampaignView, prices: PriceBook | None
) -> dict[str, dict[str, str | None]] | None:
    """Per exchange, the value of its requested transfers at the time of each: the total
    and per ``CHAIN:DEPOSIT`` (what :func:`write_freeze_requests` shows); none without prices."""
    if prices is None:
        return None
    out: dict[str, dict[str, str | None]] = {}
    for exchange, rows in plan.requested_cashouts(view.cashouts).items():
        items = [(o.amount, resolve(o.asset, o.chain), _unix(o.time)) for o in rows]
        per: dict[str, list[tuple[int, Asset, int | None]]] = {}
        for o, item in zip(rows, items, strict=True):
            per.setdefault(f"{o.chain}:{o.deposit_address}", []).append(item)
        values: dict[str, str | None] = {"total": prices.total_text(items)}
        values.update({key: prices.total_text(group) for key, group in per.items()})
        out[exchange] = values
    return out


def _unix(t: datetime | None) -> int | None:
    return int(t.timestamp()) if t is not None else None


def _findings(
    view: CampaignView, frozen: dict[str, list[CashoutView]], prices: PriceBook | None = None
) -> list[dict[str, Any]]:
    """Where the money went, per exchange, largest first: the first page of the case."""
    loss = view.total_loss
    rows = []
    for exchange, outs in view.cashouts_by_exchange().items():
        totals = _totals(outs)
        requested = _totals(frozen.get(exchange, []))
        asset = max(totals, key=lambda a: totals[a])
        rows.append(
            {
                "exchange": exchange,
                "chain": outs[0].chain,
                "totals": totals,
                "share": share_text(totals[asset], loss.get(asset, 0)),
                "deposits": len({o.deposit_address or o.address for o in outs}),
                "requested": requested,
                "fiat": prices.total_text(
                    [(o.amount, resolve(o.asset, o.chain), _unix(o.time)) for o in outs]
                )
                if prices
                else None,
                "key": totals[asset],
            }
        )
    return sorted(rows, key=lambda r: -r["key"])
