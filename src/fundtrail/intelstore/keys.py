"""API keys and the identity they stand for.

A key reads ``ft_<prefix>_<secret>``: the prefix (public, unique) finds the row,
the SHA-256 of the whole key is compared in constant time. The key itself is
shown once at creation and never stored.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from fundtrail.errors import AuthenticationError, InvalidInputError, NotFoundError
from fundtrail.intelstore import audit
from fundtrail.intelstore.base import utcnow
from fundtrail.intelstore.models import ApiKey, Org
from fundtrail.intelstore.orgs import get_org_by_name
from fundtrail.model.identity import Identity, parse_role

revocations = 0  # bumped by revoke_key in this process
_KEY = re.compile(r"^ft_([0-9a-f]{12})_([A-Za-z0-9_-]{20,64})$")


@dataclass(frozen=True, slots=True)
class NewKey:
    key: str  # shown once
    id: str
    prefix: str
    org: str
    role: str
    expires: datetime | None


def parse_expiry(text: str | None, now: datetime | None = None) -> datetime | None:
    """``90d``, ``12h``, ``30m`` or an ISO date/time (UTC if no zone); None = never."""
    if not text:
        return None
    now = now or utcnow()
    m = re.fullmatch(r"(\d+)\s*([dhm])", text.strip().lower())
    if m:
        unit = {"d": "days", "h": "hours", "m": "minutes"}[m.group(2)]
        return now + timedelta(**{unit: int(m.group(1))})
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInputError(
            f"expiry {text!r} is neither a duration (90d, 12h) nor an ISO date", field="expires"
        ) from None
    return when if when.tzinfo else when.replace(tzinfo=now.tzinfo)


def _sha(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_key(
    s: Session,
    org_name: str,
    role: str,
    *,
    expires: datetime | None = None,
    label: str = "",
    actor: Identity | str = "cli",
) -> NewKey:
    org = get_org_by_name(s, org_name)
    prefix = secrets.token_hex(6)
    key = f"ft_{prefix}_{secrets.token_urlsafe(32)}"
    row = ApiKey(
        prefix=prefix,
        key_sha256=_sha(key),
        org_id=org.id,
        role=parse_role(role),
        expires=expires,
        label=label,
    )
    s.add(row)
    s.flush()
    audit.record(
        s,
        actor,
        "key.create",
        "api_key",
        row.id,
        {"org": org.name, "role": row.role, "prefix": prefix},
    )
    return NewKey(key=key, id=row.id, prefix=prefix, org=org.name, role=row.role, expires=expires)


def revoke_key(s: Session, key_or_prefix: str, *, actor: Identity | str = "cli") -> ApiKey:
    """Revoke by key id, prefix or the key itself."""
    m = _KEY.match(key_or_prefix)
    token = m.group(1) if m else key_or_prefix.strip()
    row = s.scalars(
        sa.select(ApiKey).where(sa.or_(ApiKey.id == token, ApiKey.prefix == token))
    ).first()
    if row is None:
        raise NotFoundError(f"no API key {key_or_prefix!r}", field="key")
    if row.revoked is None:
        global revocations
        revocations += 1  # tells in-process key caches to forget what they hold
        row.revoked = utcnow()
        audit.record(s, actor, "key.revoke", "api_key", row.id, {"prefix": row.prefix})
    return row


def list_keys(s: Session, org_name: str | None = None) -> list[ApiKey]:
    q = sa.select(ApiKey).order_by(ApiKey.created)
    if org_name:
        q = q.where(ApiKey.org_id == get_org_by_name(s, org_name).id)
    return list(s.scalars(q))


def authenticate(s: Session, key: str, now: datetime | None = None) -> Identity:
    """The identity behind ``key``; one vague message for every way a key is bad.

    One indexed lookup by prefix, then a constant-time hash comparison (on every request,
    so revocation takes effect at once).
    """
    m = _KEY.match(key.strip())
    row = None
    if m:
        row = s.execute(
            sa.select(
                ApiKey.id,
                ApiKey.key_sha256,
                ApiKey.org_id,
                ApiKey.role,
                ApiKey.expires,
                ApiKey.revoked,
                Org.name,
                Org.kind,
            )
            .join(Org, Org.id == ApiKey.org_id)
            .where(ApiKey.prefix == m.group(1))
        ).first()
    if row is None or not hmac.compare_digest(row.key_sha256, _sha(key.strip())):
        raise AuthenticationError("invalid API key")
    now = now or utcnow()
    if row.revoked is not None:
        raise AuthenticationError("API key revoked")
    if row.expires is not None and row.expires <= now:
        raise AuthenticationError("API key expired")
    return Identity(
        org_id=row.org_id, org_name=row.name, org_kind=row.kind, role=row.role, via="key",
        key_id=row.id, key_expires=row.expires,
    )  # fmt: skip
