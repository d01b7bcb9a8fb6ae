"""Organisations of the alliance: add, find, list."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from fundtrail.errors import ConflictError, InvalidInputError, NotFoundError
from fundtrail.intelstore import audit
from fundtrail.intelstore.models import ORG_KINDS, Org
from fundtrail.model.identity import Identity, os_user, parse_role


def add_org(s: Session, name: str, kind: str = "alliance", *, actor: Identity | str = "cli") -> Org:
    clean = name.strip()
    if not clean or len(clean) > 200 or any(c in clean for c in "\r\n\t:"):
        raise InvalidInputError(
            f"organisation name {name!r} must be 1-200 characters, no ':' or line breaks",
            field="name",
        )
    if kind not in ORG_KINDS:
        raise InvalidInputError(
            f"unknown organisation kind {kind!r}; use {', '.join(ORG_KINDS)}", field="kind"
        )
    if s.scalars(sa.select(Org).where(Org.name == clean)).first() is not None:
        raise ConflictError(f"organisation {clean!r} already exists", field="name")
    org = Org(name=clean, kind=kind)
    s.add(org)
    s.flush()
    audit.record(s, actor, "org.add", "org", org.id, {"name": clean, "kind": kind})
    return org


def get_org_by_name(s: Session, name: str) -> Org:
    org = s.scalars(sa.select(Org).where(Org.name == name.strip())).first()
    if org is None:
        raise NotFoundError(f"no organisation named {name!r}", field="org")
    return org


def orgs_by_names(s: Session, names: list[str]) -> list[Org]:
    """Resolve a sharing list; an unknown name is an error naming it."""
    found = {o.name: o for o in s.scalars(sa.select(Org).where(Org.name.in_(names)))}
    missing = [n for n in names if n not in found]
    if missing:
        raise InvalidInputError(
            f"unknown organisation(s) in share_with: {', '.join(missing)}", field="share_with"
        )
    return [found[n] for n in dict.fromkeys(names)]


def list_orgs(s: Session) -> list[Org]:
    return list(s.scalars(sa.select(Org).order_by(Org.name)))


def org_identity(s: Session, org_name: str, role: str = "admin") -> Identity:
    """The identity of someone on this machine acting for ``org_name`` (CLI, scripts).

    The workspace's command line is trusted to name its organisation; it is audited as
    ``cli:<os user>`` with that org.
    """
    org = get_org_by_name(s, org_name)
    return Identity(
        org_id=org.id, org_name=org.name, org_kind=org.kind, role=parse_role(role), via="cli",
        user=os_user(),
    )  # fmt: skip
