"""STIX 2.1 bundles to indicator records: indicators, observables and their TLP markings.

What the hub stores is indicators, so an indicator's pattern is read for the values it
names (``[ipv4-addr:value = '...' OR domain-name:value = '...']``); observables of the
types we know become records too. Everything else (malware, campaigns, relationships,
file hashes...) is skipped and counted, never an error: partners send whole reports.

TLP decides who sees a record, so markings are handled without guessing: the OASIS
TLP 2.0 ids, the STIX 2.1 predefined TLP 1.0 ids and OpenCTI's own ids each map to one
level; a marking that looks like TLP but has another id, or a reference to a marking the
bundle does not define, refuses the whole bundle. Malformed objects refuse it too, so
nothing is stored half-way.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from fundtrail.errors import FundtrailError, InvalidInputError
from fundtrail.intel.limits import tick
from fundtrail.intel.records import IndicatorRecord
from fundtrail.intel.stix_markings import marking_table, tlp_of
from fundtrail.model.addresses import parse_address
from fundtrail.model.indicators import Category, IndicatorType
from fundtrail.model.tlp import TLP

__all__ = ["StixImport", "guess_chain", "load_stix_json", "parse_stix", "stix_objects_of"]

# (SCO type, property) -> indicator type
_PATHS: dict[tuple[str, str], IndicatorType] = {
    ("ipv4-addr", "value"): IndicatorType.IP,
    ("ipv6-addr", "value"): IndicatorType.IP,
    ("domain-name", "value"): IndicatorType.DOMAIN,
    ("url", "value"): IndicatorType.URL,
    ("email-addr", "value"): IndicatorType.EMAIL,
    ("cryptocurrency-wallet", "value"): IndicatorType.CRYPTO_ADDRESS,
    ("cryptocurrency-wallet", "address"): IndicatorType.CRYPTO_ADDRESS,
    ("cryptocurrency-transaction", "value"): IndicatorType.TX,
    ("cryptocurrency-transaction", "hash"): IndicatorType.TX,
    ("phone-number", "value"): IndicatorType.PHONE,
    ("phone-number", "number"): IndicatorType.PHONE,
}
_SCO_TYPES = {t for t, _ in _PATHS}
_CONSUMED = {"marking-definition", "identity", "extension-definition", "language-content"}
_STRING = re.compile(r"'(?:[^'\\]|\\.)*'")
_CONJUNCTION = re.compile(r"\b(AND|FOLLOWEDBY)\b")
_CHAIN_GUESS = ("BTC", "ETH", "TRX", "LTC", "BCH", "DASH", "ZEC", "XRP", "XMR")
_MAX_PROBLEMS = 20
_SAFE_URL = re.compile(r"^https?://[^\s<>\"']{1,2000}$", re.IGNORECASE)
_REQUIRED = {"indicator": ("created", "modified", "pattern", "pattern_type", "valid_from")}


@dataclass(slots=True)
class StixImport:
    """What a bundle gave: records to store, what was skipped and why."""

    records: list[IndicatorRecord] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)  # first few refused values, for people
    stix_ids: dict[int, list[str]] = field(default_factory=dict)  # record index -> source ids
    failed: dict[str, str] = field(default_factory=dict)  # object id -> why it gave nothing
    objects: list[tuple[str, str, str | None]] = field(default_factory=list)  # id, type, version

    def skip(self, reason: str, detail: str | None = None, oid: str | None = None) -> None:
        self.skipped[reason] += 1
        if detail and len(self.problems) < _MAX_PROBLEMS:
            self.problems.append(detail)
        if oid is not None:
            self.failed.setdefault(oid, detail or reason)

    def outcomes(self) -> tuple[list[tuple[str, str | None]], list[tuple[str, str | None, str]]]:
        """Per input object: (id, version) that were used, (id, version, why) that were not.

        Supporting objects (markings, identities, extension definitions) count as used.
        """
        used = {oid for ids in self.stix_ids.values() for oid in ids}
        ok: list[tuple[str, str | None]] = []
        bad: list[tuple[str, str | None, str]] = []
        for oid, kind, version in self.objects:
            if oid in used or (kind in _CONSUMED and oid not in self.failed):
                ok.append((oid, version))
            else:
                bad.append((oid, version, self.failed.get(oid, f"{kind} objects are not stored")))
        return ok, bad


def load_stix_json(raw: bytes | str) -> Any:
    """Parse JSON, naming the line and column of a syntax error."""
    try:
        return json.loads(raw)
    except UnicodeDecodeError as exc:
        raise InvalidInputError("STIX content is not UTF-8 text", field="body") from exc
    except json.JSONDecodeError as exc:
        raise InvalidInputError(
            f"STIX content is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}",
            field="body",
        ) from exc


def stix_objects_of(doc: Any) -> list[dict[str, Any]]:
    """The objects of a bundle, a TAXII envelope, a list of objects or a single object."""
    if (isinstance(doc, dict) and doc.get("type") == "bundle") or (
        isinstance(doc, dict) and "objects" in doc and "type" not in doc
    ):
        objs = doc.get("objects", [])
    elif isinstance(doc, dict) and "type" in doc:
        objs = [doc]
    elif isinstance(doc, list):
        objs = doc
    else:
        raise InvalidInputError(
            "STIX content must be a bundle, an envelope or an object with 'type' and 'id'",
            field="body",
        )
    if not isinstance(objs, list):
        raise InvalidInputError("'objects' must be a list of STIX objects", field="objects")
    for i, obj in enumerate(objs):
        if (
            not isinstance(obj, dict)
            or not isinstance(obj.get("type"), str)
            or not isinstance(obj.get("id"), str)
        ):
            raise InvalidInputError(
                f"objects[{i}] is not a STIX object (needs string 'type' and 'id')",
                field=f"objects[{i}]",
            )
        if not obj["id"].startswith(obj["type"] + "--"):
            raise InvalidInputError(
                f"objects[{i}]: id {obj['id'][:80]!r} does not start with its type "
                f"{obj['type'][:40]!r}--",
                field=f"objects[{i}].id",
            )
    return objs


def _check_with_stix2(obj: dict[str, Any], index: int) -> None:
    """Let the stix2 library check required properties, timestamps and the pattern."""
    import stix2
    from stix2.exceptions import STIXError

    missing = [p for p in _REQUIRED.get(obj["type"], ()) if p not in obj]
    if missing:  # the library would fill these in with "now"; a partner must send them
        raise InvalidInputError(
            f"objects[{index}] ({obj['id'][:80]}) lacks required {', '.join(missing)}",
            field=f"objects[{index}].{missing[0]}",
        )
    try:
        stix2.parse(obj, allow_custom=True, version="2.1")
    except (STIXError, ValueError, TypeError, KeyError) as exc:
        msg = str(exc).splitlines()[0][:300] if str(exc) else type(exc).__name__
        raise InvalidInputError(
            f"objects[{index}] ({obj.get('id', '?')[:80]}) is not valid STIX 2.1: {msg}",
            field=f"objects[{index}]",
        ) from exc


def guess_chain(address: str) -> str | None:
    """The chain an address validates on, trying the common ones; None if none fits."""
    for chain in _CHAIN_GUESS:
        try:
            parse_address(address, chain)
        except FundtrailError:
            continue
        return chain
    return None


def _unquote(literal: str) -> str | None:
    if len(literal) < 2 or literal[0] != "'" or literal[-1] != "'":
        return None  # binary / hex / numeric literals are not values we store
    return re.sub(r"\\(.)", r"\1", literal[1:-1])


def pattern_values(pattern: str) -> tuple[list[tuple[str, str, str]], bool]:
    """(SCO type, property, value) for each '=' comparison, and whether it is conjunctive."""
    from stix2patterns.v21.pattern import Pattern

    found: list[tuple[str, str, str]] = []
    inspected = Pattern(pattern).inspect()
    for sco_type, comparisons in inspected.comparisons.items():
        for path, op, literal in comparisons:
            value = _unquote(literal) if op == "=" else None
            if value is not None and len(path) == 1 and isinstance(path[0], str):
                found.append((sco_type, path[0], value))
            else:
                found.append((sco_type, "?", ""))
    conjunctive = bool(_CONJUNCTION.search(_STRING.sub("''", pattern)))
    return found, conjunctive


def _category(obj: dict[str, Any], default: Category) -> Category:
    for ext in (obj.get("extensions") or {}).values():
        if isinstance(ext, dict) and isinstance(ext.get("category"), str):
            try:
                return Category.parse(ext["category"])
            except InvalidInputError:
                pass
    for label in _all_labels(obj):
        try:
            return Category.parse(str(label))
        except InvalidInputError:
            continue
    kinds = set(obj.get("indicator_types") or [])
    if "anonymization" in kinds:
        return Category.MIXER
    if kinds & {"benign", "attribution"} and "malicious-activity" not in kinds:
        return Category.SERVICE
    return default


def _all_labels(obj: dict[str, Any]) -> list[str]:
    """Labels on the object and in property extensions (where OpenCTI puts them on SCOs)."""
    out = [str(x) for x in obj.get("labels") or []]
    for ext in (obj.get("extensions") or {}).values():
        if isinstance(ext, dict) and isinstance(ext.get("labels"), list):
            out += [str(x) for x in ext["labels"]]
    return out


def _score(obj: dict[str, Any]) -> int | None:
    """STIX ``confidence``, else OpenCTI's ``score`` (top level or in its extension)."""
    for src in (obj, *(e for e in (obj.get("extensions") or {}).values() if isinstance(e, dict))):
        for key in ("confidence", "score", "x_opencti_score"):
            if isinstance(src.get(key), int) and not isinstance(src.get(key), bool):
                return max(0, min(100, int(src[key])))
    return None


def _chain_hint(obj: dict[str, Any]) -> str | None:
    for src in (obj, *(e for e in (obj.get("extensions") or {}).values() if isinstance(e, dict))):
        for key in ("chain", "currency", "x_fundtrail_chain"):
            if isinstance(src.get(key), str):
                return str(src[key]).upper()
    return None


def _when(text: Any) -> datetime | None:
    if not isinstance(text, str):
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


@dataclass(slots=True)
class _Reader:
    default_tlp: TLP
    default_category: Category
    source: str
    out: StixImport = field(default_factory=StixImport)
    index: dict[tuple[str, str | None, str], int] = field(default_factory=dict)
    chains: dict[str, str] = field(default_factory=dict)  # wallet value -> chain from SCOs

    def add(
        self, itype: IndicatorType, value: str, obj: dict[str, Any], tlp: TLP, chain: str | None
    ) -> None:
        if itype in (IndicatorType.CRYPTO_ADDRESS, IndicatorType.TX):
            chain = chain or self.chains.get(value) or guess_chain(value)
            if chain is None:
                self.out.skip("value refused", f"{value[:80]!r}: cannot tell its chain", obj["id"])
                return
        try:
            rec = IndicatorRecord.build(
                itype.value, value, self.default_category.value, chain=chain, tlp=tlp.value
            )
        except FundtrailError as exc:
            self.out.skip("value refused", f"{itype.value} {value[:80]!r}: {exc}", obj["id"])
            return
        rec.category = _category(obj, self.default_category)
        key = (rec.type.value, rec.chain, rec.value)
        if key in self.index:  # the same value twice: keep the stricter marking
            known = self.out.records[self.index[key]]
            if rec.tlp.rank > known.tlp.rank:
                known.tlp = rec.tlp
            self.out.stix_ids[self.index[key]].append(obj["id"])
            return
        self._fill(rec, obj)
        self.index[key] = len(self.out.records)
        self.out.stix_ids[len(self.out.records)] = [obj["id"]]
        self.out.records.append(rec)

    def _fill(self, rec: IndicatorRecord, obj: dict[str, Any]) -> None:
        score = _score(obj)
        if score is not None:
            rec.confidence = score
        rec.description = str(obj.get("description") or obj.get("name") or "")[:4000]
        rec.valid_from = _when(obj.get("valid_from"))
        rec.valid_until = _when(obj.get("valid_until"))
        rec.created = _when(obj.get("created"))
        rec.modified = _when(obj.get("modified"))
        rec.labels = [x[:200] for x in _all_labels(obj) if x != rec.category.value][:50]
        rec.source = self.source
        for ref in obj.get("external_references") or []:
            if not isinstance(ref, dict):
                continue
            link = ref.get("url") or ref.get("description")
            if isinstance(link, str) and _SAFE_URL.match(link) and len(rec.references) < 20:
                rec.references.append(link)


def parse_stix(
    data: bytes | str | dict[str, Any] | list[Any],
    *,
    default_tlp: TLP | str = TLP.AMBER,
    default_category: Category | str = Category.OTHER,
    source: str = "stix",
    observables: bool = True,
) -> StixImport:
    """Read a bundle (or envelope, object, list) into records; refuse it whole if unsafe."""
    doc = load_stix_json(data) if isinstance(data, bytes | str) else data
    objs = stix_objects_of(doc)
    markings = marking_table(objs)
    reader = _Reader(TLP.parse(str(default_tlp)), Category.parse(str(default_category)), source)
    reader.out.objects = [
        (o["id"], o["type"], o.get("modified") if isinstance(o.get("modified"), str) else None)
        for o in objs
    ]
    scos = [(i, o) for i, o in enumerate(objs) if o["type"] in _SCO_TYPES]
    for i, obj in scos:
        tick()
        _check_with_stix2(obj, i)
        if obj["type"] == "cryptocurrency-wallet" and _chain_hint(obj):
            value = obj.get("value") or obj.get("address")
            if isinstance(value, str):
                reader.chains[value] = str(_chain_hint(obj))
    for i, obj in enumerate(objs):
        tick()
        if obj["type"] == "indicator":
            _check_with_stix2(obj, i)
            _read_indicator(reader, obj, markings)
        elif obj["type"] not in _SCO_TYPES and obj["type"] not in _CONSUMED:
            reader.out.skip(f"{obj['type'][:40]} (not stored)", None, obj["id"])
    if observables:
        for _, obj in scos:
            _read_observable(reader, obj, markings)
    return reader.out


def _read_indicator(r: _Reader, obj: dict[str, Any], markings: dict[str, TLP | None]) -> None:
    if obj.get("revoked") is True:
        r.out.skip("indicator (revoked)", None, obj["id"])
        return
    if obj.get("pattern_type", "stix") != "stix":
        r.out.skip(f"indicator ({str(obj.get('pattern_type'))[:20]} pattern)", None, obj["id"])
        return
    tlp = tlp_of(obj, markings) or r.default_tlp
    values, conjunctive = pattern_values(str(obj.get("pattern", "")))
    if conjunctive:
        r.out.skip("indicator (AND/FOLLOWEDBY pattern)", None, obj["id"])
        return
    usable = [(t, p, v) for t, p, v in values if (t, p) in _PATHS]
    if not usable:
        r.out.skip(
            "indicator (no address, domain, URL, e-mail, IP or phone in pattern)", None, obj["id"]
        )
        return
    for sco_type, prop, value in usable:
        r.add(_PATHS[(sco_type, prop)], value, obj, tlp, _chain_hint(obj))


def _read_observable(r: _Reader, obj: dict[str, Any], markings: dict[str, TLP | None]) -> None:
    prop = next((p for t, p in _PATHS if t == obj["type"] and isinstance(obj.get(p), str)), None)
    if prop is None:
        r.out.skip(f"{obj['type']} (no value)", None, obj["id"])
        return
    tlp = tlp_of(obj, markings) or r.default_tlp
    r.add(_PATHS[(obj["type"], prop)], obj[prop], obj, tlp, _chain_hint(obj))
