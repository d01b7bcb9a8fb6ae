"""GraphSense TagPacks in and out of the intel hub.

In: the TagPack reader (:mod:`fundtrail.intel.tagpack`) turns packs into address tags;
here each tag becomes a crypto-address indicator (the abuse, when given, is the
category: a ransomware tag on a "user" entity is ransomware), its label and actor
become labels, its source a reference when it is a URL. TagPacks carry no TLP, so the
importer chooses one (``--tlp``; GREEN by default: the public packs are public data).

Out: indicators that are crypto addresses, as one TagPack whose tags carry
``currency``, ``label``, ``category``/``abuse`` in GraphSense's vocabulary and a
confidence level name of GraphSense's scheme (the highest level not above the
indicator's confidence). The TLP goes into each tag's ``context`` (JSON), since a
TagPack has no marking of its own: whoever publishes the file must respect it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

import yaml

from fundtrail.errors import FundtrailError
from fundtrail.intel.records import IndicatorRecord
from fundtrail.model.indicators import Category, IndicatorType
from fundtrail.model.tlp import TLP

if TYPE_CHECKING:
    from fundtrail.chainstore.tags import Tag
    from fundtrail.intel.formats import ReadResult

__all__ = ["read_tagpack", "record_from_tag", "tagpack_document", "write_tagpack"]

DEFAULT_TLP = TLP.GREEN

# fundtrail category -> ("category" | "abuse", GraphSense term); the reader maps them back
_TO_GRAPHSENSE: dict[Category, tuple[str, str]] = {
    Category.EXCHANGE: ("category", "exchange"),
    Category.MIXER: ("category", "mixing_service"),
    Category.DARKNET_MARKET: ("category", "market"),
    Category.GAMBLING: ("category", "gambling"),
    Category.SERVICE: ("category", "wallet_service"),
    Category.OTHER: ("category", "user"),
    Category.RANSOMWARE: ("abuse", "ransomware"),
    Category.SEXTORTION: ("abuse", "sextortion"),
    Category.PHISHING: ("abuse", "phishing"),
    Category.SCAM: ("abuse", "scam"),
    Category.INVESTMENT_SCAM: ("abuse", "ponzi_scheme"),
    Category.THEFT: ("abuse", "service_hack"),
    Category.SANCTIONS: ("abuse", "sanction"),
    Category.TERRORISM_FINANCING: ("abuse", "terrorism"),
    Category.CSAM: ("abuse", "csam"),
}
# GraphSense confidence scheme (level names the TagPack tool validates), highest first
_LEVELS = [
    ("ownership", 100),
    ("manual_transaction", 90),
    ("forensic_investigation", 70),
    ("authority_data", 60),
    ("service_data", 50),
    ("untrusted_transaction", 40),
    ("web_crawl", 20),
    ("heuristic", 10),
    ("unknown", 5),
]


def record_from_tag(tag: Tag, tlp: TLP = DEFAULT_TLP) -> IndicatorRecord:
    """One indicator from one TagPack tag (raises InvalidInputError if unsupported)."""
    category = tag.abuse or tag.category
    labels = [x for x in (tag.label, tag.actor) if x]
    refs = [tag.source] if tag.source.startswith(("http://", "https://")) else []
    rec = IndicatorRecord.build(
        "crypto-address",
        tag.address,
        category,
        chain=tag.chain,
        tlp=tlp.value,
        confidence=max(0, min(100, int(tag.confidence))),
        labels=labels[:10],
        description=tag.label[:4000],
        references=refs,
        source=f"tagpack:{tag.tagpack}"[:500],
    )
    return rec


def read_tagpack(path: Path, *, tlp: TLP | None = None) -> ReadResult:
    """The ``--format tagpack`` reader: a pack file or a folder of packs."""
    from fundtrail.intel.formats import ReadResult, RowProblem
    from fundtrail.intel.tagpack import Problem, load_scheme, tagpack_files
    from fundtrail.intel.tagpack import read_tagpack as read_tags

    result = ReadResult()
    problems: list[Problem] = []
    from fundtrail.intel.limits import Deadline

    scheme = load_scheme(path)
    deadline = Deadline()
    for file in tagpack_files(path):
        for tag in read_tags(file, problems, scheme):
            deadline.check()
            try:
                result.records.append(record_from_tag(tag, tlp or DEFAULT_TLP))
            except FundtrailError as exc:
                result.problems.append(RowProblem(file.name, None, f"{tag.address}: {exc}"))
    result.problems += [RowProblem(Path(p.file).name, p.line, p.message) for p in problems]
    return result


def _level_name(confidence: int) -> str:
    return next((name for name, value in _LEVELS if value <= confidence), "unknown")


def _tag(rec: IndicatorRecord) -> dict[str, Any]:
    kind, term = _TO_GRAPHSENSE.get(rec.category, ("abuse", rec.category.value.replace("-", "_")))
    tag: dict[str, Any] = {
        "address": rec.value,
        "currency": rec.chain,
        "label": (rec.labels[0] if rec.labels else rec.description or rec.category.value)[:200],
        "source": rec.references[0] if rec.references else f"fundtrail:{rec.org or 'hub'}",
        kind: term,
        "confidence": _level_name(rec.confidence),
        "context": json.dumps(
            {"tlp": rec.tlp.value, "category": rec.category.value}, sort_keys=True
        ),
    }
    if rec.modified:
        tag["lastmod"] = rec.modified.date().isoformat()
    return tag


def tagpack_document(
    records: Iterable[IndicatorRecord],
    *,
    now: datetime | None = None,
    title: str = "fundtrail export",
) -> tuple[dict[str, Any], int]:
    """(TagPack mapping, number of records left out because they are not addresses)."""
    clock = now or datetime.now(UTC)
    tags, left_out = [], 0
    for rec in records:
        if rec.type is IndicatorType.CRYPTO_ADDRESS and rec.chain:
            tags.append(_tag(rec))
        else:
            left_out += 1
    doc = {
        "title": title,
        "creator": "fundtrail",
        "description": "Crypto addresses exported from a fundtrail intel hub; each tag's "
        "context names its TLP level, which whoever publishes this file must respect.",
        "lastmod": clock.date().isoformat(),
        "is_public": False,
        "tags": tags,
    }
    return doc, left_out


def write_tagpack(records: Iterable[IndicatorRecord], out: TextIO) -> int:
    """The ``--format tagpack`` writer: one pack of the crypto addresses; returns their count."""
    doc, _ = tagpack_document(records)
    yaml.safe_dump(doc, out, sort_keys=False, allow_unicode=True, width=100)
    return len(doc["tags"])
