"""Traffic Light Protocol 2.0 levels and who may see what on the hub.

On the hub the source (the owning org) names its recipients with a share list, and
TLP says what those recipients may do with it (FIRST, TLP 2.0):

- CLEAR, GREEN: every alliance member (GREEN: the community, not the public).
- AMBER: the orgs on the share list, which may pass it on to their own clients on a
  need-to-know basis.
- AMBER+STRICT: the orgs on the share list, *within their own organisation only*
  (no clients). With an empty share list it stays with the owner.
- RED: the named recipients only, for their eyes only.

The hub shows AMBER, AMBER+STRICT and RED to the owner and to listed orgs alike;
what differs is the handling the recipient must apply, which every answer carries
(:data:`HANDLING`). Reads of these three levels are audited (:data:`AUDITED_READS`).
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

EVERYONE = frozenset({TLP.CLEAR, TLP.GREEN})  # every alliance member may see these
LISTED = frozenset({TLP.AMBER, TLP.AMBER_STRICT, TLP.RED})  # owner and share list only
AUDITED_READS = LISTED  # a read of these levels leaves an audit row (the one list)

HANDLING = {
    TLP.CLEAR: "no limit on disclosure",
    TLP.GREEN: "the alliance community; not to be published",
    TLP.AMBER: "the recipient organisation and its clients, on a need-to-know basis",
    TLP.AMBER_STRICT: "the recipient organisation only; not to its clients",
    TLP.RED: "the named recipients only; not to be shared further",
}


def stricter(a: TLP, b: TLP) -> TLP:
    """The stricter of two markings: a default never loosens what a source marked."""
    return a if a.rank >= b.rank else b


def may_see(
    tlp: TLP, *, owner_org: str, viewer_org: str, shared_with: frozenset[str] | set[str]
) -> bool:
    """The one rule of visibility; every read path must go through it (or its SQL twin)."""
    if viewer_org and viewer_org == owner_org:
        return True
    if tlp in EVERYONE:
        return True
    return bool(viewer_org) and viewer_org in shared_with
