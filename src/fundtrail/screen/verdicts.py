"""Answer screening requests from a loaded index: visible reasons, score, risk level.

Pure functions over the index; the service adds logging and the API adds auth.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from fundtrail.errors import InvalidInputError, UserError
from fundtrail.model.chains import get_chain
from fundtrail.model.tlp import TLP, may_see
from fundtrail.screen.index import ScreenIndex, Source
from fundtrail.screen.keys import address_key, normalise
from fundtrail.screen.scoring import Rules, reason_score, verdict

MAX_BATCH = 10_000


@dataclass(slots=True)
class ScreenItem:
    chain: str
    address: str  # as given
    direction: str | None = None  # deposit | withdrawal
    amount: int | None = None
    asset: str | None = None
    txid: str | None = None

    @classmethod
    def from_dict(cls, data: dict[str, Any], position: int | None = None) -> ScreenItem:
        where = f"items[{position}]." if position is not None else ""
        if not isinstance(data, dict):
            raise InvalidInputError(f"{where[:-1] or 'item'} must be an object", field=where[:-1])
        address = data.get("address")
        if not isinstance(address, str) or not address:
            raise InvalidInputError(f"{where}address is required", field=f"{where}address")
        chain = str(data.get("chain") or "BTC")
        direction = data.get("direction")
        if direction is not None and direction not in ("deposit", "withdrawal"):
            raise InvalidInputError(
                f"{where}direction must be 'deposit' or 'withdrawal'", field=f"{where}direction"
            )
        amount = data.get("amount")
        if amount is not None and (
            isinstance(amount, bool)
            or not isinstance(amount, int | str)
            or not str(amount).isdigit()
        ):
            raise InvalidInputError(
                f"{where}amount must be a whole number of base units", field=f"{where}amount"
            )
        return cls(
            chain=get_chain(chain).code,
            address=address,
            direction=direction,
            amount=int(amount) if amount is not None else None,
            asset=data.get("asset"),
            txid=data.get("txid"),
        )


def _visible(source: Source, viewer_org: str) -> bool:
    if source.org is None:
        return True  # public attribution data (TagPacks, OFAC lists)
    return may_see(
        TLP.parse(source.tlp),
        owner_org=source.org,
        viewer_org=viewer_org,
        shared_with=frozenset(source.share_with),
    )


def _reason_view(r: dict[str, Any], score: int) -> dict[str, Any]:
    src: Source = r["source"]
    out: dict[str, Any] = {
        "category": r["category"],
        "kind": r["kind"],
        "exposure": "indirect" if r["kind"] == "indirect" else "direct",
        "score": score,
        "source": {
            "type": src.kind,
            "ref": src.ref,
            "label": src.label,
            "org": src.org,
            "tlp": src.tlp,
            "confidence": src.confidence,
        },
    }
    if r["kind"] == "cluster":
        out["cluster_members"] = r.get("members", 1)
    if r["kind"] == "indirect":
        out["share"] = round(r["share"], 6)
        out["hops"] = r["hops"]
        out["origin"] = src.address or None
    return out


def _collapse(reasons: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One ``cluster`` reason per category and source owner, counting the risky members.

    An address in a cluster with six reported collection wallets has one reason ("same
    cluster as 6 addresses reported as scam by X"), not six identical lines.
    """
    out: list[dict[str, Any]] = []
    seen: dict[tuple[str, str | None, str], dict[str, Any]] = {}
    for r in reasons:
        if r["kind"] != "cluster":
            out.append(r)
            continue
        src: Source = r["source"]
        key = (r["category"], src.org, src.tlp)
        if key in seen:
            seen[key]["members"] += 1
            continue
        seen[key] = {**r, "members": 1}
        out.append(seen[key])
    return out


def _score(rules: Rules, r: dict[str, Any]) -> int:
    return reason_score(rules, r["category"], r["kind"], r["share"], r["hops"])


def answer(
    index: ScreenIndex, items: list[ScreenItem], *, viewer_org: str, rules: Rules
) -> list[dict[str, Any]]:
    """Verdicts for items, with only the reasons the viewer may see."""
    if len(items) > MAX_BATCH:
        raise UserError(f"a batch holds at most {MAX_BATCH} items; got {len(items)}")
    normalised: list[str | None] = []
    errors: list[str | None] = []
    keys = np.zeros(len(items), dtype=np.uint64)
    for i, item in enumerate(items):
        try:
            norm = normalise(item.chain, item.address)
        except InvalidInputError as exc:
            normalised.append(None)
            errors.append(exc.message)
            continue
        normalised.append(norm)
        errors.append(None)
        keys[i] = address_key(item.chain, norm)
    raw = index.lookup_keys(keys)
    return assemble(
        items, normalised, errors, raw, version=index.version, viewer_org=viewer_org, rules=rules
    )


def assemble(
    items: list[ScreenItem],
    normalised: list[str | None],
    errors: list[str | None],
    raw: list[list[dict[str, Any]]],
    *,
    version: str,
    viewer_org: str,
    rules: Rules,
) -> list[dict[str, Any]]:
    """Answers from raw reasons per item (whatever looked them up)."""
    out: list[dict[str, Any]] = []
    for item, maybe_norm, err, reasons in zip(items, normalised, errors, raw, strict=True):
        base: dict[str, Any] = {"chain": item.chain, "address": item.address}
        if item.direction:
            base["direction"] = item.direction
        if err is not None:
            out.append({**base, "error": err, "risk": None, "score": None, "reasons": []})
            continue
        visible = _collapse([r for r in reasons if _visible(r["source"], viewer_org)])
        level, score = verdict(rules, visible)
        shown = sorted(
            (
                _reason_view(
                    r, reason_score(rules, r["category"], r["kind"], r["share"], r["hops"])
                )
                for r in visible
                if r["category"] not in rules.ignore_categories
            ),
            key=lambda v: -v["score"],
        )
        out.append(
            {
                **base,
                "normalised": maybe_norm,
                "risk": level,
                "score": score,
                "reasons": shown,
                "index_version": version,
            }
        )
    return out
