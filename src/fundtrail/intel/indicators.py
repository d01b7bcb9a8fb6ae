"""The indicator service: what the REST API, the CLI and importers call.

Rules live here, once: readers cannot write; only the owning org changes or
deletes an indicator; every write and every read of AMBER/RED data is audited;
every read goes through the store's ``visible_to`` filter, so a hidden indicator
answers exactly like a missing one.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from fundtrail.errors import (
    ConflictError,
    InvalidInputError,
    PermissionDeniedError,
    StorageError,
)
from fundtrail.intel.records import IndicatorRecord
from fundtrail.intelstore import audit, paging
from fundtrail.intelstore import indicators as repo
from fundtrail.intelstore.base import utcnow
from fundtrail.intelstore.db import IntelStore
from fundtrail.intelstore.groupcommit import GroupWriter, group_writer
from fundtrail.intelstore.indicators import IndicatorQuery
from fundtrail.intelstore.models import Indicator, Org, Sighting
from fundtrail.intelstore.orgs import orgs_by_names
from fundtrail.model.identity import Identity
from fundtrail.model.indicators import Category
from fundtrail.model.tlp import AUDITED_READS, TLP

SIGHTING_KINDS = ("seen", "false-positive")
MAX_LIMIT = 1000
EDITABLE = (
    "category",
    "confidence",
    "tlp",
    "share_with",
    "description",
    "references",
    "labels",
    "valid_from",
    "valid_until",
)


@dataclass(frozen=True, slots=True)
class Page:
    items: list[IndicatorRecord]
    next: str | None
    total: int | None = None


@dataclass(frozen=True, slots=True)
class SightingView:
    id: str
    indicator_id: str
    kind: str
    seen_at: datetime
    where: str
    note: str
    org: str | None  # None when the viewer may not know who saw it


@dataclass(slots=True)
class ImportSummary:
    added: int = 0
    updated: int = 0
    duplicates: int = 0  # same indicator more than once in the input: merged
    problems: list[str] = field(default_factory=list)


def check_record(rec: IndicatorRecord) -> IndicatorRecord:
    """Range and consistency checks a record needs beyond its own normalisation."""
    if (
        isinstance(rec.confidence, bool)
        or not isinstance(rec.confidence, int)
        or not 0 <= rec.confidence <= 100
    ):
        raise InvalidInputError("confidence must be an integer from 0 to 100", field="confidence")
    if len(rec.description) > 10_000:
        raise InvalidInputError("description is longer than 10000 characters", field="description")
    for ref in rec.references:
        if (
            not isinstance(ref, str)
            or not ref.lower().startswith(("http://", "https://"))
            or any(c in ref for c in "<>\"' \n")
        ):
            raise InvalidInputError(
                f"reference {str(ref)[:80]!r} must be an http(s) URL", field="references"
            )
    if rec.valid_from and rec.valid_until and rec.valid_until < rec.valid_from:
        raise InvalidInputError("valid_until is before valid_from", field="valid_until")
    return rec


class IndicatorService:
    def __init__(self, store: IntelStore) -> None:
        self.store = store
        self._secret: bytes | None = None
        self._read_audit: GroupWriter = group_writer(store, durable=False)
        self._read_engine = (
            store.engine.execution_options(isolation_level="AUTOCOMMIT")
            if store.dialect == "postgresql"
            else store.engine
        )

    @property
    def secret(self) -> bytes:
        if self._secret is None:
            self._secret = self.store.meta_secret(paging.SECRET_KEY)
        return self._secret

    # -- writes -----------------------------------------------------------------
    def add(
        self, who: Identity, rec: IndicatorRecord, remote: str | None = None
    ) -> IndicatorRecord:
        """Store a new indicator owned by ``who``'s org; 409 if that org already has it."""
        _need_writer(who)
        check_record(rec)
        with self.store.session() as s:
            existing = repo.find_own(s, who.org_id, rec)
            if existing is not None:
                raise ConflictError(
                    f"your organisation already shares this indicator (id {existing.id})",
                    field="value",
                )
            row = Indicator(org_id=who.org_id, created=utcnow())
            repo.apply_record(row, rec, orgs_by_names(s, rec.share_with))
            s.add(row)
            s.flush()
            audit.record(
                s,
                who,
                "indicator.add",
                "indicator",
                row.id,
                {"tlp": row.tlp, "type": row.type},
                remote,
            )
            return repo.to_record(row, who.org_id)

    def update(
        self, who: Identity, indicator_id: str, changes: dict[str, Any], remote: str | None = None
    ) -> IndicatorRecord:
        """Change editable fields of an indicator the caller's org owns."""
        _need_writer(who)
        unknown = set(changes) - set(EDITABLE)
        if unknown:
            raise InvalidInputError(
                f"cannot change {', '.join(sorted(unknown))}; editable: {', '.join(EDITABLE)}",
                field=sorted(unknown)[0],
            )
        with self.store.session() as s:
            row = _owned(s, who, indicator_id)
            rec = repo.to_record(row, who.org_id)
            if "category" in changes:
                changes["category"] = Category.parse(changes["category"])
            if "tlp" in changes:
                changes["tlp"] = TLP.parse(changes["tlp"])
            rec = check_record(replace(rec, **changes))
            repo.apply_record(row, rec, orgs_by_names(s, rec.share_with))
            audit.record(
                s, who, "indicator.update", "indicator", row.id, {"fields": sorted(changes)}, remote
            )
            s.flush()
            return repo.to_record(row, who.org_id)

    def delete(self, who: Identity, indicator_id: str, remote: str | None = None) -> None:
        _need_writer(who)
        with self.store.session() as s:
            row = _owned(s, who, indicator_id)
            s.delete(row)
            audit.record(
                s,
                who,
                "indicator.delete",
                "indicator",
                indicator_id,
                {"tlp": row.tlp, "type": row.type},
                remote,
            )

    def import_records(
        self,
        who: Identity,
        records: Iterable[IndicatorRecord],
        source: str = "",
        remote: str | None = None,
    ) -> ImportSummary:
        """Upsert many records for ``who``'s org in one transaction (re-import is idempotent)."""
        _need_writer(who)
        summary = ImportSummary()
        unique: dict[tuple[str, str, str], IndicatorRecord] = {}
        for rec in records:
            key = (rec.type.value, rec.chain or "", repo.value_sha256(rec.value))
            summary.duplicates += key in unique
            unique[key] = check_record(rec)
        with self.store.session() as s:
            existing = repo.own_rows_by_key(s, who.org_id, list(unique))
            share_cache: dict[tuple[str, ...], list[Org]] = {}
            for key, rec in unique.items():
                names = tuple(rec.share_with)
                if names not in share_cache:
                    share_cache[names] = orgs_by_names(s, list(names)) if names else []
                row = existing.get(key)
                if row is None:
                    row = Indicator(org_id=who.org_id, created=utcnow())
                    repo.apply_record(row, rec, share_cache[names])
                    s.add(row)
                    summary.added += 1
                else:
                    repo.apply_record(row, rec, share_cache[names])
                    summary.updated += 1
            audit.record(
                s,
                who,
                "indicator.import",
                "indicator",
                None,
                {"source": source, "added": summary.added, "updated": summary.updated},
                remote,
            )
        return summary

    # -- reads ------------------------------------------------------------------
    def get(self, who: Identity, indicator_id: str, remote: str | None = None) -> IndicatorRecord:
        with self._reader() as conn:
            rec = repo.get_visible_record(conn, who.org_id, indicator_id)
        self._audit_reads(who, [rec], "indicator.read", remote)
        return rec

    @contextmanager
    def _reader(self) -> Iterator[sa.Connection]:
        """A connection for one-statement reads, without the ORM session.

        On PostgreSQL it runs in autocommit: a single SELECT is atomic by itself, and
        BEGIN and COMMIT would be two more round trips per lookup.
        """
        try:
            with self._read_engine.connect() as conn:
                yield conn
        except SQLAlchemyError as exc:
            raise StorageError(f"intel store error: {type(exc).__name__}: {exc}") from exc

    def search(
        self,
        who: Identity,
        query: IndicatorQuery,
        *,
        limit: int = 100,
        next_token: str | None = None,
        with_total: bool = False,
        remote: str | None = None,
    ) -> Page:
        """One page of what ``who`` may see; ``next`` continues it (same org, same query)."""
        if not 1 <= limit <= MAX_LIMIT:
            raise InvalidInputError(f"limit must be 1 to {MAX_LIMIT}", field="limit")
        fp = query.fingerprint()
        after = paging.read_token(self.secret, next_token, who.org_id, fp) if next_token else None
        with self.store.read_session() as s:
            rows = repo.search(s, who.org_id, query, limit + 1, after)
            items = [repo.to_record(r, who.org_id) for r in rows[:limit]]
            total = repo.count(s, who.org_id, query) if with_total else None
        token = None
        if len(rows) > limit:
            last = rows[limit - 1]
            token = paging.make_token(self.secret, who.org_id, fp, last.created, last.id)
        self._audit_reads(who, items, "indicator.search", remote)
        return Page(items=items, next=token, total=total)

    def count(self, who: Identity, query: IndicatorQuery) -> int:
        with self.store.read_session() as s:
            return repo.count(s, who.org_id, query)

    def export(
        self, who: Identity, query: IndicatorQuery | None = None, remote: str | None = None
    ) -> list[IndicatorRecord]:
        """Every indicator ``who`` may see, audited as one export."""
        q = query or IndicatorQuery()
        with self.store.read_session() as s:
            records = [repo.to_record(r, who.org_id) for r in repo.iter_visible(s, who.org_id, q)]
        self._audit_reads(who, records, "indicator.export", remote)
        return records

    # -- sightings ----------------------------------------------------------------
    def add_sighting(
        self,
        who: Identity,
        indicator_id: str,
        *,
        kind: str = "seen",
        seen_at: datetime | None = None,
        where: str = "",
        note: str = "",
        remote: str | None = None,
    ) -> SightingView:
        _need_writer(who)
        if kind not in SIGHTING_KINDS:
            raise InvalidInputError(
                f"sighting kind {kind!r}: use seen or false-positive", field="kind"
            )
        if len(where) > 500 or len(note) > 10_000:
            raise InvalidInputError(
                "sighting 'where' (500) or 'note' (10000) is too long",
                field="where" if len(where) > 500 else "note",
            )
        with self.store.session() as s:
            ind = repo.get_visible(s, who.org_id, indicator_id)
            row = Sighting(
                indicator_id=ind.id,
                org_id=who.org_id,
                kind=kind,
                seen_at=seen_at or utcnow(),
                where=where,
                note=note,
            )
            s.add(row)
            s.flush()
            audit.record(
                s,
                who,
                "sighting.add",
                "indicator",
                ind.id,
                {"sighting": row.id, "kind": kind},
                remote,
            )
            return _sighting_view(row, ind, who)

    def list_sightings(
        self, who: Identity, indicator_id: str, remote: str | None = None
    ) -> list[SightingView]:
        with self.store.read_session() as s:
            ind = repo.get_visible(s, who.org_id, indicator_id)
            rows = sorted(ind_sightings(s, ind.id), key=lambda r: (r.seen_at, r.id))
            views = [_sighting_view(r, ind, who) for r in rows]
            tlp = TLP(ind.tlp)
        if tlp in AUDITED_READS:
            self._read_audit.record(
                who, "sighting.read", "indicator", indicator_id, {"count": len(views)}, remote
            )
        return views

    def _audit_reads(
        self, who: Identity, records: list[IndicatorRecord], action: str, remote: str | None
    ) -> None:
        ids = [r.id for r in records if r.tlp in AUDITED_READS]
        if not ids:
            return
        self._read_audit.record(
            who,
            action,
            "indicator",
            ids[0] if len(ids) == 1 else None,
            {"ids": ids} if len(ids) > 1 else {},
            remote,
        )


def ind_sightings(s: Session, indicator_id: str) -> list[Sighting]:
    return list(s.scalars(sa.select(Sighting).where(Sighting.indicator_id == indicator_id)))


def _sighting_view(row: Sighting, ind: Indicator, who: Identity) -> SightingView:
    """The sighting org is named only to itself and to the indicator's owner."""
    knows = who.org_id in (row.org_id, ind.org_id)
    return SightingView(
        id=row.id,
        indicator_id=ind.id,
        kind=row.kind,
        seen_at=row.seen_at,
        where=row.where,
        note=row.note,
        org=row.org.name if knows else None,
    )


def _need_writer(who: Identity) -> None:
    if not who.has_role("analyst"):
        raise PermissionDeniedError(
            f"role {who.role!r} may not write; an analyst or admin key is needed"
        )


def _owned(s: Session, who: Identity, indicator_id: str) -> Indicator:
    """Visible and owned by the caller's org: hidden -> 404, visible-not-owned -> 403."""
    row = repo.get_visible(s, who.org_id, indicator_id)
    if row.org_id != who.org_id:
        raise PermissionDeniedError(
            "only the organisation that shared this indicator may change or delete it"
        )
    return row
