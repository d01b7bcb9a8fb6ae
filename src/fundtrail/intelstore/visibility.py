"""The SQL twin of :func:`fundtrail.model.tlp.may_see`: one WHERE clause for every read.

Every query that returns, counts or pages indicators (and sightings, via their
indicator) adds ``visible_to(org_id)``; an object it filters out is answered
exactly like a missing one. ``tlp_visible`` is the generic form for other tables
that carry an owner, a TLP and a distribution list.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import BindParameter, ColumnElement

from fundtrail.intelstore.models import Indicator, IndicatorShare
from fundtrail.model.tlp import TLP

Viewer = str | BindParameter[str]
_EVERYONE = (TLP.CLEAR.value, TLP.GREEN.value)
_LISTED = (TLP.AMBER.value, TLP.RED.value)


def tlp_visible(
    org_id: Viewer, *, owner: Any, tlp: Any, shared_with: ColumnElement[bool]
) -> ColumnElement[bool]:
    """Owner sees all; CLEAR/GREEN everyone; AMBER/RED listed orgs; AMBER+STRICT owner only.

    ``shared_with`` is a boolean SQL expression: "org_id is on this row's list".
    """
    return sa.or_(
        owner == org_id,
        tlp.in_(_EVERYONE),
        sa.and_(tlp.in_(_LISTED), shared_with),
    )


def visible_to(org_id: Viewer) -> ColumnElement[bool]:
    """WHERE clause: the indicators ``org_id`` may see.

    ``org_id`` may be a ``sa.bindparam`` so a hot query is built once and reused.
    """
    listed = (
        sa.select(IndicatorShare.indicator_id)
        .where(IndicatorShare.indicator_id == Indicator.id, IndicatorShare.org_id == org_id)
        .exists()
    )
    return tlp_visible(org_id, owner=Indicator.org_id, tlp=Indicator.tlp, shared_with=listed)
