"""Traffic Light Protocol 2.0 levels and who may see what.

CLEAR, GREEN: every alliance member. AMBER: the owning org and the orgs it is shared
with. AMBER+STRICT: the owning org only. RED: the named recipients only (and, of
course, the owner who wrote it).
"""

from __future__ import annotations

from enum import StrEnum

from fundtrail.errors import InvalidInputError


class TLP(StrEnum):
    CLEAR = "clear"
    GREEN = "green"
    AMBER = "amber"
    AMBER_STRICT = "amber+strict"
    RED = "red"

    @property
    def rank(self) -> int:
        return _RANK[self]

    @classmethod
    def parse(cls, text: str) -> TLP:
        key = str(text).strip().lower().removeprefix("tlp:").replace(" ", "")
        key = {
            "white": "clear",
            "amber-strict": "amber+strict",
            "amber_strict": "amber+strict",
        }.get(key, key)
        try:
            return cls(key)
        except ValueError:
            raise InvalidInputError(
                f"unknown TLP level {text!r}; use clear, green, amber, amber+strict or red",
                field="tlp",
            ) from None


_RANK = {TLP.CLEAR: 0, TLP.GREEN: 1, TLP.AMBER: 2, TLP.AMBER_STRICT: 3, TLP.RED: 4}


def may_see(
    tlp: TLP, *, owner_org: str, viewer_org: str, shared_with: frozenset[str] | set[str]
) -> bool:
    """The one rule of visibility; every read path must go through it (or its SQL twin)."""
    if viewer_org == owner_org:
        return True
    if tlp in (TLP.CLEAR, TLP.GREEN):
        return True
    if tlp in (TLP.AMBER, TLP.RED):
        return viewer_org in shared_with
    return False  # AMBER+STRICT: owner only
