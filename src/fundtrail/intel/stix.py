"""Indicator records to STIX 2.1 bundles, deterministic and valid under stix2-validator --strict.

A crypto address becomes a ``cryptocurrency-wallet`` observable (OpenCTI's type and its
``value`` property, declared as a ``new-sco`` by an extension definition shipped in the
bundle) plus an ``indicator`` whose pattern is ``[cryptocurrency-wallet:value = '...']``.
Domains, URLs, e-mails and IPs use the spec's own SCOs. TLP is carried by the OASIS
TLP 2.0 marking definitions.

Ids are deterministic so that exporting twice gives identical bundles and a TAXII client
sees one object with versions, not a new object per export:

* observables: UUIDv5 over their id-contributing properties in the STIX namespace
  (spec 2.1 section 2.9), i.e. the id any other producer computes for the same value;
* indicators and other SDOs: UUIDv4-form ids derived from a hash of their natural key
  (the validator asks for version 4 on SDOs; a random one would break idempotence).

Reading bundles back is in :mod:`fundtrail.intel.stix_import`.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO
from urllib.parse import quote

from fundtrail.intel.records import IndicatorRecord
from fundtrail.model.indicators import Category, IndicatorType
from fundtrail.model.tlp import TLP

if TYPE_CHECKING:
    from fundtrail.intel.formats import ReadResult

__all__ = [
    "STIX_NAMESPACE",
    "TLP2_MARKINGS",
    "indicator_for",
    "indicator_stix_id",
    "observable_for",
    "read_stix",
    "stix_timestamp",
    "to_stix_bundle",
    "to_stix_objects",
    "write_stix",
]

STIX_NAMESPACE = uuid.UUID("00abedb4-aa42-466c-9c01-fed23315a9b7")  # spec 2.1, section 2.9
_OUR_NAMESPACE = uuid.UUID("6f3c2b0e-4f57-4d0c-9a51-8f7c1e2d3b4a")  # fundtrail's own keys
TLP2_EXTENSION = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"
OPENCTI_SCO_EXTENSION = "extension-definition--f93e2c80-4231-4f9a-af8b-95c9bd566a82"

# The OASIS TLP 2.0 marking definitions (cti-stix-common-objects, tlp-2.0), verbatim ids.
TLP2_MARKINGS: dict[TLP, str] = {
    TLP.CLEAR: "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
    TLP.GREEN: "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
    TLP.AMBER: "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
    TLP.AMBER_STRICT: "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
    TLP.RED: "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
}

# fundtrail's producer identity and extension definitions: fixed ids, published once.
IDENTITY_ID = "identity--0b0f8e6e-3c1d-4f5a-8e2b-7d9c4a1f6e30"
EXT_WALLET = "extension-definition--5b1f0c3e-9a7d-4e26-b8f4-2c6d1e0a9f71"
EXT_TX = "extension-definition--a2d4e6f8-1b3c-4d5e-9f70-8a1b2c3d4e5f"
EXT_PHONE = "extension-definition--c7e9a1b3-5d7f-4a1c-8e3f-6b8d0a2c4e61"
EXT_INDICATOR = "extension-definition--e4f6a8c0-2b4d-4f6a-9c8e-0d2f4b6a8c93"
_UUID4 = re.compile(
    r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-4[0-9a-fA-F]{3}-[89abAB][0-9a-fA-F]{3}-[0-9a-fA-F]{12}$"
)
_URI_SAFE = ":/?#[]@!$&'()*+,;=%~"
_EPOCH = "2026-01-01T00:00:00.000Z"
_SCHEMA = "https://github.com/fundtrail/fundtrail/blob/main/docs/stix/"

# indicator type -> (SCO type, extension definition declaring it, or None for spec types)
_SCO: dict[IndicatorType, tuple[str, str | None]] = {
    IndicatorType.CRYPTO_ADDRESS: ("cryptocurrency-wallet", EXT_WALLET),
    IndicatorType.TX: ("cryptocurrency-transaction", EXT_TX),
    IndicatorType.PHONE: ("phone-number", EXT_PHONE),
    IndicatorType.DOMAIN: ("domain-name", None),
    IndicatorType.URL: ("url", None),
    IndicatorType.EMAIL: ("email-addr", None),
}

_EXTENSIONS: dict[str, tuple[str, str, list[str]]] = {
    EXT_WALLET: (
        "Cryptocurrency Wallet",
        "A new SCO for a cryptocurrency address, as OpenCTI names it: 'value' is the "
        "address as written on its chain (EVM lowercase), 'chain' its ticker (BTC, ETH...).",
        ["new-sco"],
    ),
    EXT_TX: (
        "Cryptocurrency Transaction",
        "A new SCO for a transaction hash: 'value' is the hash, 'chain' its ticker.",
        ["new-sco"],
    ),
    EXT_PHONE: (
        "Phone Number",
        "A new SCO for a phone number, as OpenCTI names it: 'value' in E.164 digits.",
        ["new-sco"],
    ),
    EXT_INDICATOR: (
        "fundtrail indicator properties",
        "Adds the alliance's crime category and the chain of a crypto indicator, so a "
        "round trip through STIX keeps what the pattern alone cannot say.",
        ["property-extension"],
    ),
}

_SCHEMA_FILES = {
    EXT_WALLET: "cryptocurrency-wallet.json",
    EXT_TX: "cryptocurrency-transaction.json",
    EXT_PHONE: "phone-number.json",
    EXT_INDICATOR: "indicator-properties.json",
}


def stix_timestamp(when: datetime) -> str:
    """STIX timestamps: UTC, millisecond precision, trailing Z (hot path: no strftime)."""
    w = when.astimezone(UTC) if when.tzinfo is not None else when
    return (
        f"{w.year:04d}-{w.month:02d}-{w.day:02d}T{w.hour:02d}:{w.minute:02d}:"
        f"{w.second:02d}.{w.microsecond // 1000:03d}Z"
    )


def _keyed_v4(*parts: str) -> str:
    """A UUIDv4-form id that is a pure function of ``parts`` (see module docstring)."""
    digest = hashlib.sha256("\x1f".join((str(_OUR_NAMESPACE), *parts)).encode()).digest()
    return str(uuid.UUID(bytes=digest[:16], version=4))


def _sco_type(rec: IndicatorRecord) -> str:
    if rec.type is IndicatorType.IP:
        return "ipv6-addr" if ":" in rec.value else "ipv4-addr"
    return _SCO[rec.type][0]


def observable_for(rec: IndicatorRecord) -> dict[str, Any]:
    """The SCO for one record, its id the UUIDv5 of ``{"value": ...}`` per the spec."""
    sco_type = _sco_type(rec)
    contrib = json.dumps(
        {"value": stix_value(rec)}, sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    obj: dict[str, Any] = {
        "type": sco_type,
        "spec_version": "2.1",
        "id": f"{sco_type}--{uuid.uuid5(STIX_NAMESPACE, contrib)}",
        "value": stix_value(rec),
        "object_marking_refs": [TLP2_MARKINGS[rec.tlp]],
    }
    ext = _SCO.get(rec.type, ("", None))[1]
    if ext is not None:
        if rec.chain and rec.type in (IndicatorType.CRYPTO_ADDRESS, IndicatorType.TX):
            obj["chain"] = rec.chain
        obj["extensions"] = {
            ext: {"extension_type": "new-sco"},
            OPENCTI_SCO_EXTENSION: {
                "extension_type": "property-extension",
                "score": rec.confidence,
            },
        }
    return obj


def _pattern_literal(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def indicator_stix_id(rec: IndicatorRecord) -> str:
    """Stable id of a record's indicator: the store's UUID4 when it has one (so TAXII
    clients can fetch it by id), else one per (owner, type, chain, value)."""
    if rec.id and _UUID4.match(rec.id):
        return f"indicator--{rec.id.lower()}"
    return "indicator--" + _keyed_v4(rec.org or "", rec.type.value, rec.chain or "", rec.value)


@lru_cache(maxsize=4096)
def org_identity_id(org: str | None) -> str:
    """The identity of the organisation that shared a record (the hub's if unknown)."""
    return f"identity--{_keyed_v4('org', org)}" if org else IDENTITY_ID


def indicator_for(rec: IndicatorRecord, now: datetime | None = None) -> dict[str, Any]:
    """The STIX indicator of one record (what a TAXII collection serves)."""
    return _indicator(rec, now or datetime.now(UTC), {"type": _sco_type(rec)})


def _indicator_types(category: Category) -> list[str]:
    if category is Category.MIXER:
        return ["anonymization"]
    if category in (Category.EXCHANGE, Category.SERVICE):
        return ["attribution"]
    if category is Category.OTHER:
        return ["unknown"]
    return ["malicious-activity"]


def _indicator(rec: IndicatorRecord, now: datetime, sco: dict[str, Any]) -> dict[str, Any]:
    created = rec.created or now
    modified = max(rec.modified or created, created)
    valid_from = rec.valid_from or created
    kind = rec.type.value.replace("-", " ")
    obj: dict[str, Any] = {
        "type": "indicator",
        "spec_version": "2.1",
        "id": indicator_stix_id(rec),
        "created_by_ref": org_identity_id(rec.org),
        "created": stix_timestamp(created),
        "modified": stix_timestamp(modified),
        "name": f"{rec.category.value} {kind}{f' on {rec.chain}' if rec.chain else ''}",
        "description": rec.description or f"{rec.category.value} {kind} {rec.value}",
        "indicator_types": _indicator_types(rec.category),
        "pattern": f"[{sco['type']}:value = {_pattern_literal(stix_value(rec))}]",
        "pattern_type": "stix",
        "pattern_version": "2.1",
        "valid_from": stix_timestamp(valid_from),
        "confidence": max(0, min(100, int(rec.confidence))),
        "labels": _labels(rec),
        "object_marking_refs": [TLP2_MARKINGS[rec.tlp]],
        "extensions": {EXT_INDICATOR: _ext_props(rec)},
    }
    if rec.valid_until and rec.valid_until > valid_from:
        obj["valid_until"] = stix_timestamp(rec.valid_until)
    # a URL reference without a content hash is a strict-mode finding: carry it as text
    refs: list[dict[str, str]] = [
        {"source_name": "reference", "description": u} for u in rec.references if u
    ]
    if rec.source:
        refs.insert(0, {"source_name": "fundtrail", "description": f"source: {rec.source}"})
    if refs:
        obj["external_references"] = refs
    return obj


def _ext_props(rec: IndicatorRecord) -> dict[str, Any]:
    props: dict[str, Any] = {"extension_type": "property-extension", "category": rec.category.value}
    if rec.chain:
        props["chain"] = rec.chain
    return props


def _labels(rec: IndicatorRecord) -> list[str]:
    out = [rec.category.value]
    for label in rec.labels:
        if label and label not in out:
            out.append(label)
    return out


def stix_value(rec: IndicatorRecord) -> str:
    """The value as STIX writes it: URLs percent-encode what RFC 3986 forbids."""
    if rec.type is IndicatorType.URL:
        return quote(rec.value, safe=_URI_SAFE)
    return rec.value


def _identity() -> dict[str, Any]:
    return {
        "type": "identity",
        "spec_version": "2.1",
        "id": IDENTITY_ID,
        "created": _EPOCH,
        "modified": _EPOCH,
        "name": "fundtrail",
        "description": "The fundtrail intel hub that produced this bundle.",
        "identity_class": "system",
    }


def org_identity(org: str) -> dict[str, Any]:
    """A member organisation as a STIX identity (the ``created_by_ref`` of what it shares)."""
    return {
        "type": "identity",
        "spec_version": "2.1",
        "id": org_identity_id(org),
        "created": _EPOCH,
        "modified": _EPOCH,
        "name": org,
        "description": f"Alliance member {org}, as known to the fundtrail hub.",
        "identity_class": "organization",
    }


def _extension_definition(ext_id: str) -> dict[str, Any]:
    name, description, kinds = _EXTENSIONS[ext_id]
    return {
        "type": "extension-definition",
        "spec_version": "2.1",
        "id": ext_id,
        "created_by_ref": IDENTITY_ID,
        "created": _EPOCH,
        "modified": _EPOCH,
        "name": name,
        "description": description,
        "schema": _SCHEMA + _SCHEMA_FILES[ext_id],
        "version": "1.0",
        "extension_types": kinds,
    }


def tlp_marking_definition(level: TLP) -> dict[str, Any]:
    """The OASIS TLP 2.0 marking definition object, as published."""
    name = "TLP:" + level.value.upper()
    return {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": TLP2_MARKINGS[level],
        "created": "2022-10-01T00:00:00.000Z",
        "name": name,
        "extensions": {
            TLP2_EXTENSION: {"extension_type": "property-extension", "tlp_2_0": level.value}
        },
    }


def to_stix_objects(
    records: Iterable[IndicatorRecord],
    *,
    now: datetime | None = None,
    observables: bool = True,
) -> list[dict[str, Any]]:
    """Every object a bundle of ``records`` needs, in a stable order.

    ``now`` stands in for missing ``created`` times; pass a fixed one for golden tests.
    Shared objects (identity, extension definitions, markings) come first, once each.
    """
    clock = now or datetime.now(UTC)
    body: list[dict[str, Any]] = []
    levels: set[TLP] = set()
    exts: set[str] = {EXT_INDICATOR}
    seen_sco: set[str] = set()
    orgs: set[str] = set()
    for rec in records:
        sco = observable_for(rec)
        levels.add(rec.tlp)
        if rec.org:
            orgs.add(rec.org)
        if observables and sco["id"] not in seen_sco:
            seen_sco.add(sco["id"])
            body.append(sco)
            exts.update(k for k in sco.get("extensions", {}) if k in _EXTENSIONS)
        body.append(_indicator(rec, clock, sco))
    head: list[dict[str, Any]] = [_identity(), *(org_identity(o) for o in sorted(orgs))]
    head += [_extension_definition(e) for e in sorted(exts)]
    head += [tlp_marking_definition(level) for level in sorted(levels, key=lambda t: t.rank)]
    return head + body


def to_stix_bundle(
    records: Iterable[IndicatorRecord],
    *,
    now: datetime | None = None,
    observables: bool = True,
) -> dict[str, Any]:
    """A STIX 2.1 bundle of ``records``; its id is derived from its content."""
    objects = to_stix_objects(records, now=now, observables=observables)
    key = hashlib.sha256("".join(o["id"] + o.get("modified", "") for o in objects).encode())
    return {
        "type": "bundle",
        "id": "bundle--" + _keyed_v4("bundle", key.hexdigest()),
        "objects": objects,
    }


def write_stix(records: Iterable[IndicatorRecord], out: TextIO) -> int:
    """The ``--format stix`` writer: one bundle, indented; returns the indicator count."""
    bundle = to_stix_bundle(records)
    json.dump(bundle, out, indent=2, ensure_ascii=False)
    out.write("\n")
    return sum(1 for o in bundle["objects"] if o["type"] == "indicator")


def read_stix(path: Path, *, tlp: TLP | None = None) -> ReadResult:
    """The ``--format stix`` reader: a bundle file, or a folder of ``*.json`` bundles.

    ``tlp`` marks every record, but never loosens one: a record marked stricter in the
    bundle keeps its own marking. A bundle that is unsafe to read (malformed, unknown
    TLP-like marking) stops the import before anything is stored.
    """
    from fundtrail.intel.formats import ReadResult, RowProblem
    from fundtrail.intel.stix_import import parse_stix

    result = ReadResult()
    files = sorted(path.glob("*.json")) if path.is_dir() else [path]
    for file in files:
        got = parse_stix(
            file.read_bytes(), default_tlp=tlp or TLP.AMBER, source=f"stix:{file.name}"
        )
        for rec in got.records:
            if tlp is not None and tlp.rank > rec.tlp.rank:
                rec.tlp = tlp
            result.records.append(rec)
        for reason, n in sorted(got.skipped.items()):
            result.problems.append(RowProblem(file.name, None, f"{n} x {reason}"))
        result.problems += [RowProblem(file.name, None, p) for p in got.problems]
    return result
