"""What a campaign looks like to a reader: plain data for the CLI, the API and reports.

Built from the store by :mod:`fundtrail.cases.campaigns`; personal data is already
decided here (``victim`` is None when the reader may not see it), so nothing that
renders a view can leak what the store withheld.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from fundtrail.model.assets import resolve


@dataclass(slots=True)
class ComplaintView:
    id: str
    ref: str | None
    chain: str
    txid: str
    vout: int | None
    to_address: str
    amount: int
    asset: str
    status: str
    paid_at: datetime | None
    reported_at: datetime | None
    org: str | None
    pii_visible: bool
    victim: str | None = None
    contact: str | None = None
    description: str | None = None
    victim_index: str = ""
    # what the victim reported about the perpetrator ({"kind", "value"}; personal data)
    perpetrator: list[dict[str, str]] = field(default_factory=list)

    @property
    def payment_key(self) -> str:
        return f"{self.chain}:{self.txid}:{-1 if self.vout is None else self.vout}"

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "ref": self.ref,
            "chain": self.chain,
            "txid": self.txid,
            "vout": self.vout,
            "to_address": self.to_address,
            "amount": self.amount,
            "asset": self.asset,
            "status": self.status,
            "paid_at": _iso(self.paid_at),
            "reported_at": _iso(self.reported_at),
            "org": self.org,
        }
        if self.pii_visible:
            out |= {"victim": self.victim, "contact": self.contact, "description": self.description,
                    "perpetrator_contacts": self.perpetrator}  # fmt: skip
        else:
            out["victim"] = "[withheld]"
        return out


@dataclass(slots=True)
class CashoutView:
    """Money that reached a service (exchange) at a deposit address: what a freeze cites."""

    exchange: str
    category: str | None
    deposit_address: str | None
    address: str
    amount: int
    asset: str
    txid: str | None
    time: datetime | None
    hops: int | None = None
    chain: str = "BTC"
    # False when the "deposit address" is the service's own (tagged) wallet: the trace met
    # the exchange there and the customer account must come from the exchange's records
    deposit_identified: bool = True
    attribution_confidence: int | None = None  # the tracer's confidence in the exchange's name
    # what the exchange answered it froze at this deposit address, to the viewer's own
    # request (cases.requests.service.mark_frozen): {"by", "amount", "asset", "at",
    # "requests"}; the amount is the whole address's, not this one payment's
    frozen: dict[str, Any] | None = None
    # the whole value of the payment(s) of ``txid`` into the deposit (None: not known):
    # amount / payment is how much of that payment was the campaign's traced money
    payment: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "exchange": self.exchange,
            "category": self.category,
            "deposit_address": self.deposit_address,
            "address": self.address,
            "amount": self.amount,
            "asset": self.asset,
            "txid": self.txid,
            "time": _iso(self.time),
            "hops": self.hops,
            "chain": self.chain,
            "deposit_identified": self.deposit_identified,
            "attribution_confidence": self.attribution_confidence,
            "frozen": self.frozen,
            "payment": self.payment,
        }


@dataclass(slots=True)
class CampaignView:
    id: str
    status: str
    created: datetime
    updated: datetime
    complaints: list[ComplaintView]
    links: list[dict[str, str]] = field(default_factory=list)
    cashouts: list[CashoutView] = field(default_factory=list)
    merged_into: str | None = None
    case_reference: str | None = None
    trace_params: dict[str, Any] = field(default_factory=dict)
    stale: dict[str, Any] | None = None  # why what is shown is not current, and how to refresh
    # complaints of orgs not on the case that linked in after it was opened: listed, never
    # counted, until the case's lead accepts them (cases.access)
    pending: list[ComplaintView] = field(default_factory=list)
    # reported contacts shared with campaigns linking kept apart (cases.contactlink):
    # {"kind", "campaigns", "complaints"} and "value" for who may read it
    contact_conflicts: list[dict[str, Any]] = field(default_factory=list)
    # customer deposit addresses this campaign's money reached that campaigns linking kept
    # apart reached too (analysis.link.deposits): {"deposit", "campaigns"}
    deposit_conflicts: list[dict[str, Any]] = field(default_factory=list)

    @property
    def total_loss(self) -> dict[str, int]:
        """Per asset key (``BTC``, ``TRX/USDT``): each payment once, however many
        organisations reported it."""
        total: dict[str, int] = defaultdict(int)
        for c in {c.payment_key: c for c in self.complaints}.values():
            total[resolve(c.asset, c.chain).key] += c.amount
        return dict(sorted(total.items()))

    @property
    def victims(self) -> int:
        """Distinct victims: a payment reported by several orgs is one victim's (the
        smallest index of its reports stands for it, whatever order they came in)."""
        per_payment: dict[str, str] = {}
        for c in self.complaints:
            idx = c.victim_index or c.id
            per_payment[c.payment_key] = min(idx, per_payment.get(c.payment_key, idx))
        return len(set(per_payment.values()))

    @property
    def addresses(self) -> list[str]:
        return sorted({c.to_address for c in self.complaints})

    @property
    def chains(self) -> list[str]:
        return sorted({c.chain for c in self.complaints})

    @property
    def first_seen(self) -> datetime | None:
        times = [c.paid_at for c in self.complaints if c.paid_at]
        return min(times) if times else None

    @property
    def last_seen(self) -> datetime | None:
        times = [c.paid_at for c in self.complaints if c.paid_at]
        return max(times) if times else None

    def cashouts_by_exchange(self) -> dict[str, list[CashoutView]]:
        out: dict[str, list[CashoutView]] = defaultdict(list)
        for c in self.cashouts:
            out[c.exchange].append(c)
        return dict(sorted(out.items()))

    def summary(self) -> dict[str, Any]:
        """The list form (`fundtrail campaigns --json`)."""
        return {
            "id": self.id,
            "status": self.status,
            "complaints": len(self.complaints),
            "victims": self.victims,
            "total_loss": self.total_loss,
            "first_seen": _iso(self.first_seen),
            "last_seen": _iso(self.last_seen),
            "chains": self.chains,
            "addresses": self.addresses,
            "cashouts": [c.to_dict() for c in self.cashouts],
            "case_reference": self.case_reference,
            "merged_into": self.merged_into,
        } | ({"stale": self.stale} if self.stale else {})

    def to_dict(self) -> dict[str, Any]:
        """The full form (`fundtrail campaign show --json`)."""
        return self.summary() | {
            "created": _iso(self.created),
            "updated": _iso(self.updated),
            "links": self.links,
            "trace_params": self.trace_params,
            "payments": [c.to_dict() for c in self.complaints],
            "pending": [c.to_dict() for c in self.pending],
            "contact_conflicts": self.contact_conflicts,
            "deposit_conflicts": self.deposit_conflicts,
        }


def _iso(t: datetime | None) -> str | None:
    if t is None:
        return None
    return t.astimezone(UTC).isoformat().replace("+00:00", "Z")
