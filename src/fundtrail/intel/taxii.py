"""TAXII 2.1 over the intel store: collections, paged objects, manifests, add and delete.

One API root, ``/taxii2/api/``. Collections are views of what the caller's org may see:
``all`` (everything shared with it), one per TLP level, and ``own`` (what it shared).
Every object is an indicator the store holds; its id is ``indicator--<store id>``, its
one version is its ``modified`` time, and ``date_added`` is when that version reached
the hub. Each query goes through the store's ``visible_to`` filter, so a hidden object
is absent from objects, manifests, versions and paging alike, and answers 404 exactly
like a missing one. ``next`` tokens are signed and bound to the org and the query.

Posting objects runs the STIX importer (markings mapped, unsafe input refused whole) and
stores the records in one transaction as the caller's org; a collection's TLP is a
floor for what is posted into it. Status resources are kept in the store for a day.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from fundtrail.errors import InvalidInputError, NotFoundError, PermissionDeniedError, UserError
from fundtrail.intel.indicators import IndicatorService
from fundtrail.intel.records import IndicatorRecord
from fundtrail.intel.stix import indicator_for, stix_timestamp
from fundtrail.intel.stix_import import parse_stix
from fundtrail.intelstore import audit, paging
from fundtrail.intelstore.models import Indicator, Org
from fundtrail.intelstore.taxii_status import TaxiiStatus
from fundtrail.intelstore.visibility import visible_to
from fundtrail.model.identity import Identity
from fundtrail.model.indicators import Category, IndicatorType
from fundtrail.model.tlp import AUDITED_READS, TLP

__all__ = ["TAXII_MEDIA", "NotAcceptableError", "TaxiiService"]

TAXII_MEDIA = "application/taxii+json;version=2.1"
STIX_MEDIA = "application/stix+json;version=2.1"
DEFAULT_PAGE, MAX_PAGE = 100, 1000
_NS = uuid.UUID("1d5e6c3a-4b2f-4e8d-9a7c-0f3b2e1d4c5a")
_AUDITED = frozenset(t.value for t in AUDITED_READS)  # the one list, in model/tlp.py
_STATUS_TTL = timedelta(days=1)


class NotAcceptableError(UserError):
    """The client asked (Accept) for a media type this server does not produce."""

    status_code = 406


@dataclass(frozen=True, slots=True)
class CollectionView:
    key: str  # all | own | tlp-<level>
    title: str
    description: str
    tlp: TLP | None = None

    @property
    def id(self) -> str:
        return str(uuid.uuid5(_NS, self.key))

    def resource(self, who: Identity) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "description": self.description,
            "can_read": True,
            "can_write": who.has_role("analyst"),
            "media_types": [STIX_MEDIA],
        }


COLLECTIONS = [
    CollectionView("all", "Shared with you", "Every indicator your organisation may see."),
    CollectionView("own", "Shared by you", "The indicators your organisation shared."),
    *(
        CollectionView(
            f"tlp-{t.value.replace('+', '-')}",
            f"TLP:{t.value.upper()}",
            f"Indicators marked TLP:{t.value.upper()} that you may see; objects "
            f"added here are marked at least TLP:{t.value.upper()}.",
            t,
        )
        for t in TLP
    ),
]
_BY_ID = {c.id: c for c in COLLECTIONS}


@dataclass(frozen=True, slots=True)
class Filters:
    """The TAXII query of a GET: added_after and the match[...] filters."""

    added_after: datetime | None = None
    ids: tuple[str, ...] = ()
    types: tuple[str, ...] = ()
    versions: tuple[str, ...] = ()
    spec_versions: tuple[str, ...] = ()

    def fingerprint(self, kind: str, collection: str) -> dict[str, Any]:
        return {
            "k": kind,
            "c": collection,
            "a": self.added_after,
            "i": self.ids,
            "t": self.types,
            "v": self.versions,
            "s": self.spec_versions,
        }


def parse_timestamp(text: str, field: str) -> datetime:
    try:
        when = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInputError(f"{field}: {text[:40]!r} is not a timestamp", field=field) from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def date_added(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(slots=True)
class Page:
    records: list[IndicatorRecord]  # as the caller may see them (store id, modified, tlp...)
    more: bool
    next: str | None

    @property
    def added(self) -> list[datetime]:
        return [r.modified for r in self.records if r.modified is not None]


class TaxiiService:
    def __init__(self, indicators: IndicatorService) -> None:
        self.indicators = indicators
        self.store = indicators.store

    # -- collections ---------------------------------------------------------------
    def collection(self, collection_id: str) -> CollectionView:
        try:
            return _BY_ID[collection_id]
        except KeyError:
            raise NotFoundError(f"no collection {collection_id[:60]!r}", field="id") from None

    def _where(self, who: Identity, coll: CollectionView, flt: Filters) -> list[Any]:
        scope: list[Any] = [visible_to(who.org_id)]
        if coll.key == "own":
            scope.append(Indicator.org_id == who.org_id)
        elif coll.tlp is not None:
            scope.append(Indicator.tlp == coll.tlp.value)
        # Wrapped so the planner cannot answer it from the org/tlp indexes (then sort every
        # visible row for each page): pages walk the ``modified`` index in order instead
        # and stop after ``limit`` rows. Same rule, evaluated per row.
        conds: list[Any] = [sa.func.coalesce(sa.and_(*scope), sa.false()) == sa.true()]
        if flt.added_after is not None:
            conds.append(Indicator.modified > flt.added_after)
        if flt.types and "indicator" not in flt.types:
            conds.append(sa.false())
        if flt.spec_versions and "2.1" not in flt.spec_versions:
            conds.append(sa.false())
        if flt.ids:
            conds.append(Indicator.id.in_([_row_id(i) for i in flt.ids]))
        stamps = [
            parse_timestamp(v, "match[version]")
            for v in flt.versions
            if v not in ("all", "first", "last")
        ]
        if stamps:  # a version is a millisecond: modified within it
            conds.append(
                sa.or_(
                    *(
                        sa.and_(
                            Indicator.modified >= t,
                            Indicator.modified < t + timedelta(milliseconds=1),
                        )
                        for t in stamps
                    )
                )
            )
        return conds

    def page(
        self,
        who: Identity,
        coll: CollectionView,
        flt: Filters,
        kind: str,
        limit: int | None,
        next_token: str | None,
    ) -> Page:
        size = DEFAULT_PAGE if not limit or limit < 1 else min(limit, MAX_PAGE)
        fp = flt.fingerprint(kind, coll.id)
        # plain columns, not ORM entities: a page is built straight from rows (the hot path)
        stmt = (
            sa.select(*_COLUMNS, Org.name)
            .join(Org, Org.id == Indicator.org_id)
            .where(*self._where(who, coll, flt))
        )
        if next_token:
            try:
                after = paging.read_token(self.indicators.secret, next_token, who.org_id, fp)
            except InvalidInputError as exc:
                raise _BadRequest(exc.message, field="next") from exc
            stmt = stmt.where(sa.tuple_(Indicator.modified, Indicator.id) > sa.tuple_(*after))
        stmt = stmt.order_by(Indicator.modified, Indicator.id).limit(size + 1)
        with self.store.read_session() as s:
            rows = list(s.execute(stmt))
        more = len(rows) > size
        records = [_record(row) for row in rows[:size]]
        token = None
        if more:
            last = rows[size - 1]
            token = paging.make_token(
                self.indicators.secret, who.org_id, fp, last.modified, last.id
            )
        return Page(records, more, token)

    @staticmethod
    def objects(page: Page) -> list[dict[str, Any]]:
        return [indicator_for(rec) for rec in page.records]

    def audit_page(self, who: Identity, page: Page, action: str, remote: str | None) -> None:
        ids = [r.id for r in page.records if r.tlp.value in _AUDITED]
        if ids:
            with self.store.session() as s:
                audit.record(
                    s,
                    who,
                    action,
                    "indicator",
                    ids[0] if len(ids) == 1 else None,
                    {"ids": ids} if len(ids) > 1 else {},
                    remote,
                )

    # -- writes ----------------------------------------------------------------------
    def add_objects(
        self, who: Identity, coll: CollectionView, body: bytes, remote: str | None = None
    ) -> dict[str, Any]:
        if not who.has_role("analyst"):
            raise PermissionDeniedError(f"a {who.role} key may read collections, not write them")
        requested = datetime.now(UTC)
        result = parse_stix(
            body, default_tlp=coll.tlp or TLP.AMBER, source=f"taxii:{who.org_name}"[:500]
        )
        if not result.objects:
            raise InvalidInputError("the envelope has no objects", field="objects")
        for rec in result.records:
            if coll.tlp is not None and coll.tlp.rank > rec.tlp.rank:
                rec.tlp = coll.tlp
        if result.records:
            self.indicators.import_records(
                who, result.records, source=f"taxii:{coll.key}", remote=remote
            )
        ok, bad = result.outcomes()
        status = {
            "id": str(uuid.uuid4()),
            "status": "complete",
            "request_timestamp": stix_timestamp(requested),
            "total_count": len(ok) + len(bad),
            "success_count": len(ok),
            "successes": [_entry(i, v) for i, v in ok],
            "failure_count": len(bad),
            "failures": [{**_entry(i, v), "message": m} for i, v, m in bad],
            "pending_count": 0,
            "pendings": [],
        }
        self._keep(who, status)
        return status

    def delete_object(
        self, who: Identity, coll: CollectionView, object_id: str, remote: str | None = None
    ) -> None:
        flt = Filters(ids=(object_id,))
        with self.store.read_session() as s:
            row_id = s.scalar(sa.select(Indicator.id).where(*self._where(who, coll, flt)))
        if row_id is None:
            raise NotFoundError(f"no object {object_id[:80]!r} in this collection", field="id")
        self.indicators.delete(who, row_id, remote)

    # -- status resources ----------------------------------------------------------
    def _keep(self, who: Identity, status: dict[str, Any]) -> None:
        now = datetime.now(UTC)
        with self.store.session() as s:
            s.execute(sa.delete(TaxiiStatus).where(TaxiiStatus.created < now - _STATUS_TTL))
            s.add(TaxiiStatus(id=status["id"], org_id=who.org_id, created=now, body=status))

    def status(self, who: Identity, status_id: str) -> dict[str, Any]:
        """A status resource of the caller's org (another org's answers 404, like none)."""
        with self.store.read_session() as s:
            row = s.scalar(
                sa.select(TaxiiStatus.body).where(
                    TaxiiStatus.id == status_id[:36], TaxiiStatus.org_id == who.org_id
                )
            )
        if row is None:
            raise NotFoundError(f"no status {status_id[:60]!r}", field="id")
        return dict(row)


_COLUMNS = (
    Indicator.id,
    Indicator.type,
    Indicator.chain,
    Indicator.value,
    Indicator.category,
    Indicator.tlp,
    Indicator.confidence,
    Indicator.description,
    Indicator.references,
    Indicator.labels,
    Indicator.source,
    Indicator.valid_from,
    Indicator.valid_until,
    Indicator.created,
    Indicator.modified,
)


def _record(row: Any) -> IndicatorRecord:
    """A record from one row of ``_COLUMNS`` + org name (TAXII never serves sharing lists)."""
    (
        rid,
        kind,
        chain,
        value,
        category,
        tlp,
        confidence,
        description,
        references,
        labels,
        source,
        valid_from,
        valid_until,
        created,
        modified,
        org,
    ) = row
    return IndicatorRecord(
        type=IndicatorType(kind),
        value=value,
        category=Category(category),
        tlp=TLP(tlp),
        chain=chain or None,
        confidence=confidence,
        description=description,
        references=list(references or []),
        labels=list(labels or []),
        source=source,
        valid_from=valid_from,
        valid_until=valid_until,
        org=org,
        id=rid,
        created=created,
        modified=modified,
    )


class _BadRequest(InvalidInputError):
    status_code = 400


def _entry(oid: str, version: str | None) -> dict[str, Any]:
    return {"id": oid, "version": version} if version else {"id": oid}


def _row_id(stix_id: str) -> str:
    """The store id inside ``indicator--<uuid>`` ('' for anything else: matches nothing)."""
    kind, _, rest = stix_id.partition("--")
    try:
        return str(uuid.UUID(rest)) if kind == "indicator" else ""
    except ValueError:
        return ""
