"""MISP export: one event per call, crypto as MISP's own object templates.

Every attribute carries its own ``tlp:*`` tag and a distribution that matches it
(CLEAR 3, GREEN 2, AMBER 1, AMBER+STRICT and RED 0), so a MISP instance that drops
event tags still keeps each value's marking. Reading is in :mod:`fundtrail.intel.misp`.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any, TextIO

from fundtrail.intel.records import IndicatorRecord
from fundtrail.model.indicators import IndicatorType
from fundtrail.model.tlp import TLP

__all__ = ["iter_by_tlp", "to_misp_event", "write_misp"]

_NS = uuid.UUID("b9d1c0a4-8a55-4f0e-9a3c-0c2f5e7d1a66")
TLP_DISTRIBUTION = {
    TLP.CLEAR: "3",
    TLP.GREEN: "2",
    TLP.AMBER: "1",
    TLP.AMBER_STRICT: "0",
    TLP.RED: "0",
}


def _uuid(*parts: str) -> str:
    return str(uuid.uuid5(_NS, "\x1f".join(parts)))


def _attribute(
    rec: IndicatorRecord, misp_type: str, relation: str | None = None, value: str | None = None
) -> dict[str, Any]:
    attr: dict[str, Any] = {
        "uuid": _uuid(
            "attr", rec.org or "", rec.type.value, rec.chain or "", rec.value, relation or ""
        ),
        "type": misp_type,
        "category": _misp_category(rec),
        "value": value or rec.value,
        "to_ids": rec.category.is_illicit
        and relation in (None, "address", "address-xmr", "address-crypto", "transaction-number"),
        "distribution": TLP_DISTRIBUTION[rec.tlp],
        "comment": rec.description[:1000],
        "Tag": [
            {"name": f"tlp:{rec.tlp.value}"},
            {"name": f'fundtrail:category="{rec.category.value}"'},
        ],
    }
    if relation:
        attr["object_relation"] = relation
    return attr


def _misp_category(rec: IndicatorRecord) -> str:
    if rec.type in (IndicatorType.CRYPTO_ADDRESS, IndicatorType.TX):
        return "Financial fraud"
    return (
        "Network activity"
        if rec.type in (IndicatorType.IP, IndicatorType.DOMAIN, IndicatorType.URL)
        else "Payload delivery"
    )


_FLAT = {
    IndicatorType.DOMAIN: "domain",
    IndicatorType.URL: "url",
    IndicatorType.EMAIL: "email",
    IndicatorType.IP: "ip-dst",
    IndicatorType.PHONE: "phone-number",
}


def _object(rec: IndicatorRecord) -> dict[str, Any]:
    symbol = rec.chain or ""
    if rec.type is IndicatorType.TX:
        name, attrs = "cryptocurrency-transaction", [_attribute(rec, "text", "transaction-number")]
    else:
        relation, mtype = {"BTC": ("address", "btc"), "XMR": ("address-xmr", "xmr")}.get(
            symbol, ("address-crypto", "text")
        )
        name, attrs = "coin-address", [_attribute(rec, mtype, relation)]
    attrs.append(_attribute(rec, "text", "symbol", symbol))
    attrs[-1]["to_ids"] = False
    return {
        "uuid": _uuid("obj", rec.org or "", rec.type.value, symbol, rec.value),
        "name": name,
        "meta-category": "financial",
        "template_uuid": {
            "coin-address": "d0e6997e-78da-4815-a6a1-cfc1c1cb8a46",
            "cryptocurrency-transaction": "a4aab70f-e43a-48cb-bf82-505de8228dd6",
        }[name],
        "distribution": TLP_DISTRIBUTION[rec.tlp],
        "Attribute": attrs,
    }


def to_misp_event(
    records: Iterable[IndicatorRecord],
    *,
    info: str = "fundtrail export",
    now: datetime | None = None,
    tlp: TLP | None = None,
) -> dict[str, Any]:
    """One MISP event of ``records``; ``tlp`` (their common level) tags the event too."""
    clock = now or datetime.now(UTC)
    attributes: list[dict[str, Any]] = []
    objects: list[dict[str, Any]] = []
    keys: list[str] = []
    loosest = TLP.RED
    for rec in records:
        loosest = min(loosest, rec.tlp, key=lambda t: t.rank)
        keys.append(f"{rec.type.value}|{rec.chain}|{rec.value}|{rec.tlp.value}")
        if rec.type in (IndicatorType.CRYPTO_ADDRESS, IndicatorType.TX):
            objects.append(_object(rec))
        else:
            attributes.append(_attribute(rec, _FLAT[rec.type]))
    event: dict[str, Any] = {
        "uuid": _uuid("event", info, *sorted(keys)),
        "info": info,
        "date": clock.date().isoformat(),
        "timestamp": str(int(clock.timestamp())),
        "published": False,
        "analysis": "2",
        "threat_level_id": "4",
        # as wide as its widest attribute; each attribute narrows itself by tag
        "distribution": TLP_DISTRIBUTION[tlp or loosest],
        "Orgc": {"name": "fundtrail"},
        "Tag": [{"name": f"tlp:{tlp.value}"}] if tlp else [],
        "Attribute": attributes,
        "Object": objects,
    }
    return {"Event": event}


def write_misp(records: Iterable[IndicatorRecord], out: TextIO) -> int:
    """The ``--format misp`` writer: one event; returns the number of indicators."""
    recs = list(records)
    json.dump(to_misp_event(recs), out, indent=2, ensure_ascii=False)
    out.write("\n")
    return len(recs)


def iter_by_tlp(records: Iterable[IndicatorRecord]) -> Iterator[tuple[TLP, list[IndicatorRecord]]]:
    """Records grouped by TLP level, strictest last (one feed event per level)."""
    groups: dict[TLP, list[IndicatorRecord]] = {}
    for rec in records:
        groups.setdefault(rec.tlp, []).append(rec)
    for level in sorted(groups, key=lambda t: t.rank):
        yield level, groups[level]
