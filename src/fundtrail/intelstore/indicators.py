"""Indicator rows <-> :class:`IndicatorRecord`, and the queries over them.

Every read here takes the viewer's org id and applies ``visible_to``; callers
(the indicator service) add roles, audit and TLP rules for writes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from fundtrail.errors import NotFoundError
from fundtrail.intel.records import IndicatorRecord
from fundtrail.intelstore.base import utcnow
from fundtrail.intelstore.models import Indicator, IndicatorShare, Org
from fundtrail.intelstore.visibility import visible_to
from fundtrail.model.indicators import Category, IndicatorType
from fundtrail.model.tlp import TLP


def value_sha256(value: str) -> str:
    """SHA-256 (hex) of a normalised indicator value: the lookup and uniqueness key."""
    return hashlib.sha256(value.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class IndicatorQuery:
    """Filters of a search; all optional, combined with AND."""

    q: str | None = None  # substring of value or description
    value: str | None = None  # exact value (as normalised)
    type: str | None = None
    chain: str | None = None
    category: str | None = None
    tlp: str | None = None
    org: str | None = None  # owning org name
    modified_after: datetime | None = None

    def fingerprint(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}


def to_record(row: Indicator, viewer_org_id: str | None) -> IndicatorRecord:
    """The neutral record of a row; the sharing list only for the owner's eyes."""
    owner = viewer_org_id is None or viewer_org_id == row.org_id
    return IndicatorRecord(
        type=IndicatorType(row.type),
        value=row.value,
        category=Category(row.category),
        tlp=TLP(row.tlp),
        chain=row.chain or None,
        confidence=row.confidence,
        description=row.description,
        references=list(row.references or []),
        share_with=sorted(sh.org.name for sh in row.shares) if owner else [],
        valid_from=row.valid_from,
        valid_until=row.valid_until,
        labels=list(row.labels or []),
        source=row.source,
        org=row.org.name,
        id=row.id,
        created=row.created,
        modified=row.modified,
    )


def _filtered(org_id: str, query: IndicatorQuery, page_walk: bool = False) -> sa.Select[Any]:
    """The visible rows matching ``query``.

    ``page_walk`` (SQLite pages): ``coalesce(visible, false) = true`` is the same filter
    (NULL is 'not visible' either way) but hides its OR from SQLite's planner, which
    otherwise answers it with a MULTI-INDEX OR over every visible row plus a temp B-tree
    sort, instead of walking (created, id) in page order and stopping at the page's end
    (a selective index such as value_sha256 still wins). Not on PostgreSQL: there the
    OR's estimate helps it, and the opaque form made it hash every share row.
    """
    visible = visible_to(org_id)
    if page_walk:
        visible = sa.func.coalesce(visible, sa.false()) == sa.true()
    stmt = sa.select(Indicator).where(visible)
    if query.q:
        pattern = "%" + query.q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        stmt = stmt.where(
            sa.or_(
                Indicator.value.ilike(pattern, escape="\\"),
                Indicator.description.ilike(pattern, escape="\\"),
            )
        )
    if query.value:
        v = query.value.strip()
        stmt = stmt.where(Indicator.value_sha256.in_({value_sha256(v), value_sha256(v.lower())}))
    for col, want in (
        (Indicator.type, query.type),
        (Indicator.category, query.category),
        (Indicator.tlp, query.tlp),
    ):
        if want:
            stmt = stmt.where(col == want)
    if query.chain:
        stmt = stmt.where(Indicator.chain == query.chain.upper())
    if query.org:
        stmt = stmt.where(Indicator.org.has(Org.name == query.org))
    if query.modified_after:
        stmt = stmt.where(Indicator.modified > query.modified_after)
    return stmt


_GET = sa.select(Indicator).where(
    Indicator.id == sa.bindparam("iid"), visible_to(sa.bindparam("viewer"))
)  # built once: single lookups are the hot path


_COLUMNS = [c for c in Indicator.__table__.c]
_GET_RECORD = (
    sa.select(*_COLUMNS, Org.name.label("org_name"))
    .join(Org, Org.id == Indicator.org_id)
    .where(Indicator.id == sa.bindparam("iid"), visible_to(sa.bindparam("viewer")))
)
_SHARE_NAMES = (
    sa.select(Org.name)
    .join(IndicatorShare, IndicatorShare.org_id == Org.id)
    .where(IndicatorShare.indicator_id == sa.bindparam("iid"))
)


def get_visible_record(conn: sa.Connection, org_id: str, indicator_id: str) -> IndicatorRecord:
    """:func:`get_visible` + :func:`to_record` as one Core query: the REST hot path.

    Same ``visible_to`` filter and the same 404 for hidden and missing ids; plain rows
    instead of ORM objects (no identity map, no lazy loads), and the sharing list is
    fetched only when the viewer owns the indicator.
    """
    row = conn.execute(_GET_RECORD, {"iid": indicator_id, "viewer": org_id}).first()
    if row is None:
        raise NotFoundError(f"no indicator {indicator_id!r}", field="id")
    shares: list[str] = []
    if row.org_id == org_id:
        shares = sorted(conn.execute(_SHARE_NAMES, {"iid": row.id}).scalars())
    return IndicatorRecord(
        type=IndicatorType(row.type),
        value=row.value,
        category=Category(row.category),
        tlp=TLP(row.tlp),
        chain=row.chain or None,
        confidence=row.confidence,
        description=row.description,
        references=list(row.references or []),
        share_with=shares,
        valid_from=row.valid_from,
        valid_until=row.valid_until,
        labels=list(row.labels or []),
        source=row.source,
        org=row.org_name,
        id=row.id,
        created=row.created,
        modified=row.modified,
    )


def get_visible(s: Session, org_id: str, indicator_id: str) -> Indicator:
    """The indicator if ``org_id`` may see it; a hidden one is 'not found' like a missing one."""
    row = s.scalars(_GET, {"iid": indicator_id, "viewer": org_id}).first()
    if row is None:
        raise NotFoundError(f"no indicator {indicator_id!r}", field="id")
    return row


def search(
    s: Session,
    org_id: str,
    query: IndicatorQuery,
    limit: int,
    after: tuple[datetime, str] | None = None,
) -> list[Indicator]:
    """One page of visible indicators in (created, id) order, after a keyset position."""
    stmt = _filtered(org_id, query, page_walk=s.get_bind().dialect.name == "sqlite")
    if after is not None:
        stmt = stmt.where(sa.tuple_(Indicator.created, Indicator.id) > sa.tuple_(*after))
    stmt = stmt.order_by(Indicator.created, Indicator.id).limit(limit)
    return list(s.scalars(stmt))


def count(s: Session, org_id: str, query: IndicatorQuery) -> int:
    sub = _filtered(org_id, query).with_only_columns(Indicator.id).subquery()
    return int(s.scalar(sa.select(sa.func.count()).select_from(sub)) or 0)


def iter_visible(
    s: Session, org_id: str, query: IndicatorQuery, batch: int = 1000
) -> Iterator[Indicator]:
    """Every visible indicator, paged by keyset so memory stays flat on big exports."""
    after: tuple[datetime, str] | None = None
    while True:
        rows = search(s, org_id, query, batch, after)
        yield from rows
        if len(rows) < batch:
            return
        after = (rows[-1].created, rows[-1].id)


def find_own(s: Session, org_id: str, rec: IndicatorRecord) -> Indicator | None:
    """The owning org's existing row for the same (type, chain, value), if any."""
    return s.scalars(
        sa.select(Indicator).where(
            Indicator.org_id == org_id,
            Indicator.type == rec.type.value,
            Indicator.chain == (rec.chain or ""),
            Indicator.value_sha256 == value_sha256(rec.value),
        )
    ).first()


def own_rows_by_key(
    s: Session, org_id: str, keys: list[tuple[str, str, str]], chunk: int = 500
) -> dict[tuple[str, str, str], Indicator]:
    """The org's rows for many (type, chain, value_sha256) keys, fetched in chunks."""
    found: dict[tuple[str, str, str], Indicator] = {}
    for i in range(0, len(keys), chunk):
        hashes = {k[2] for k in keys[i : i + chunk]}
        stmt = sa.select(Indicator).where(
            Indicator.org_id == org_id, Indicator.value_sha256.in_(hashes)
        )
        for row in s.scalars(stmt):
            found[(row.type, row.chain, row.value_sha256)] = row
    return found


def apply_record(row: Indicator, rec: IndicatorRecord, share_orgs: list[Org]) -> None:
    """Copy a record's mutable fields onto a row (identity fields only when new)."""
    row.type, row.chain, row.value = rec.type.value, rec.chain or "", rec.value
    row.value_sha256 = value_sha256(rec.value)
    row.category, row.tlp, row.confidence = rec.category.value, rec.tlp.value, rec.confidence
    row.description, row.source = rec.description, rec.source
    row.references, row.labels = list(rec.references), list(rec.labels)
    row.valid_from, row.valid_until = rec.valid_from, rec.valid_until
    row.modified = utcnow()
    want = {o.id for o in share_orgs}
    have = {sh.org_id for sh in row.shares}
    row.shares = [sh for sh in row.shares if sh.org_id in want] + [
        IndicatorShare(org_id=o.id) for o in share_orgs if o.id not in have
    ]
