"""What campaigns were computed from, and whether that is still what the stores hold.

Linking and cash-outs are derived results: they depend on the complaints, the chain
(ingested blocks, clustering), attribution tags and shared intel. Each link run
records a fingerprint of those inputs in the intel store's ``store_meta``; any read
compares it with the current one. The CLI then relinks before answering; the API and
web pages answer with what they have, say it is stale (and why), and relink in the
background. Nothing derived is ever shown as current when its inputs moved on.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from fundtrail.chainstore.store import ChainStore
from fundtrail.chainstore.tags import TagStore
from fundtrail.intelstore.cases import Complaint
from fundtrail.intelstore.changes import latest_seq
from fundtrail.intelstore.models import StoreMeta

META_KEY = "campaigns.inputs"
STAMP = "_computed_from"  # key in a campaign's trace_params: what its cash-outs came from
REFRESH = "fundtrail campaigns link"

INPUT_NAMES = {
    "complaints": "complaints",
    "chains": "chain data or clustering",
    "tags": "attribution tags",
    "intel": "shared intel",
}


@dataclass(frozen=True, slots=True)
class Inputs:
    """A fingerprint of everything linking reads (each part a short string)."""

    complaints: str
    chains: str
    tags: str
    intel: str

    def changed_since(self, old: Inputs | None) -> list[str]:
        """Names of the parts that differ from ``old`` (all of them if none was kept)."""
        if old is None:
            return list(INPUT_NAMES.values())
        return [INPUT_NAMES[k] for k, v in asdict(self).items() if getattr(old, k) != v]

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Inputs | None:
        try:
            return cls(**json.loads(text))
        except (ValueError, TypeError):
            return None


@dataclass(frozen=True, slots=True)
class Staleness:
    """Campaigns were computed from older inputs: what moved, and how to refresh."""

    changed: list[str]

    def to_dict(self) -> dict[str, Any]:
        return {"stale": True, "changed": self.changed, "refresh": REFRESH}

    def message(self) -> str:
        return (
            f"campaigns were linked before the latest {', '.join(self.changed)}; "
            f"relinking (or run `{REFRESH}`)"
        )


def digest(parts: object) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:16]


def current_inputs(s: Session, home: Path | None = None) -> Inputs:
    """The fingerprint of the stores as they are now (cheap: counts and versions)."""
    n, last = s.execute(sa.select(sa.func.count(), sa.func.max(Complaint.created))).one()
    chains = sorted(c for c in s.scalars(sa.select(Complaint.chain).distinct()))
    versions = {c: ChainStore(c, home).version for c in chains}
    tag_files = [(p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in TagStore(home).files()]
    return Inputs(
        complaints=digest([n, last]),
        chains=digest(versions),
        tags=digest(tag_files),
        intel=str(latest_seq(s)),  # the intel change journal: every indicator/share edit
    )


def recorded_inputs(s: Session) -> Inputs | None:
    row = s.get(StoreMeta, META_KEY)
    return Inputs.from_json(row.value) if row is not None else None


def record_inputs(s: Session, inputs: Inputs) -> None:
    row = s.get(StoreMeta, META_KEY)
    if row is None:
        s.add(StoreMeta(key=META_KEY, value=inputs.to_json()))
    else:
        row.value = inputs.to_json()


def staleness(s: Session, home: Path | None = None) -> Staleness | None:
    """None when campaigns reflect the current inputs (or there is nothing to link)."""
    if not s.scalar(sa.select(sa.func.count()).select_from(Complaint)):
        return None
    changed = current_inputs(s, home).changed_since(recorded_inputs(s))
    return Staleness(changed) if changed else None
