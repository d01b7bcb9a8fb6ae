"""Freeze requests: one document per receiving exchange, in JSON, CSV and PDF.

Each lists the deposit addresses through which the campaign's traced proceeds
entered that exchange, with amounts (exact base units), txids, times and the case
reference, so the exchange can find the customer accounts and preserve the funds.
No victim's personal data is ever put in a freeze request.
"""

from __future__ import annotations

import csv
import json
import re
from collections import defaultdict
from datetime import datetime
from pathlib import Path
from typing import Any

from fundtrail.cases.method import taint_text
from fundtrail.cases.render import render_html, write_pdf
from fundtrail.cases.views import CampaignView, CashoutView, _iso
from fundtrail.model import display

CSV_COLUMNS = (
    "case_reference",
    "exchange",
    "chain",
    "deposit_address",
    "address",
    "amount",
    "asset",
    "txid",
    "time",
    "deposit_identified",
)


def slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "unknown"


def freeze_payload(
    view: CampaignView,
    exchange: str,
    rows: list[CashoutView],
    *,
    reference: str,
    requester: str,
    now: datetime,
    method: str = "haircut",
    requester_details: dict[str, Any] | None = None,
) -> dict[str, Any]:
    totals: dict[str, int] = defaultdict(int)
    for r in rows:
        totals[r.asset] += r.amount
    return {
        "type": "freeze-request",
        "case_reference": reference,
        "campaign": view.id,
        "requesting_org": requester,
        "requester": dict(requester_details or {"org": requester}),
        "method": method,
        "generated": _iso(now),
        "exchange": exchange,
        "request": (
            f"Please freeze or preserve the funds credited through the deposit addresses "
            f"below and the records of the accounts they belong to, in case {reference}. "
            f"The amounts are traced proceeds of victims' payments to campaign {view.id}. "
            "Where deposit_identified is false the funds reached your own wallet listed "
            "(the customer deposit could not be told from the chain): please identify the "
            "credited account from the transaction."
        ),
        "totals": dict(sorted(totals.items())),
        "deposits": [
            {k: v for k, v in r.to_dict().items() if k not in ("exchange", "category")}
            for r in sorted(rows, key=lambda r: (r.time or now, r.deposit_address or ""))
        ],
    }


def freezable(view: CampaignView, min_share: float) -> dict[str, list[CashoutView]]:
    """Cash-outs per exchange worth a freeze: at least ``min_share`` of the campaign's loss
    in that asset. Haircut taint spreads thin; a deposit that received a sliver of it
    is listed in the report, not put before an exchange as a customer to freeze."""
    loss = view.total_loss
    out: dict[str, list[CashoutView]] = {}
    for exchange, rows in view.cashouts_by_exchange().items():
        keep = [r for r in rows if r.amount > 0 and r.amount >= min_share * loss.get(r.asset, 0)]
        if keep:
            out[exchange] = keep
    return out


def write_freeze_requests(
    view: CampaignView,
    out: Path,
    *,
    reference: str,
    requester: str,
    now: datetime,
    min_share: float = 0.0,
    method: str = "haircut",
    requester_details: dict[str, Any] | None = None,
) -> list[Path]:
    """freeze-request-<exchange>.json, .csv and .pdf for every exchange that received funds."""
    written: list[Path] = []
    for exchange, rows in freezable(view, min_share).items():
        payload = freeze_payload(
            view, exchange, rows, reference=reference, requester=requester, now=now,
            method=method, requester_details=requester_details,
        )  # fmt: skip
        base = out / f"freeze-request-{slug(exchange)}"
        json_path = base.with_suffix(".json")
        json_path.write_text(json.dumps(payload, indent=2) + "\n")
        csv_path = base.with_suffix(".csv")
        with open(csv_path, "w", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(CSV_COLUMNS)
            for d in payload["deposits"]:
                w.writerow(
                    [
                        reference,
                        exchange,
                        d["chain"],
                        d["deposit_address"] or "",
                        d["address"],
                        d["amount"],
                        d["asset"],
                        d["txid"] or "",
                        d["time"] or "",
                        "yes" if d["deposit_identified"] else "no",
                    ]
                )
        chains = {r.chain for r in rows}
        html = render_html(
            "freeze.html",
            p=payload,
            fmt=_fmt,
            iso=display.time_utc,
            chain=chains.pop() if len(chains) == 1 else None,
            loss=view.total_loss,
            share=share_text,
            taint=taint_text(method),
        )
        pdf_path = base.with_suffix(".pdf")
        write_pdf(html, pdf_path)
        written += [json_path, csv_path, pdf_path]
    return written


def share_text(amount: int, loss: int) -> str:
    """``amount`` as a percentage of ``loss`` to 0.1%, in integer arithmetic."""
    if not loss:
        return "-"
    tenths = (amount * 1000 + loss // 2) // loss
    return f"{tenths // 10}.{tenths % 10}%"


def _fmt(amount: int, asset: str, chain: str | None = None) -> str:
    return display.amount(amount, asset, chain=chain)
