"""Local (CLI and notebook) operations on the intel store, acting as one organisation."""

from __future__ import annotations

from pathlib import Path
from typing import TextIO

from fundtrail.errors import NotFoundError
from fundtrail.intel.formats import RowProblem, read_file, writer_for
from fundtrail.intel.indicators import ImportSummary, IndicatorService
from fundtrail.intel.records import IndicatorRecord
from fundtrail.intelstore.db import IntelStore, open_store
from fundtrail.intelstore.indicators import IndicatorQuery
from fundtrail.intelstore.orgs import add_org, org_identity
from fundtrail.model.identity import Identity
from fundtrail.model.tlp import TLP


def _as(store: IntelStore, org: str | None, *, create: bool = False) -> Identity:
    if not org:
        return Identity.public()
    with store.session() as s:
        try:
            return org_identity(s, org)
        except NotFoundError:
            if not create:
                raise
            add_org(s, org, "alliance")
            return org_identity(s, org)


def import_file(
    path: Path,
    fmt: str,
    *,
    org: str | None,
    tlp: str | None = None,
    store: IntelStore | None = None,
) -> tuple[ImportSummary, list[RowProblem]]:
    """Read a file and upsert its good rows as ``org``'s; return the summary and bad rows."""
    from fundtrail.errors import InvalidInputError

    if not org:
        raise InvalidInputError("--org is required: whose indicators are these?", field="org")
    result = read_file(path, fmt, tlp=TLP.parse(tlp) if tlp else None)
    store = store or open_store()
    who = _as(store, org, create=fmt == "ofac")
    summary = IndicatorService(store).import_records(
        who, result.records, source=f"{fmt}:{path.name}"
    )
    return summary, result.problems


def export_to(out: TextIO, fmt: str, *, org: str | None, store: IntelStore | None = None) -> int:
    writer = writer_for(fmt)
    store = store or open_store()
    records = IndicatorService(store).export(_as(store, org))
    return writer(records, out)


def search_as(
    q: str, *, org: str | None, limit: int = 100, store: IntelStore | None = None
) -> list[IndicatorRecord]:
    store = store or open_store()
    page = IndicatorService(store).search(_as(store, org), IndicatorQuery(q=q), limit=limit)
    return page.items
