"""Money-flow graphs saved into a campaign (and so into its case), and reopened.

Whoever may see the campaign may save and read its graphs (the rule of
:func:`fundtrail.cases.campaigns.get_campaign`: anyone else gets 404, like a missing
campaign); each save is an audited write.
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa

from fundtrail.cases.campaigns import get_campaign
from fundtrail.errors import InvalidInputError, NotFoundError
from fundtrail.intelstore import audit
from fundtrail.intelstore.db import IntelStore
from fundtrail.intelstore.graphs import CampaignGraph
from fundtrail.model.display import time_utc
from fundtrail.model.identity import Identity

MAX_GRAPH_BYTES = 2_000_000
MAX_NAME = 200


def save_graph(
    store: IntelStore,
    campaign_id: str,
    name: str,
    graph: dict[str, Any],
    *,
    viewer: Identity,
    actor: Any = None,
    remote: str | None = None,
) -> dict[str, Any]:
    """Store ``graph`` (the canvas JSON) with the campaign; returns its summary."""
    name = (name or "").strip()
    if not name or len(name) > MAX_NAME:
        raise InvalidInputError(f"name must be 1 to {MAX_NAME} characters", field="name")
    if not isinstance(graph, dict) or not isinstance(graph.get("nodes"), list):
        raise InvalidInputError("graph must be an object with a list of nodes", field="graph")
    size = len(json.dumps(graph))
    if size > MAX_GRAPH_BYTES:
        raise InvalidInputError(
            f"graph is {size:,} bytes; at most {MAX_GRAPH_BYTES:,}", field="graph"
        )
    with store.session() as s:
        view = get_campaign(s, campaign_id, viewer)
        row = CampaignGraph(
            campaign_id=view.id, org_id=viewer.org_id or None, name=name, body=graph
        )
        s.add(row)
        s.flush()
        audit.record(s, actor, "graph.save", "campaign_graph", row.id,
                     {"campaign": view.id, "name": name}, remote)  # fmt: skip
        return _summary(row, viewer)


def list_graphs(store: IntelStore, campaign_id: str, *, viewer: Identity) -> list[dict[str, Any]]:
    with store.read_session() as s:
        view = get_campaign(s, campaign_id, viewer)
        rows = s.scalars(
            sa.select(CampaignGraph)
            .where(CampaignGraph.campaign_id == view.id)
            .order_by(CampaignGraph.created.desc())
        ).all()
        return [_summary(r, viewer) for r in rows]


def get_graph(
    store: IntelStore, campaign_id: str, graph_id: str, *, viewer: Identity
) -> dict[str, Any]:
    with store.read_session() as s:
        view = get_campaign(s, campaign_id, viewer)
        row = s.get(CampaignGraph, graph_id)
        if row is None or row.campaign_id != view.id:
            raise NotFoundError(f"no graph {graph_id!r} in campaign {view.id}")
        return _summary(row, viewer) | {"graph": row.body}


def _summary(row: CampaignGraph, viewer: Identity) -> dict[str, Any]:
    return {
        "id": row.id,
        "campaign": row.campaign_id,
        "name": row.name,
        "created": time_utc(row.created),
        "mine": row.org_id == viewer.org_id,
    }
