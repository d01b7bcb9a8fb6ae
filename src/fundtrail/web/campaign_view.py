"""What the campaign pages show: kind, per-exchange subtotals, a page of victims.

A campaign of 500 victims and 400 cash-out transactions was one 37,000-pixel page. Here
the page leads with totals per exchange (each deposit address once, with its payments
summed), and victims come a page at a time, sorted as asked. The campaign's kind
(ransomware, investment scam, ...) is read from the tags and intel on its collection
addresses at request time, so new intel renames it at once.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from fundtrail.model import display
from fundtrail.model.assets import resolve

PER_PAGE = 50
SORTS = {
    "paid": lambda p: p.get("paid_at") or "",
    "amount": lambda p: int(p.get("amount") or 0),
    "complaint": lambda p: p.get("ref") or p.get("id") or "",
}


def _kind_addresses(c: dict[str, Any]) -> dict[str, list[str]]:
    """Per chain, the collection addresses whose tags say what kind a campaign is."""
    out: dict[str, list[str]] = {}
    for chain in c.get("chains") or []:
        addresses = [p["to_address"] for p in c.get("payments", []) if p.get("chain") == chain]
        if not addresses and not c.get("payments"):
            addresses = list(c.get("addresses") or [])
        out[chain] = addresses
    return out


def campaign_kinds(home: Path, campaigns: list[dict[str, Any]]) -> list[str]:
    """:func:`campaign_kind` of every campaign, with one tag lookup per chain for all."""
    from fundtrail.chainstore.tags import TagStore, chain_code, normalize_address

    wanted = [_kind_addresses(c) for c in campaigns]
    by_chain: dict[str, set[str]] = defaultdict(set)
    for w in wanted:
        for chain, addresses in w.items():
            by_chain[chain].update(addresses)
    tags = TagStore(home)
    categories: dict[str, dict[str, list[str]]] = {}
    for chain, pooled in by_chain.items():
        per: dict[str, list[str]] = defaultdict(list)
        try:
            found = tags.lookup(chain, sorted(pooled))
        except Exception:  # a chain without a tag table: no kind from it
            found = []
        for t in found:
            if t.category:
                per[t.address].append(t.category)
        categories[chain] = per
    kinds = []
    for w in wanted:
        counts: Counter[str] = Counter()
        for chain, addresses in w.items():
            per = categories.get(chain, {})
            for a in sorted(set(addresses)):
                try:
                    norm = normalize_address(chain_code(chain), a)
                except Exception:  # an invalid address matches no tag
                    continue
                counts.update(per.get(norm, []))
        kinds.append(counts.most_common(1)[0][0] if counts else "unknown")
    return kinds


def campaign_kind(home: Path, c: dict[str, Any]) -> str:
    """The most common attribution category of the collection addresses, or "unknown"."""
    return campaign_kinds(home, [c])[0]


def exchange_rows(
    c: dict[str, Any], frozen: list[dict[str, Any]] | None = None
) -> list[dict[str, Any]]:
    """Per exchange: total per asset, share of the loss, and each deposit address once
    (``frozen``: deposits an exchange answered frozen, marked as such)."""
    held = {(f["chain"], f["address"]): f for f in frozen or []}
    chain = c["chains"][0] if len(c.get("chains") or []) == 1 else None
    loss = c.get("total_loss") or {}
    per: dict[str, dict[str, Any]] = {}
    for o in c.get("cashouts") or []:
        ex = per.setdefault(o["exchange"], {"totals": defaultdict(int), "deposits": {}})
        ex["totals"][o["asset"]] += int(o["amount"])
        key = o.get("deposit_address") or o["address"]
        d = ex["deposits"].setdefault(
            key, {"address": key, "chain": o.get("chain") or chain, "asset": o["asset"],
                  "amount": 0, "payments": 0, "first": o.get("time"), "last": o.get("time"),
                  "txid": o.get("txid")},
        )  # fmt: skip
        d["amount"] += int(o["amount"])
        d["payments"] += 1
        t = o.get("time")
        if t and (d["first"] is None or t < d["first"]):
            d["first"] = t
        if t and (d["last"] is None or t > d["last"]):
            d["last"] = t
    rows = []
    for name, ex in per.items():
        totals = dict(ex["totals"])
        top = max(totals, key=lambda a: totals[a])
        deposits = sorted(ex["deposits"].values(), key=lambda d: -d["amount"])
        for d in deposits:
            d["amount_text"] = display.amount(d["amount"], d["asset"], chain=d["chain"])
            f = held.get((d["chain"], d["address"]))
            d["frozen"] = (
                f"frozen by {f['org']}: {display.amount(f['amount'], f['asset'], chain=d['chain'])}"
                if f else None
            )  # fmt: skip
        rows.append(
            {
                "exchange": name,
                "amount_text": display.amounts(totals, chain=chain),
                "share": _share(totals[top], int(loss.get(top, 0))),
                "deposits": deposits,
                "payments": sum(d["payments"] for d in deposits),
                "key": totals[top],
            }
        )
    return sorted(rows, key=lambda r: -r["key"])


def victims_page(c: dict[str, Any], page: int, sort: str, desc: bool) -> dict[str, Any]:
    payments = list(c.get("payments") or [])
    key = SORTS.get(sort, SORTS["paid"])
    payments.sort(key=key, reverse=desc)
    pages = max(1, -(-len(payments) // PER_PAGE))
    page = min(max(1, page), pages)
    return {
        "rows": payments[(page - 1) * PER_PAGE : page * PER_PAGE],
        "page": page,
        "pages": pages,
        "total": len(payments),
        "sort": sort if sort in SORTS else "paid",
        "desc": desc,
    }


def _share(amount: int, loss: int) -> str:
    from fundtrail.cases.freeze import share_text

    return share_text(amount, loss)


def loss_fiat(store: Any, c: dict[str, Any]) -> str | None:
    """The loss in fiat, each payment valued at its own time (None without prices)."""
    from datetime import datetime

    from fundtrail.prices.service import book_for

    book = book_for(store)
    if book is None:
        return None
    items = []
    for p in c.get("payments") or []:
        when = p.get("paid_at")
        unix = (
            int(datetime.fromisoformat(when.replace("Z", "+00:00")).timestamp()) if when else None
        )
        items.append((int(p["amount"]), resolve(p["asset"], p["chain"]), unix))
    return book.total_text(items)
