"""Freeze requests: which deposit addresses to put before which exchange, and why.

A freeze request names a customer account; a wrong one harms a person and costs the
alliance its credibility. So a campaign's cash-outs (the haircut trace's deposit
addresses) become a :class:`FreezePlan` that requests a deposit only when both hold:

* its traced proceeds are at least ``MIN_SHARE`` (0.1%) of the campaign's loss in that
  asset (a freeze is worth an exchange's time), or, smaller, they are at least
  ``FULL_PURITY`` (50%) of everything that address ever received: an account that holds
  mainly the campaign's money is the gang's (or its mule's), and asking for it also
  names whose it is (a gang peeling into fresh single-use deposits leaves many small
  ones, each all proceeds; an ordinary customer's deposit is mostly its own money), or,
  smaller still, one payment into it was at least ``PURE_PAYMENT`` traced (the gang paid
  it itself, below) and what the address received in all is at least ``MIN_SHARE`` of the
  loss: a gang that feeds one account from its peel chain with small payments and from a
  mixer or CoinJoins with large ones leaves little traced money there, but the account
  is the gang's and holds enough to be worth freezing, and
* they are at least ``MIN_PURITY`` (5%) of everything that deposit address ever
  received: a gang's deposit address takes mostly the gang's money, while an ordinary
  customer whom haircut taint reached through a CoinJoin or a shared payer holds a
  sliver of traced money among its own (measured: gangs' deposits 13-100%, such
  customers under 1%); **or** one payment into it was at least ``PURE_PAYMENT`` (50%)
  traced money: the gang paid that deposit itself. A gang that also feeds its deposit
  with coins out of a custodial mixer or CoinJoins (no on-chain link, so not traced)
  leaves the traced share of all it received low (1-4% measured by bench/forensics.py)
  while each of its own peel-chain payments is wholly traced; a customer reached by
  haircut slivers never receives a payment that is mostly traced money.

A deposit that only haircut reaches, with shares (under ``FULL_PURITY`` of all it received
and of every payment into it) where the FIFO trace puts nothing, is not requested either:
that is what an ordinary CoinJoin participant's later deposit looks like, haircut passing
the gang's taint to every participant in proportion (``bench/independent.py``'s worlds
asked such customers; FIFO gives the coins to a few outputs, not a share to all). A gang's
own payment is wholly traced, so its deposits are asked whatever FIFO says.

A deposit the trace reached only through a CoinJoin (``past_coinjoins``: the poison
trace, which stops at CoinJoins, never reached it) is not requested either, whatever its
shares: a CoinJoin's outputs belong to strangers who mixed together, and haircut gives
each the same share of the gang's coins, so the shares say nothing of whose account it
is (``bench/independent.py``'s worlds asked participants' deposits with 6-63% of a
payment traced, as much as the gang's own post-mix deposits had). It is listed with the
reason, for an information request rather than a freeze; a gang's deposit that is also
fed on chain is reached around the CoinJoin and stays requested.

Every requested deposit carries the traced amount, its share of the loss, what the
address received in all, the method and hops, the FIFO trace's amount beside the
haircut one (a disagreement is said in ``note``) and a ``confidence`` (0-100, below).
What was left out is listed with the reason. Deposits are ranked by amount, requests by
their largest deposit. One JSON, CSV and PDF per exchange are written from the plan; no
victim's personal data is ever in one.

``confidence`` = 100 x min(1, evidence / 0.5) x (0.5 + 0.5 x agreement), where evidence
is the larger of the purity and the traced share of the deposit's most traced payment,
agreement is the smaller of the FIFO and haircut amounts over the larger (0 when FIFO
puts nothing there), times the attribution's own confidence where the tracer gives one.

The plan is a typed structure on purpose: partner-to-partner requests (issue 20) are
built on :class:`FreezePlan` and :class:`FreezeDeposit`, not on the files.
"""

from __future__ import annotations

import csv
import json
import re
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from fundtrail.cases.method import taint_text
from fundtrail.cases.render import render_html, write_pdf
from fundtrail.cases.views import CashoutView, _iso
from fundtrail.chains.pseudo import describe
from fundtrail.model import display
from fundtrail.model.assets import resolve

MIN_SHARE = 0.001  # of the campaign's loss in the asset
MIN_PURITY = 0.05  # of everything the deposit address ever received
FULL_PURITY = 0.5  # purity at which the confidence stops growing
PURE_PAYMENT = 0.5  # a payment this much traced shows the gang paid the deposit itself

Place = tuple[str, str, str]  # (chain, address, asset key)

OWN_WALLET = (
    "reached the exchange's own wallet after a sweep: the crediting customer must come "
    "from the exchange's records (the transactions are in the report)"
)
SLIVER = "an ordinary customer the trace reached with a sliver, not the gang's deposit"
UNCORROBORATED = (
    "haircut shares of a CoinJoin or of a payer's mixed coins, not a payment the gang "
    "made; no freeze is asked on one method alone"
)
COINJOIN_ONLY = (
    "reached only through a CoinJoin: its outputs belong to strangers who mixed together "
    "and each gets the same share of the gang's coins, so this says nothing of whose "
    "account it is; ask the exchange who holds it, not for a freeze"
)
FIFO_ONLY = "only the FIFO trace puts money here; haircut lists none"
DISPERSED = "places below the trace's listing floor, summed"
PROTOCOL = (
    "no one holds it, so there is no one to ask to freeze (the transactions are in the report)"
)

CSV_COLUMNS = (
    "case_reference",
    "exchange",
    "chain",
    "deposit_address",
    "asset",
    "amount",
    "share_of_loss",
    "received",
    "fifo_amount",
    "confidence",
    "method",
    "hops",
    "txids",
    "first_seen",
    "last_seen",
    "note",
    "fiat_value",
)


def asset_key(asset: str, chain: str) -> str:
    """The one key of an asset (``BTC``, ``TRX/USDT``) whatever spelling a row used."""
    return resolve(asset, chain).key


@dataclass(frozen=True, slots=True)
class FreezeDeposit:
    """One deposit address to freeze, with the evidence an exchange needs to act."""

    exchange: str
    chain: str
    deposit_address: str
    asset: str  # asset key
    amount: int  # haircut-traced proceeds, base units
    share: float  # of the campaign's loss in this asset
    received: int  # everything the address ever received in this asset
    fifo_amount: int  # what the FIFO trace puts here
    method: str
    hops: int
    confidence: int
    txids: tuple[str, ...]
    first_seen: datetime | None
    last_seen: datetime | None
    note: str | None = None
    payment_share: float = 0.0  # traced share of its most traced payment (0: not known)

    @property
    def purity(self) -> float:
        return min(1.0, self.amount / self.received) if self.received else 1.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "exchange": self.exchange,
            "chain": self.chain,
            "deposit_address": self.deposit_address,
            "asset": self.asset,
            "amount": self.amount,
            "share": round(self.share, 6),
            "received": self.received,
            "share_of_received": round(self.purity, 6),
            "payment_share": round(self.payment_share, 6),
            "fifo_amount": self.fifo_amount,
            "method": self.method,
            "hops": self.hops,
            "confidence": self.confidence,
            "txids": list(self.txids),
            "first_seen": _iso(self.first_seen),
            "last_seen": _iso(self.last_seen),
            "note": self.note,
        }


@dataclass(frozen=True, slots=True)
class LeftOut:
    """A place traced money reached that is *not* put before an exchange, and why."""

    exchange: str
    chain: str
    address: str | None  # None: a sum of places the trace did not list
    asset: str
    amount: int
    share: float
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "exchange": self.exchange,
            "chain": self.chain,
            "address": self.address,
            "asset": self.asset,
            "amount": self.amount,
            "share": round(self.share, 6),
            "reason": self.reason,
        }


@dataclass(frozen=True, slots=True)
class FreezeRequest:
    """What one exchange is asked to freeze: its requested deposits, largest first."""

    exchange: str
    deposits: tuple[FreezeDeposit, ...]

    @property
    def totals(self) -> dict[str, int]:
        out: dict[str, int] = defaultdict(int)
        for d in self.deposits:
            out[d.asset] += d.amount
        return dict(sorted(out.items()))

    def to_dict(self) -> dict[str, Any]:
        return {
            "exchange": self.exchange,
            "totals": self.totals,
            "deposits": [d.to_dict() for d in self.deposits],
        }


@dataclass(frozen=True, slots=True)
class FreezePlan:
    """A campaign's freeze requests, one per exchange, and what was left out."""

    campaign: str
    loss: dict[str, int]
    method: str
    requests: tuple[FreezeRequest, ...]
    left_out: tuple[LeftOut, ...]
    min_share: float = MIN_SHARE
    min_purity: float = MIN_PURITY
    disagreements: int = field(default=0)

    @property
    def rule(self) -> str:
        return (
            f"a deposit is requested when its traced proceeds are at least "
            f"{self.min_share:.1%} of the campaign's loss in that asset and either at "
            f"least {self.min_purity:.0%} of everything the address ever received or at "
            f"least {PURE_PAYMENT:.0%} of one payment into it; a smaller one when they are "
            f"at least {FULL_PURITY:.0%} of everything it ever received, or at least "
            f"{PURE_PAYMENT:.0%} of one payment into it and it received at least "
            f"{self.min_share:.1%} of the loss in all; and never on haircut shares alone "
            f"(under {FULL_PURITY:.0%} of all it received and of every payment) where FIFO "
            "puts nothing, nor where the trace reached it only through a CoinJoin"
        )

    def requested(self) -> set[tuple[str, str]]:
        """(chain, deposit address) of every requested deposit."""
        return {(d.chain, d.deposit_address) for r in self.requests for d in r.deposits}

    def requested_cashouts(self, cashouts: Iterable[CashoutView]) -> dict[str, list[CashoutView]]:
        """The campaign's cash-out rows of requested deposits, per exchange."""
        wanted = self.requested()
        out: dict[str, list[CashoutView]] = defaultdict(list)
        for c in cashouts:
            if c.deposit_identified and (c.chain, c.deposit_address or "") in wanted:
                out[c.exchange].append(c)
        return dict(sorted(out.items()))

    def to_dict(self) -> dict[str, Any]:
        return {
            "campaign": self.campaign,
            "loss": self.loss,
            "method": self.method,
            "threshold": {
                "min_share": self.min_share,
                "min_share_of_received": self.min_purity,
                "rule": self.rule,
            },
            "requests": [r.to_dict() for r in self.requests],
            "left_out": [x.to_dict() for x in self.left_out],
            "methods_disagree": self.disagreements,
        }


@dataclass(slots=True)
class _Place:
    exchange: str
    chain: str
    address: str
    asset: str
    amount: int = 0
    hops: int = 0
    identified: bool = True
    txids: set[str] = field(default_factory=set)
    times: list[datetime] = field(default_factory=list)
    attribution: float = 1.0
    payment_share: float = 0.0  # the largest traced share of one payment into it
    frozen: dict[str, Any] | None = None  # what a partner answered it froze here


def _places(cashouts: Iterable[CashoutView]) -> dict[Place, _Place]:
    out: dict[Place, _Place] = {}
    for c in cashouts:
        address = c.deposit_address or c.address
        key = (c.chain, address, asset_key(c.asset, c.chain))
        p = out.get(key)
        if p is None:
            p = out[key] = _Place(c.exchange, c.chain, address, key[2], hops=c.hops or 0)
            p.attribution = (c.attribution_confidence or 100) / 100
        p.amount += c.amount
        p.hops = min(p.hops, c.hops or 0)
        p.identified = p.identified and c.deposit_identified
        if c.payment:
            p.payment_share = max(p.payment_share, min(1.0, c.amount / c.payment))
        if c.txid:
            p.txids.add(c.txid)
        if c.time:
            p.times.append(c.time)
        if c.frozen:
            p.frozen = c.frozen
    return out


def confidence(
    purity: float, haircut: int, fifo: int, attribution: float = 1.0, payment_share: float = 0.0
) -> int:
    """0-100: how surely this deposit holds the campaign's proceeds (module docstring)."""
    agreement = min(haircut, fifo) / max(haircut, fifo) if max(haircut, fifo) > 0 else 0.0
    evidence = min(1.0, max(purity, payment_share) / FULL_PURITY)
    value = evidence * (0.5 + 0.5 * agreement) * attribution
    return round(100 * value)


def plan_freeze(
    campaign: str,
    loss: Mapping[str, int],
    haircut: Iterable[CashoutView],
    fifo: Iterable[CashoutView],
    received: Mapping[Place, int],
    *,
    dispersed: Iterable[tuple[str, str, str, int]] = (),
    method: str = "haircut",
    min_share: float = MIN_SHARE,
    min_purity: float = MIN_PURITY,
    converted: Mapping[str, int] | None = None,
    started: Mapping[str, int] | None = None,
    past_coinjoins: Collection[Place] = (),
) -> FreezePlan:
    """The plan from a campaign's traces (pure: every input given, nothing read).

    ``converted``: per asset key, what the trace followed into that asset through swaps
    (USDT swapped to TRX); a deposit's share of an asset the victims did not pay in is its
    share of that converted amount.

    ``started``: per asset key, what the trace started from (the victims' payments as the
    chain records them). Where the loss names no such asset (victims said "USDT" but the
    token they paid is a lookalike contract, named by that contract), a deposit's share
    is of those payments: the victims' word does not name the asset the chain moved.

    ``received``: what each (chain, address, asset key) ever received; ``dispersed``:
    (exchange, chain, asset key, amount) of cash-outs the trace summed, not listed;
    ``past_coinjoins``: the places the trace reached only through a CoinJoin.
    """
    places = _places(haircut)
    fifo_at = {k: p.amount for k, p in _places(fifo).items()}
    chosen: dict[str, list[FreezeDeposit]] = defaultdict(list)
    left: list[LeftOut] = []
    disagree = 0
    base = {**(converted or {}), **(started or {}), **loss}
    for key, p in sorted(places.items(), key=lambda kv: (-kv[1].amount, kv[0])):
        total = base.get(p.asset, 0)
        share = p.amount / total if total else 0.0
        got = received.get(key, 0)
        purity = p.amount / got if got else 1.0

        def out(reason: str, p: _Place = p, share: float = share) -> None:
            left.append(LeftOut(p.exchange, p.chain, p.address, p.asset, p.amount, share, reason))

        if (ledger := describe(p.address)) is not None:
            out(f"{ledger.label} is a protocol ledger: {PROTOCOL}")
            continue
        if not p.identified:
            out(OWN_WALLET)
            continue
        if key in past_coinjoins:
            out(COINJOIN_ONLY)
            continue
        small = share < min_share
        holds = got / total if total else 0.0  # all the address received, over the loss
        own_account = p.payment_share >= PURE_PAYMENT and holds >= min_share
        if small and purity < FULL_PURITY and not own_account:
            out(f"below {min_share:.1%} of the campaign's loss ({100 * share:.6g}%)")
            continue
        if purity < min_purity and p.payment_share < PURE_PAYMENT:
            most = (f" and at most {p.payment_share:.1%} of any one payment into it"
                    if p.payment_share else "")  # fmt: skip
            out(f"traced proceeds are {purity:.1%} of all this address received{most}: {SLIVER}")
            continue
        f = fifo_at.get(key, 0)
        if f == 0 and purity < FULL_PURITY and p.payment_share < PURE_PAYMENT:
            out(
                f"only haircut puts proceeds here ({purity:.1%} of all it received, at most "
                f"{p.payment_share:.1%} of any one payment) and FIFO puts none: {UNCORROBORATED}"
            )
            continue
        note = _disagreement(p.amount, f, p.asset, p.chain)
        if small and purity >= FULL_PURITY:
            said = (f"{100 * share:.3g}% of the campaign's loss, but {purity:.0%} of all this "
                    "address received: the gang's own account")  # fmt: skip
            note = f"{said}; {note}" if note else said
        elif small:
            said = (f"{100 * share:.3g}% of the campaign's loss, but one payment into it was "
                    f"{p.payment_share:.0%} proceeds and all it received is {100 * holds:.3g}% "
                    "of the loss: the gang's own account")  # fmt: skip
            note = f"{said}; {note}" if note else said
        disagree += note is not None
        if p.frozen:  # a re-trace after a freeze: say what the exchange answered
            held = display.amount(p.frozen["amount"], p.frozen["asset"], chain=p.chain)
            said = f"already frozen by {p.frozen['by']}: {held}"
            note = f"{note}; {said}" if note else said
        chosen[p.exchange].append(
            FreezeDeposit(
                exchange=p.exchange, chain=p.chain, deposit_address=p.address, asset=p.asset,
                amount=p.amount, share=share, received=got, fifo_amount=f, method=method,
                hops=p.hops,
                confidence=confidence(purity, p.amount, f, p.attribution, p.payment_share),
                txids=tuple(sorted(p.txids)), first_seen=min(p.times, default=None),
                last_seen=max(p.times, default=None), note=note, payment_share=p.payment_share,
            )
        )  # fmt: skip
    for (chain, address, asset), amount in sorted(fifo_at.items()):
        if (chain, address, asset) not in places and amount > 0:
            share = amount / loss[asset] if loss.get(asset) else 0.0
            left.append(LeftOut("", chain, address, asset, amount, share, FIFO_ONLY))
    for exchange, chain, asset, amount in dispersed:
        share = amount / loss[asset] if loss.get(asset) else 0.0
        left.append(LeftOut(exchange, chain, None, asset, amount, share, DISPERSED))
    requests = [FreezeRequest(ex, tuple(ds)) for ex, ds in chosen.items()]
    requests.sort(key=lambda r: (-max(d.share for d in r.deposits), r.exchange))
    return FreezePlan(
        campaign, dict(loss), method, tuple(requests), tuple(left), min_share, min_purity,
        disagree,
    )  # fmt: skip


def _disagreement(haircut: int, fifo: int, asset: str, chain: str) -> str | None:
    """Say so when FIFO puts less than half or more than twice the haircut amount here."""
    if fifo * 2 >= haircut and fifo <= haircut * 2:
        return None
    shown = display.amount(fifo, asset, chain=chain)
    if fifo == 0:
        return "FIFO and haircut disagree: FIFO puts none of the proceeds here"
    return f"FIFO and haircut disagree: FIFO puts {shown} here"


def slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "unknown"


def freeze_payload(
    plan: FreezePlan,
    request: FreezeRequest,
    *,
    reference: str,
    requester: str,
    now: datetime,
    requester_details: dict[str, Any] | None = None,
    fiat: Mapping[str, str | None] | None = None,
) -> dict[str, Any]:
    """The JSON document sent to one exchange.

    ``fiat`` (when prices were imported) holds the value of the requested transfers at
    the time of each, as display text: ``"total"`` for the exchange and ``CHAIN:ADDRESS``
    per deposit; amounts themselves stay exact base units."""
    fiat = fiat or {}
    deposits = []
    for d in request.deposits:
        row = d.to_dict()
        row["fiat_value"] = fiat.get(f"{d.chain}:{d.deposit_address}")
        deposits.append(row)
    return {
        "type": "freeze-request",
        "case_reference": reference,
        "campaign": plan.campaign,
        "requesting_org": requester,
        "requester": dict(requester_details or {"org": requester}),
        "method": plan.method,
        "generated": _iso(now),
        "exchange": request.exchange,
        "request": (
            f"Please freeze or preserve the funds credited through the deposit addresses "
            f"below and the records of the accounts they belong to, in case {reference}. "
            f"The amounts are traced proceeds of victims' payments to campaign "
            f"{plan.campaign}; each deposit shows its share of the loss, what the address "
            "received in all, the method and a confidence."
        ),
        "threshold": plan.to_dict()["threshold"],
        "totals": request.totals,
        "fiat_value": fiat.get("total"),
        "deposits": deposits,
    }


def write_freeze_requests(
    plan: FreezePlan,
    out: Path,
    *,
    reference: str,
    requester: str,
    now: datetime,
    requester_details: dict[str, Any] | None = None,
    fiat: Mapping[str, Mapping[str, str | None]] | None = None,
) -> list[Path]:
    """freeze-request-<exchange>.json, .csv and .pdf for every exchange in the plan.

    ``fiat``: per exchange, the values :func:`freeze_payload` shows (none: no prices)."""
    written: list[Path] = []
    for request in plan.requests:
        payload = freeze_payload(plan, request, reference=reference, requester=requester,
                                 now=now, requester_details=requester_details,
                                 fiat=(fiat or {}).get(request.exchange))  # fmt: skip
        base = out / f"freeze-request-{slug(request.exchange)}"
        json_path = base.with_suffix(".json")
        json_path.write_text(json.dumps(payload, indent=2) + "\n")
        csv_path = base.with_suffix(".csv")
        with open(csv_path, "w", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(CSV_COLUMNS)
            for d in payload["deposits"]:
                row = {**d, "case_reference": reference, "share_of_loss": d["share"],
                       "txids": " ".join(d["txids"])}  # fmt: skip
                w.writerow(["" if row[c] is None else row[c] for c in CSV_COLUMNS])
        chains = {d.chain for d in request.deposits}
        html = render_html(
            "freeze.html",
            p=payload,
            fmt=_fmt,
            iso=display.time_utc,
            chain=chains.pop() if len(chains) == 1 else None,
            taint=taint_text(plan.method),
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
