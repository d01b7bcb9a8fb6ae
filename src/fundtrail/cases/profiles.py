"""Case profiles: who stands behind an organisation's case files and freeze requests.

Each organisation sets once the analyst who attests its case files, the contact an
exchange should answer, the legal basis it cites and how many days it gives; every
report and freeze request it writes carries them. Kept in the workspace as
``case-profiles.json`` (``{org name: {field: value}}``), written atomically.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any

from fundtrail.errors import InvalidInputError
from fundtrail.workspace import workspace_home

FILE = "case-profiles.json"
MAX_TEXT = 500


@dataclass(frozen=True, slots=True)
class CaseProfile:
    organisation: str = ""
    analyst: str = ""
    contact: str = ""
    legal_basis: str = ""
    deadline_days: int = 14


def _path(home: Path | None) -> Path:
    return workspace_home(home) / FILE


def _all(home: Path | None) -> dict[str, dict[str, Any]]:
    path = _path(home)
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise InvalidInputError(f"{path} is not valid JSON: {exc}", field="profile") from exc
    return data if isinstance(data, dict) else {}


def load_profile(org: str | None, home: Path | None = None, **override: Any) -> CaseProfile:
    """The profile of ``org`` with any non-empty ``override`` fields applied."""
    known = {f.name for f in fields(CaseProfile)}
    stored = {k: v for k, v in _all(home).get(org or "", {}).items() if k in known}
    profile = replace(CaseProfile(organisation=org or ""), **stored)
    given = {k: v for k, v in override.items() if k in known and v not in (None, "")}
    return _checked(replace(profile, **given))


def save_profile(org: str, home: Path | None = None, **values: Any) -> CaseProfile:
    """Set fields of ``org``'s profile (others kept); returns the whole profile."""
    if not org.strip():
        raise InvalidInputError("give the organisation the profile belongs to", field="org")
    profile = load_profile(org, home, **values)
    data = _all(home)
    data[org] = {k: v for k, v in asdict(profile).items() if k != "organisation"}
    path = _path(home)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(tmp, path)
    _audit(org, profile)
    return profile


def _audit(org: str, profile: CaseProfile) -> None:
    """One audit row per change: the legal basis and contact a freeze request cites are
    evidence, so who set them, and when, must be on the record."""
    from fundtrail.intelstore import audit
    from fundtrail.intelstore.db import open_store
    from fundtrail.model.identity import Identity

    with open_store().session() as s:
        audit.record(s, Identity.operator(), "case_profile.set", "org", org,
                     {k: v for k, v in asdict(profile).items() if k != "organisation"})  # fmt: skip


def _checked(p: CaseProfile) -> CaseProfile:
    for name in ("analyst", "contact", "legal_basis"):
        if len(getattr(p, name)) > MAX_TEXT:
            raise InvalidInputError(f"{name} is longer than {MAX_TEXT} characters", field=name)
    if not 1 <= int(p.deadline_days) <= 365:
        raise InvalidInputError("deadline_days must be 1 to 365", field="deadline_days")
    return replace(p, deadline_days=int(p.deadline_days))
