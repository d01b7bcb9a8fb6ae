"""Who may download a written case file: the one rule, used by the web UI and the CLI.

A case file is written with its writer's rights: its report names every victim the
writer may see, and its freeze requests are letters to particular exchanges. So each
version folder records its audience (``.audience.json``: the writer's org and the
complaints whose personal data it holds), and a version is served only to a caller
who may see every part of it *now*:

- the workspace operator;
- otherwise an organisation that wrote it or is on the campaign's case (lead or
  member) **and** may, with its current rights, see the personal data of every
  complaint the file names.

An organisation that merely reported one of the campaign's complaints sees the
campaign (no one else's victims) but none of another organisation's case files. A
version without an audience record (older) is served to the operator only. Every
download is audited; a refusal looks like a missing file (hidden = missing).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from fundtrail.cases.access import case_orgs, may_see_pii
from fundtrail.cases.casefolder import versions
from fundtrail.cases.views import CampaignView
from fundtrail.errors import NotFoundError
from fundtrail.intelstore.cases import Complaint
from fundtrail.intelstore.db import IntelStore
from fundtrail.intelstore.groupcommit import group_writer
from fundtrail.model.identity import Identity

AUDIENCE = ".audience.json"


@dataclass(frozen=True, slots=True)
class Audience:
    writer_org: str | None  # None: the workspace operator wrote it
    pii_complaints: tuple[str, ...]  # complaint ids whose personal data the file holds

    def to_json(self) -> str:
        return json.dumps(
            {"writer_org": self.writer_org, "pii_complaints": list(self.pii_complaints)},
            sort_keys=True,
        )


def audience_of(view: CampaignView, writer: Identity) -> Audience:
    return Audience(
        writer_org=None if writer.is_operator else writer.org_id,
        pii_complaints=tuple(sorted(c.id for c in view.complaints if c.pii_visible)),
    )


def write_audience(folder: Path, view: CampaignView, writer: Identity) -> None:
    """Record who the version in ``folder`` (still staging) was written for."""
    (folder / AUDIENCE).write_text(audience_of(view, writer).to_json())


def read_audience(folder: Path) -> Audience | None:
    try:
        data: dict[str, Any] = json.loads((folder / AUDIENCE).read_text())
        return Audience(data.get("writer_org"), tuple(data.get("pii_complaints") or ()))
    except (OSError, ValueError, TypeError, AttributeError):
        return None


def may_read(s: Session, who: Identity, campaign_id: str, audience: Audience | None) -> bool:
    """May ``who`` download a version written for ``audience``? (the rule above)"""
    if who.is_operator:
        return True
    if audience is None or not who.in_org:
        return False
    on_case = case_orgs(s, [campaign_id]).get(campaign_id, set())
    if who.org_id != audience.writer_org and who.org_id not in on_case:
        return False
    ids = list(audience.pii_complaints)
    rows = s.scalars(sa.select(Complaint).where(Complaint.id.in_(ids))).all() if ids else []
    return all(may_see_pii(who, c, on_case) for c in rows)


def readable_versions(s: Session, who: Identity, campaign_id: str, root: Path) -> list[Path]:
    """The versions under ``root`` that ``who`` may download, oldest first."""
    return [v for v in versions(root) if may_read(s, who, campaign_id, read_audience(v))]


def listing(folder: Path) -> list[str]:
    """The files of a version as people see them (no hidden bookkeeping)."""
    return sorted(p.name for p in folder.iterdir() if not p.name.startswith("."))


def open_case_file(
    store: IntelStore, who: Identity, campaign_id: str, root: Path, name: str, version: str = ""
) -> Path:
    """The path of one file of a case file version ``who`` may read (the newest one it
    may read without ``version``); the download is audited. Anything else: not found."""
    with store.read_session() as s:
        allowed = readable_versions(s, who, campaign_id, root)
    folder = (
        next((v for v in allowed if v.name == version), None)
        if version
        else (allowed[-1] if allowed else None)
    )
    path = folder / name if folder else None
    if "/" in name or "\\" in name or name.startswith(".") or path is None or not path.is_file():
        raise NotFoundError(f"no file {name!r} for campaign {campaign_id}")
    assert folder is not None
    group_writer(store).record(
        who,
        "case.file.read",
        "campaign",
        campaign_id,
        {"version": folder.name, "file": name},
    )
    return path
