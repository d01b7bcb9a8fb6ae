"""The SQL twin of :func:`fundtrail.model.tlp.may_see`: one WHERE clause for every read.

Every query that returns, counts or pages indicators (and sightings, via their
indicator) adds ``visible_to(who)``; an object it filters out is answered exactly
like a missing one. ``tlp_visible`` is the generic form for other tables that carry
an owner, a TLP and a distribution list.

An identity outside every organisation (the public view, the workspace operator, a
system job) sees CLEAR and GREEN only: TLP marks what one organisation shared with
others, and holding the workspace's key file does not make anyone a recipient.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import BindParameter, ColumnElement

from fundtrail.intelstore.models import Indicator, IndicatorShare
from fundtrail.model.identity import Identity
from fundtrail.model.tlp import EVERYONE, LISTED

Viewer = Identity | str | BindParameter[str]  # an identity, an org id, or a bound org id
_EVERYONE = tuple(sorted(t.value for t in EVERYONE))
_LISTED = tuple(sorted(t.value for t in LISTED))


def _org_id(viewer: Viewer) -> str | BindParameter[str]:
    """The org id to match; "" (no org) matches no owner and no share list."""
    return viewer.org_id if isinstance(viewer, Identity) else viewer


def tlp_visible(
    viewer: Viewer, *, owner: Any, tlp: Any, shared_with: ColumnElement[bool]
) -> ColumnElement[bool]:
    """Owner sees all; CLEAR/GREEN everyone; AMBER, AMBER+STRICT, RED the listed orgs.

    ``shared_with`` is a boolean SQL expression: "org_id is on this row's list".
    """
    org_id = _org_id(viewer)
    if isinstance(org_id, str) and not org_id:
        return tlp.in_(_EVERYONE)  # type: ignore[no-any-return]
    return sa.or_(
        owner == org_id,
        tlp.in_(_EVERYONE),
        sa.and_(tlp.in_(_LISTED), shared_with),
    )


def visible_to(viewer: Viewer) -> ColumnElement[bool]:
    """WHERE clause: the indicators ``viewer`` may see.

    ``viewer`` is an :class:`Identity`, an org id, or a ``sa.bindparam`` so a hot query is
    built once and reused.
    """
    org_id = _org_id(viewer)
    listed = (
        sa.select(IndicatorShare.indicator_id)
        .where(IndicatorShare.indicator_id == Indicator.id, IndicatorShare.org_id == org_id)
        .exists()
    )
    return tlp_visible(viewer, owner=Indicator.org_id, tlp=Indicator.tlp, shared_with=listed)
