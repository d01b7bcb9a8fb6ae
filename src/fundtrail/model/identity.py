"""Who is calling: one identity for every door (API key, web session, CLI, system jobs).

Every service that reads or writes shared data takes an :class:`Identity`. The
visibility rules (TLP, campaigns, victims' data, case files) and the audit log read
it; nothing passes a bare org id, an org name or a ``(id, name)`` tuple around.

There is no default that sees everything. A caller is one of:

- an organisation, through an API key (``via="key"``), a web session (``"session"``)
  or the command line acting for it (``"cli"``): it sees what was shared with that
  organisation, with the rights of its role;
- the *public view* (``"public"``): belongs to no organisation, sees CLEAR and GREEN;
- the *workspace operator* (``"operator"``): whoever holds the workspace's key file,
  asked for by name on the command line (``--operator``); it may read victims' data
  of every campaign and every row is audited as the operator's;
- a *system job* (``"system"``): migrations, the demo, scheduled work. It writes
  audit rows under its own name and sees only what it is handed.
"""

from __future__ import annotations

import getpass
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Literal

from fundtrail.errors import InvalidInputError

ROLES = ("reader", "analyst", "admin")  # ordered by rights
ORG_KINDS = ("law-enforcement", "exchange", "bank", "research", "alliance")
Via = Literal["key", "session", "cli", "public", "operator", "system"]


def parse_role(role: str) -> str:
    r = role.strip().lower()
    if r not in ROLES:
        raise InvalidInputError(
            f"unknown role {role!r}; use admin, analyst or reader", field="role"
        )
    return r


def os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (containers)
        return "unknown"


@dataclass(frozen=True, slots=True)
class Identity:
    """An organisation (or the public view, the operator, a system job) with one role.

    ``key_id``, ``user`` and ``session_id`` say through what it came in, ``remote`` from
    where (the client address, proxy headers applied only from trusted proxies): the
    audit log records all of them.
    """

    org_id: str  # "" for the public view, the operator and system jobs
    org_name: str
    org_kind: str  # law-enforcement, exchange, bank, research, alliance; "" outside orgs
    role: str  # reader < analyst < admin
    via: Via
    key_id: str | None = None
    user: str | None = None  # the OS user on the CLI, the system job's name
    session_id: str | None = None
    key_expires: datetime | None = None
    remote: str | None = None

    # -- the kinds of caller ------------------------------------------------------
    @classmethod
    def public(cls) -> Identity:
        """No organisation: sees CLEAR and GREEN only, writes nothing."""
        return cls(org_id="", org_name="", org_kind="", role="reader", via="public")

    @classmethod
    def operator(cls, user: str | None = None) -> Identity:
        """The workspace operator, asked for explicitly (holds the key file)."""
        return cls(
            org_id="", org_name="", org_kind="", role="admin", via="operator",
            user=user or os_user(),
        )  # fmt: skip

    @classmethod
    def system(cls, name: str) -> Identity:
        """A job acting on its own (``"migration"``, ``"demo"``, ``"scheduler"``)."""
        return cls(org_id="", org_name="", org_kind="", role="admin", via="system", user=name)

    # -- what rules ask --------------------------------------------------------------
    @property
    def is_operator(self) -> bool:
        return self.via == "operator"

    @property
    def in_org(self) -> bool:
        return bool(self.org_id)

    @property
    def is_law_enforcement(self) -> bool:
        return self.org_kind == "law-enforcement"

    def has_role(self, role: str) -> bool:
        """At least ``role`` (reader < analyst < admin); the public view has no rights."""
        if self.via == "public":
            return role == "reader"
        return ROLES.index(self.role) >= ROLES.index(role)

    @property
    def actor(self) -> str:
        """The audit log's ``actor`` column: through what this identity came in."""
        if self.key_id:
            return f"key:{self.key_id}"
        if self.via in ("cli", "operator", "system"):
            return f"{self.via}:{self.user or 'unknown'}"
        return self.via

    def describe(self) -> str:
        """For people: "police (analyst key)", "workspace operator (alice)"."""
        if self.via == "operator":
            return f"workspace operator ({self.user})"
        if self.via == "system":
            return f"system job {self.user}"
        if self.via == "public":
            return "public view (no organisation)"
        return f"{self.org_name} ({self.role} {self.via})"

    def at(self, remote: str | None) -> Identity:
        """The same caller, seen from the client address ``remote``."""
        return replace(self, remote=remote)
