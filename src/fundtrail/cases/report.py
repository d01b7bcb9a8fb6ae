"""The case file: report.html and report.pdf, freeze requests, STIX indicators, SHA256SUMS.

Files are written in an order that lets the report cite the SHA-256 of every other
file (pictures, freeze requests, indicators); ``SHA256SUMS`` (``sha256sum -c``
format) then covers everything, the report included.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fundtrail import __version__
from fundtrail.cases.charts import flow_png, timeline_svg
from fundtrail.cases.freeze import freezable, write_freeze_requests
from fundtrail.cases.render import render_html, write_pdf
from fundtrail.cases.stixout import campaign_bundle
from fundtrail.cases.views import CampaignView, _iso
from fundtrail.model import display
from fundtrail.model.tlp import TLP

_EMPTY_SVG = '<svg xmlns="http://www.w3.org/2000/svg" width="1" height="1"/>'
FlowPicture = Callable[[Path], None]  # draws the money flow into the given .png path


@dataclass(slots=True)
class ReportOptions:
    reference: str
    tlp: TLP = TLP.AMBER
    requester: str = ""
    pii_note: str = "all (workspace operator)"
    methods: dict[str, Any] = field(default_factory=dict)
    provenance: dict[str, Any] = field(default_factory=dict)
    freeze_min_share: float = 0.0025  # of the campaign's loss, per asset
    now: datetime = field(default_factory=lambda: datetime.now(UTC))


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _fmt(amount: int, asset: str, chain: str | None = None) -> str:
    return display.amount(amount, asset, chain=chain)


def write_report(
    view: CampaignView, out: Path, opts: ReportOptions, flow: FlowPicture | None = None
) -> list[Path]:
    """Write the whole case file into ``out``; returns the files written, SHA256SUMS last."""
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    timeline = out / "timeline.svg"
    timeline.write_text(timeline_svg(view) or _EMPTY_SVG)
    flow_path, flow_note = out / "money-flow.png", "Drawn by fundtrail's trace picture."
    try:
        if flow is None:
            raise LookupError("no trace picture")
        flow(flow_path)
    except LookupError:
        flow_path.write_bytes(flow_png(view))
        flow_note = "Summary drawing: collection addresses to the exchanges that received funds."
    written += [timeline, flow_path]
    written += write_freeze_requests(
        view,
        out,
        reference=opts.reference,
        requester=opts.requester,
        now=opts.now,
        min_share=opts.freeze_min_share,
    )
    stix = out / "indicators.stix.json"
    bundle = campaign_bundle(
        view,
        tlp=opts.tlp,
        now=opts.now,
        reference=opts.reference,
        min_share=opts.freeze_min_share,
    )
    stix.write_text(json.dumps(bundle, indent=2) + "\n")
    written.append(stix)
    cashout_totals: dict[str, int] = defaultdict(int)
    for c in view.cashouts:
        cashout_totals[c.asset] += c.amount
    context = {
        "reference": opts.reference,
        "chain": view.chains[0] if len(view.chains) == 1 else None,  # for totals by symbol
        "tlp": opts.tlp.value,
        "generated": _iso(opts.now),
        "version": __version__,
        "requester": opts.requester,
        "pii_note": opts.pii_note,
        "exchanges": list(view.cashouts_by_exchange()),
        "cashout_totals": dict(sorted(cashout_totals.items())),
        "timeline_svg": timeline.name,
        "flow_b64": base64.b64encode(flow_path.read_bytes()).decode(),
        "flow_note": flow_note,
        "methods": opts.methods,
        "freeze_note": f"Freeze requests list deposits that received at least "
        f"{opts.freeze_min_share:.2%} of the campaign's loss; smaller haircut shares are "
        "listed here only.",
        "frozen": {
            (c.deposit_address, c.txid)
            for rows in freezable(view, opts.freeze_min_share).values()
            for c in rows
        },
        "provenance": {"chains": [], "tag_sources": [], **opts.provenance},
        "hashes": [(p.name, sha256_file(p)) for p in written],
    }
    html = render_html("report.html", v=view, r=context, fmt=_fmt, iso=display.time_utc)
    report_html = out / "report.html"
    report_html.write_text(html)
    report_pdf = out / "report.pdf"
    write_pdf(html, report_pdf)
    written += [report_html, report_pdf]
    sums = out / "SHA256SUMS"
    sums.write_text("".join(f"{sha256_file(p)}  {p.name}\n" for p in sorted(written)))
    return [*written, sums]
