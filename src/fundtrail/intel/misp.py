"""MISP events in and out: crypto addresses, transactions, domains, URLs, e-mails, IPs.

Read: ``btc``/``xmr``/``dash`` attributes, ``coin-address`` and
``cryptocurrency-transaction`` objects (their ``symbol`` names the chain), domain,
hostname, URL, e-mail, IP and phone attributes (also inside other objects); the rest is
skipped and counted. TLP comes from ``tlp:*`` tags on the event and the attribute (the
strictest wins); MISP's distribution levels only ever narrow it: "your organisation
only" (0) is AMBER+STRICT, a sharing group (4) AMBER, and without a TLP tag "this
community" (1) is AMBER and "connected"/"all communities" (2, 3) GREEN. A ``tlp:`` tag
with an unknown level refuses the event rather than guessing.

Write: one event whose attributes carry their own ``tlp:*`` tag and matching
distribution, with crypto addresses as ``coin-address`` objects and transactions as
``cryptocurrency-transaction`` objects, as MISP's own templates define them.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fundtrail.errors import FundtrailError, InvalidInputError
from fundtrail.intel.limits import tick
from fundtrail.intel.misp_export import to_misp_event, write_misp
from fundtrail.intel.records import IndicatorRecord
from fundtrail.intel.stix_import import guess_chain, load_stix_json
from fundtrail.model.assets import is_token_symbol
from fundtrail.model.chains import ALIASES
from fundtrail.model.indicators import Category, IndicatorType
from fundtrail.model.tlp import TLP

if TYPE_CHECKING:
    from fundtrail.intel.formats import ReadResult

__all__ = ["MispImport", "misp_events_of", "parse_misp", "read_misp", "to_misp_event", "write_misp"]

# attribute type -> (indicator type, chain or None)
_ATTR: dict[str, tuple[IndicatorType, str | None]] = {
    "btc": (IndicatorType.CRYPTO_ADDRESS, "BTC"),
    "xmr": (IndicatorType.CRYPTO_ADDRESS, "XMR"),
    "dash": (IndicatorType.CRYPTO_ADDRESS, "DASH"),
    "domain": (IndicatorType.DOMAIN, None),
    "hostname": (IndicatorType.DOMAIN, None),
    "url": (IndicatorType.URL, None),
    "email": (IndicatorType.EMAIL, None),
    "email-src": (IndicatorType.EMAIL, None),
    "email-dst": (IndicatorType.EMAIL, None),
    "email-reply-to": (IndicatorType.EMAIL, None),
    "whois-registrant-email": (IndicatorType.EMAIL, None),
    "ip-src": (IndicatorType.IP, None),
    "ip-dst": (IndicatorType.IP, None),
    "phone-number": (IndicatorType.PHONE, None),
    "whois-registrant-phone": (IndicatorType.PHONE, None),
}
_PAIRS = {
    "domain|ip": (IndicatorType.DOMAIN, IndicatorType.IP),
    "ip-src|port": (IndicatorType.IP, None),
    "ip-dst|port": (IndicatorType.IP, None),
    "hostname|port": (IndicatorType.DOMAIN, None),
}
_DISTRIBUTION_TLP = {
    "0": TLP.AMBER_STRICT,
    "1": TLP.AMBER,
    "2": TLP.GREEN,
    "3": TLP.GREEN,
    "4": TLP.AMBER,
}
_TLP_NOT_A_LEVEL = {"ex:chr", "unclear"}
_CATEGORY_TAG = re.compile(
    r"^(?:fundtrail:category|misp-galaxy:[a-z-]+|[a-z-]+:[a-z-]+)"
    r"(?:=\"?([^\"]+)\"?)?$"
)
_MAX_PROBLEMS = 20


@dataclass(slots=True)
class MispImport:
    records: list[IndicatorRecord] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)
    events: int = 0

    def skip(self, reason: str, detail: str | None = None) -> None:
        self.skipped[reason] += 1
        if detail and len(self.problems) < _MAX_PROBLEMS:
            self.problems.append(detail)


def misp_events_of(doc: Any) -> list[dict[str, Any]]:
    """Events of ``{"Event": ...}``, a list of them, a REST ``{"response": [...]}``."""
    if isinstance(doc, dict) and isinstance(doc.get("response"), list):
        doc = doc["response"]
    items = doc if isinstance(doc, list) else [doc]
    events: list[dict[str, Any]] = []
    for i, item in enumerate(items):
        event = item.get("Event", item) if isinstance(item, dict) else None
        if not isinstance(event, dict) or not (
            "Attribute" in event or "Object" in event or "info" in event
        ):
            raise InvalidInputError(
                f'item {i} is not a MISP event (expected {{"Event": {{...}}}})', field="Event"
            )
        for key in ("Attribute", "Object", "Tag"):
            if key in event and not isinstance(event[key], list):
                raise InvalidInputError(f"event {i}: {key} must be a list", field=key)
        events.append(event)
    return events


def _tag_names(obj: dict[str, Any]) -> list[str]:
    tags = obj.get("Tag") or []
    if not isinstance(tags, list):
        raise InvalidInputError("Tag must be a list", field="Tag")
    return [str(t.get("name", "")) if isinstance(t, dict) else str(t) for t in tags]


def tlp_from_tags(names: Iterable[str]) -> TLP | None:
    """The strictest ``tlp:*`` tag; an unknown level is refused, not guessed."""
    levels: list[TLP] = []
    for name in names:
        low = name.strip().lower()
        if not low.startswith("tlp:") or low[4:] in _TLP_NOT_A_LEVEL:
            continue
        try:
            levels.append(TLP.parse(low))
        except InvalidInputError:
            raise InvalidInputError(
                f"unknown TLP tag {name[:40]!r}; refusing rather than guessing who may see it",
                field="Tag",
            ) from None
    return max(levels, key=lambda t: t.rank) if levels else None


def _level(tag_levels: list[TLP | None], distributions: list[Any]) -> TLP | None:
    """Tags decide (strictest wins); else the most specific distribution; narrow
    distributions (0: own org, 4: sharing group) always narrow."""
    tags = [t for t in tag_levels if t is not None]
    dists = [str(d) for d in distributions if str(d) in _DISTRIBUTION_TLP]
    if tags:
        level = max(tags, key=lambda t: t.rank)
    elif dists:
        level = _DISTRIBUTION_TLP[dists[0]]
    else:
        return None
    narrow = [_DISTRIBUTION_TLP[d] for d in dists if d in ("0", "4")]
    return max([level, *narrow], key=lambda t: t.rank)


@dataclass(frozen=True, slots=True)
class _EventScope:
    tag: TLP | None
    distribution: Any
    tags: list[str]


def _category(tags: list[str], default: Category) -> Category:
    for name in tags:
        m = _CATEGORY_TAG.match(name.strip().lower())
        if not m or name.lower().startswith("tlp:"):
            continue
        for cand in (m.group(1), name.split(":", 1)[-1].split("=", 1)[0]):
            if cand:
                try:
                    return Category.parse(cand.strip().strip('"'))
                except InvalidInputError:
                    continue
    return default


def _chain_of(symbol: str | None) -> str | None:
    if not symbol:
        return None
    key = symbol.strip().upper()
    if is_token_symbol(key):
        return None  # a token lives on several chains: the address's shape decides
    return ALIASES.get(key, key)


@dataclass(slots=True)
class _Reader:
    default_tlp: TLP
    default_category: Category
    source: str
    out: MispImport = field(default_factory=MispImport)
    seen: dict[tuple[str, str | None, str], int] = field(default_factory=dict)

    def add(
        self,
        kind: IndicatorType,
        value: str,
        chain: str | None,
        tlp: TLP,
        category: Category,
        attr: dict[str, Any],
        event: dict[str, Any],
    ) -> None:
        if kind in (IndicatorType.CRYPTO_ADDRESS, IndicatorType.TX) and kind is not None:
            chain = self._chain(kind, value, chain)
        try:
            rec = IndicatorRecord.build(
                kind.value, value, category.value, chain=chain, tlp=tlp.value, source=self.source
            )
        except FundtrailError as exc:
            self.out.skip("value refused", f"{kind.value} {str(value)[:80]!r}: {exc}")
            return
        key = (rec.type.value, rec.chain, rec.value)
        if key in self.seen:
            known = self.out.records[self.seen[key]]
            known.tlp = max(known.tlp, rec.tlp, key=lambda t: t.rank)
            return
        rec.description = str(attr.get("comment") or event.get("info") or "")[:4000]
        self.seen[key] = len(self.out.records)
        self.out.records.append(rec)

    @staticmethod
    def _chain(kind: IndicatorType, value: str, chain: str | None) -> str | None:
        if kind is IndicatorType.TX:
            return chain or ("ETH" if value.lower().startswith("0x") else "BTC")
        if chain:
            from fundtrail.model.addresses import parse_address

            try:
                parse_address(value, chain)
                return chain
            except FundtrailError:
                pass  # 'btc' is used for every coin in the wild: try the others
        return guess_chain(value) or chain


def _read_attribute(
    r: _Reader,
    attr: dict[str, Any],
    event: dict[str, Any],
    scope: _EventScope,
    chain: str | None = None,
) -> None:
    if not isinstance(attr, dict) or attr.get("deleted") in (True, "1", 1):
        r.out.skip("attribute (deleted)")
        return
    kind_name, value = str(attr.get("type", "")), attr.get("value")
    if not isinstance(value, str):
        r.out.skip("attribute (no value)")
        return
    tags = _tag_names(attr)
    tlp = _attr_level(tags, attr, scope) or r.default_tlp
    category = _category(tags + scope.tags, r.default_category)
    if kind_name in _ATTR:
        kind, attr_chain = _ATTR[kind_name]
        r.add(kind, value, chain or attr_chain, tlp, category, attr, event)
    elif kind_name in _PAIRS:
        for part, kind2 in zip(value.split("|", 1), _PAIRS[kind_name], strict=False):
            if kind2 is not None:
                r.add(kind2, part, None, tlp, category, attr, event)
    else:
        r.out.skip(f"attribute {kind_name[:40]} (not stored)")


def _attr_level(tags: list[str], attr: dict[str, Any], scope: _EventScope) -> TLP | None:
    return _level([tlp_from_tags(tags), scope.tag], [attr.get("distribution"), scope.distribution])


def _read_object(
    r: _Reader, obj: dict[str, Any], event: dict[str, Any], scope: _EventScope
) -> None:
    if not isinstance(obj, dict) or obj.get("deleted") in (True, "1", 1):
        return
    attrs = [a for a in obj.get("Attribute") or [] if isinstance(a, dict)]
    rel = {str(a.get("object_relation")): a for a in attrs}
    chain = _chain_of(str(rel["symbol"]["value"])) if "symbol" in rel else None
    name = obj.get("name")
    for a in attrs:
        relation = str(a.get("object_relation"))
        if name == "coin-address" and relation in ("address", "address-xmr", "address-crypto"):
            kind_chain = "XMR" if relation == "address-xmr" else chain
            a = {**a, "type": "btc"}
            _read_attribute(r, a, event, scope, kind_chain)
        elif name == "cryptocurrency-transaction" and relation == "transaction-number":
            tags = _tag_names(a)
            tlp = _attr_level(tags, a, scope) or r.default_tlp
            r.add(
                IndicatorType.TX,
                str(a.get("value", "")),
                chain,
                tlp,
                _category(tags + scope.tags, r.default_category),
                a,
                event,
            )
        elif name == "cryptocurrency-transaction" and relation == "address":
            _read_attribute(r, a, event, scope, chain)
        elif str(a.get("type")) in _ATTR or str(a.get("type")) in _PAIRS:
            _read_attribute(r, a, event, scope)


def parse_misp(
    data: bytes | str | dict[str, Any] | list[Any],
    *,
    default_tlp: TLP | str = TLP.AMBER,
    default_category: Category | str = Category.OTHER,
    source: str = "misp",
) -> MispImport:
    """Read MISP events into records; refuse the whole input if it is unsafe to read."""
    doc = load_stix_json(data) if isinstance(data, bytes | str) else data
    reader = _Reader(TLP.parse(str(default_tlp)), Category.parse(str(default_category)), source)
    for event in misp_events_of(doc):
        reader.out.events += 1
        etags = _tag_names(event)
        scope = _EventScope(tlp_from_tags(etags), event.get("distribution"), etags)
        for attr in event.get("Attribute") or []:
            tick()
            _read_attribute(reader, attr, event, scope)
        for obj in event.get("Object") or []:
            tick()
            _read_object(reader, obj, event, scope)
    return reader.out


def read_misp(path: Path, *, tlp: TLP | None = None) -> ReadResult:
    """The ``--format misp`` reader: an event file, or a feed folder (manifest.json)."""
    from fundtrail.intel.formats import ReadResult, RowProblem
    from fundtrail.intel.misp_feed import feed_event_files

    result = ReadResult()
    files = feed_event_files(path) if path.is_dir() else [path]
    for file in files:
        got = parse_misp(
            file.read_bytes(), default_tlp=tlp or TLP.AMBER, source=f"misp:{file.name}"
        )
        for rec in got.records:
            if tlp is not None and tlp.rank > rec.tlp.rank:
                rec.tlp = tlp
            result.records.append(rec)
        result.problems += [
            RowProblem(file.name, None, f"{n} x {why}") for why, n in sorted(got.skipped.items())
        ]
        result.problems += [RowProblem(file.name, None, p) for p in got.problems]
    return result
