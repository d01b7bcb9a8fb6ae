"""Complaint intake: rows from a CSV file or an API body into validated complaints.

One complaint is one payment a victim says they made: chain, txid and output index
(Bitcoin) or log index (EVM token transfer; empty for a native transfer), the
destination address and the amount in base units; optionally what the victim reports
about the perpetrator (``perpetrator_email``, ``_site``, ``_phone``, ``_handle``:
:mod:`fundtrail.cases.contacts`). Every field is checked here
(addresses with their checksums, amounts as exact integers); whether the chain
agrees is checked by :mod:`fundtrail.cases.verify`. A bad row is reported by its
line and field, and the good rows go on.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from fundtrail.cases.contacts import COLUMN_OF, Contact, parse_contacts
from fundtrail.chains.ledger import ledger_for
from fundtrail.errors import InvalidInputError
from fundtrail.model.addresses import parse_address
from fundtrail.model.amounts import parse_amount
from fundtrail.model.chains import get_chain
from fundtrail.model.txids import parse_txid

COLUMNS = (
    "complaint_id",
    "victim",
    "contact",
    "reported_at",
    "chain",
    "txid",
    "vout",
    "to_address",
    "amount",
    "asset",
    "description",
    *COLUMN_OF.values(),
)
REQUIRED = ("victim", "chain", "txid", "to_address", "amount")
MAX_TEXT = 2000


@dataclass(slots=True)
class ComplaintInput:
    """A complaint whose fields are valid on their own (not yet checked against the chain)."""

    victim: str
    chain: str
    txid: str
    vout: int | None
    to_address: str
    amount: int
    asset: str
    complaint_id: str | None = None
    contact: str | None = None
    reported_at: datetime | None = None
    description: str | None = None
    # what the victim reports about the perpetrator (e-mail, site, phone, handle)
    perpetrator: list[Contact] = field(default_factory=list)
    line: int | None = None  # CSV line (1 = header) or position in a bulk body

    @property
    def payment_key(self) -> tuple[str, str, int]:
        """What makes two complaints the same payment (de-duplication)."""
        return (self.chain, self.txid, -1 if self.vout is None else self.vout)


@dataclass(slots=True)
class RowError:
    line: int | None
    field: str | None
    message: str

    def to_dict(self) -> dict[str, Any]:
        return {"line": self.line, "field": self.field, "message": self.message}

    def __str__(self) -> str:
        where = f"line {self.line}" if self.line is not None else "complaint"
        return f"{where}: {self.field + ': ' if self.field else ''}{self.message}"


def parse_mapping(text: str | None) -> dict[str, str]:
    """``--map their=ours,...`` into {their column: our column}; unknown targets refused."""
    mapping: dict[str, str] = {}
    for part in (text or "").split(","):
        if not part.strip():
            continue
        if "=" not in part:
            raise InvalidInputError(f"--map entry {part!r} is not COLUMN=FIELD", field="map")
        theirs, ours = (s.strip() for s in part.split("=", 1))
        if ours not in COLUMNS:
            raise InvalidInputError(
                f"--map target {ours!r} is not a complaint field; known: {', '.join(COLUMNS)}",
                field="map",
            )
        mapping[theirs] = ours
    return mapping


def _text(raw: Mapping[str, Any], name: str, limit: int = 200) -> str | None:
    value = raw.get(name)
    if value is None:
        return None
    s = str(value).strip()
    if len(s) > limit:
        raise InvalidInputError(f"{name} is longer than {limit} characters", field=name)
    return s or None


def _parse_time(text: str) -> datetime:
    s = text.strip()
    try:
        if s.isdigit():
            return datetime.fromtimestamp(int(s), UTC)
        if len(s) == 10:
            d = date.fromisoformat(s)
            return datetime(d.year, d.month, d.day, tzinfo=UTC)
        t = datetime.fromisoformat(s.replace("Z", "+00:00"))
    except (ValueError, OverflowError):
        raise InvalidInputError(
            f"reported_at {text!r} is not a date (use ISO 8601, e.g. 2024-05-01T10:00:00Z)",
            field="reported_at",
        ) from None
    return t if t.tzinfo else t.replace(tzinfo=UTC)


def parse_complaint(raw: Mapping[str, Any], line: int | None = None) -> ComplaintInput:
    """Validate one complaint's fields; raises InvalidInputError naming the first bad field."""
    for name in REQUIRED:
        if _text(raw, name, MAX_TEXT) is None:
            raise InvalidInputError(f"{name} is missing", field=name)
    c = get_chain(str(raw["chain"]))
    chain = c.code
    txid = parse_txid(str(raw["txid"]), chain, field="txid")
    vout_text = _text(raw, "vout")
    if vout_text is None:
        if c.has_ledger and ledger_for(c).shape == "utxo":
            raise InvalidInputError("vout (the output index) is missing", field="vout")
        vout = None
    else:
        vout = parse_amount(vout_text, field="vout")
    address = parse_address(str(raw["to_address"]), chain)
    amount = parse_amount(str(raw["amount"]).strip(), field="amount")
    if amount == 0:
        raise InvalidInputError("amount must be more than zero", field="amount")
    asset = (_text(raw, "asset", 42) or get_chain(chain).native_asset).upper()
    reported = _text(raw, "reported_at", 64)
    return ComplaintInput(
        victim=_text(raw, "victim") or "",
        chain=chain,
        txid=txid,
        vout=vout,
        to_address=address.value,
        amount=amount,
        asset=asset,
        complaint_id=_text(raw, "complaint_id", 100),
        contact=_text(raw, "contact"),
        reported_at=_parse_time(reported) if reported else None,
        description=_text(raw, "description", MAX_TEXT),
        perpetrator=parse_contacts(raw),
        line=line,
    )


def parse_rows(
    rows: Iterable[Mapping[str, Any]], first_line: int = 2
) -> tuple[list[ComplaintInput], list[RowError]]:
    """Parse many rows; bad ones become RowErrors with their line, the rest go on."""
    good: list[ComplaintInput] = []
    errors: list[RowError] = []
    for line, raw in enumerate(rows, start=first_line):
        try:
            good.append(parse_complaint(raw, line))
        except InvalidInputError as exc:
            errors.append(RowError(line, exc.field, exc.message))
    return good, errors


def read_csv(
    path: Path, mapping: Mapping[str, str] | None = None
) -> tuple[list[ComplaintInput], list[RowError]]:
    """Read a complaints CSV (simulator columns, or others renamed by ``mapping``)."""
    mapping = dict(mapping or {})
    if not path.is_file():
        raise InvalidInputError(f"cannot read {path}: no such file", field="file")
    from fundtrail.intel.limits import check_size, time_limit

    check_size(path)
    with open(path, newline="", encoding="utf-8-sig") as fh, time_limit():
        reader = csv.DictReader(fh)
        try:
            return _read(path, reader, mapping)
        except (csv.Error, UnicodeDecodeError) as exc:
            raise InvalidInputError(
                f"{path}: line {reader.line_num or 1}: not a UTF-8 CSV file: {exc}", field="file"
            ) from exc


def _timed(reader: csv.DictReader[str]) -> Iterator[dict[str, str]]:
    """The rows, each one checked against the import's time limit."""
    from fundtrail.intel.limits import tick

    for row in reader:
        tick()
        yield row


def _read(
    path: Path, reader: csv.DictReader[str], mapping: dict[str, str]
) -> tuple[list[ComplaintInput], list[RowError]]:
    header = reader.fieldnames or []
    missing_src = [c for c in mapping if c not in header]
    if missing_src:
        raise InvalidInputError(
            f"{path}: --map names column(s) {', '.join(missing_src)} that the header lacks",
            field="map",
        )
    present = {mapping.get(c, c) for c in header}
    absent = [c for c in REQUIRED if c not in present]
    if absent:
        raise InvalidInputError(
            f"{path}: header lacks column(s) {', '.join(absent)}; rename with --map THEIRS=OURS",
            field="file",
        )
    rows = ({mapping.get(k, k): v for k, v in r.items() if k is not None} for r in _timed(reader))
    return _parse_file_rows(reader, rows)


def _parse_file_rows(
    reader: Any, rows: Iterable[dict[str, Any]]
) -> tuple[list[ComplaintInput], list[RowError]]:
    # reader.line_num is the physical line of the row just read (quoted newlines included)
    good: list[ComplaintInput] = []
    errors: list[RowError] = []
    for raw in rows:
        line = int(reader.line_num)
        try:
            good.append(parse_complaint(raw, line))
        except InvalidInputError as exc:
            errors.append(RowError(line, exc.field, exc.message))
    return good, errors


def dedupe(items: list[ComplaintInput]) -> tuple[list[ComplaintInput], list[RowError]]:
    """Keep the first complaint per payment; later copies are reported, not stored twice."""
    seen: dict[tuple[str, str, int], ComplaintInput] = {}
    kept: list[ComplaintInput] = []
    errors: list[RowError] = []
    for item in items:
        first = seen.get(item.payment_key)
        if first is not None:
            errors.append(
                RowError(item.line, "txid", f"duplicate of the payment on line {first.line}")
            )
            continue
        seen[item.payment_key] = item
        kept.append(item)
    return kept, errors


__all__ = [
    "COLUMNS",
    "ComplaintInput",
    "RowError",
    "dedupe",
    "parse_complaint",
    "parse_mapping",
    "parse_rows",
    "read_csv",
]
