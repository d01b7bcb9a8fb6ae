"""CSV and JSON in and out: the simplest way to hand intel to the hub.

CSV columns are exactly ``type,value,chain,category,confidence,tlp,description``.
A bad row is reported with its file and line and skipped; good rows are kept.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any, TextIO

from fundtrail.errors import InvalidInputError, UserError
from fundtrail.intel.formats import ReadResult, RowProblem
from fundtrail.intel.limits import tick
from fundtrail.intel.records import IndicatorRecord
from fundtrail.model.tlp import TLP, stricter

COLUMNS = ("type", "value", "chain", "category", "confidence", "tlp", "description")


def _marking(own: Any, default: TLP | None) -> TLP:
    """The record's own TLP, raised to ``default`` (``--tlp``) but never lowered by it."""
    text = str(own or "").strip()
    if not text:
        return default or TLP.AMBER
    marked = TLP.parse(text)
    return stricter(marked, default) if default else marked


def record_from_fields(row: dict[str, Any], tlp: TLP | None, source: str) -> IndicatorRecord:
    """One validated record from loosely typed fields (a CSV row or a JSON object)."""
    for name in ("type", "value", "category"):
        if not str(row.get(name) or "").strip():
            raise InvalidInputError(f"{name} is missing", field=name)
    conf_text = str(row.get("confidence") if row.get("confidence") is not None else "").strip()
    try:
        confidence = int(conf_text) if conf_text else 50
    except ValueError:
        raise InvalidInputError(
            f"confidence {conf_text!r} is not a whole number", field="confidence"
        ) from None
    if not 0 <= confidence <= 100:
        raise InvalidInputError(f"confidence {confidence} is outside 0-100", field="confidence")
    try:
        return IndicatorRecord.build(
            str(row["type"]).strip(),
            str(row["value"]),
            str(row["category"]),
            chain=str(row.get("chain") or "").strip() or None,
            tlp=_marking(row.get("tlp"), tlp).value,
            confidence=confidence,
            description=str(row.get("description") or ""),
            references=[str(r) for r in row.get("references") or []],
            labels=[str(r) for r in row.get("labels") or []],
            source=source,
        )
    except ValueError as exc:  # an unknown indicator type
        raise InvalidInputError(
            f"unknown indicator type {row.get('type')!r}", field="type"
        ) from exc


def read_csv(path: Path, *, tlp: TLP | None = None) -> ReadResult:
    result = ReadResult()
    name = path.name
    with path.open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        header = tuple(h.strip().lower() for h in (reader.fieldnames or ()))
        if header != COLUMNS:
            raise InvalidInputError(
                f"{name}:1: CSV header must be exactly {','.join(COLUMNS)} "
                f"(found {','.join(header) or 'nothing'})",
                field="file",
            )
        reader.fieldnames = list(COLUMNS)
        for row in reader:
            tick()
            line = reader.line_num
            if None in row:
                result.problems.append(RowProblem(name, line, "more fields than columns"))
                continue
            try:
                result.records.append(record_from_fields(row, tlp, f"csv:{name}"))
            except UserError as exc:
                result.problems.append(RowProblem(name, line, exc.message))
    return result


def write_csv(records: Iterable[IndicatorRecord], out: TextIO) -> int:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    n = 0
    for r in records:
        writer.writerow(
            [
                r.type.value,
                r.value,
                r.chain or "",
                r.category.value,
                r.confidence,
                r.tlp.value,
                _safe_cell(r.description),
            ]
        )
        n += 1
    return n


def _safe_cell(text: str) -> str:
    """Defuse spreadsheet formula injection in free text (=, +, -, @ at the start)."""
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


def record_to_json(r: IndicatorRecord) -> dict[str, Any]:
    return {
        "id": r.id,
        "type": r.type.value,
        "value": r.value,
        "chain": r.chain,
        "category": r.category.value,
        "confidence": r.confidence,
        "tlp": r.tlp.value,
        "org": r.org,
        "share_with": r.share_with,
        "description": r.description,
        "references": r.references,
        "labels": r.labels,
        "source": r.source,
        "valid_from": r.valid_from.isoformat() if r.valid_from else None,
        "valid_until": r.valid_until.isoformat() if r.valid_until else None,
        "created": r.created.isoformat() if r.created else None,
        "modified": r.modified.isoformat() if r.modified else None,
    }


def read_json(path: Path, *, tlp: TLP | None = None) -> ReadResult:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InvalidInputError(f"{path.name}: not valid JSON: {exc}", field="file") from exc
    items = data.get("items") if isinstance(data, dict) else data
    if not isinstance(items, list):
        raise InvalidInputError(f"{path.name}: expected a JSON list of indicators", field="file")
    result = ReadResult()
    for i, item in enumerate(items, start=1):
        tick()
        try:
            if not isinstance(item, dict):
                raise InvalidInputError("not a JSON object")
            result.records.append(record_from_fields(item, tlp, f"json:{path.name}"))
        except UserError as exc:
            result.problems.append(RowProblem(path.name, i, f"item {i}: {exc.message}"))
    return result


def write_json(records: Iterable[IndicatorRecord], out: TextIO) -> int:
    items = [record_to_json(r) for r in records]
    json.dump(items, out, indent=2)
    out.write("\n")
    return len(items)
