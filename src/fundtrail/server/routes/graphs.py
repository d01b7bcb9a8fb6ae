"""REST for saved money-flow graphs of a campaign: save, list, read (the canvas's Save)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field

from fundtrail.cases.graphs import get_graph, list_graphs, save_graph
from fundtrail.intelstore.db import IntelStore
from fundtrail.model.identity import Identity
from fundtrail.server.auth import require_identity, require_role
from fundtrail.server.deps import get_store, remote_addr
from fundtrail.server.schemas import ERROR_RESPONSES

router = APIRouter(prefix="/api/v1", tags=["campaigns"], responses=ERROR_RESPONSES)


class GraphIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(..., max_length=200, description="what the analyst calls this view")
    graph: dict[str, Any] = Field(..., description="the canvas JSON (nodes, edges, positions)")


@router.post("/campaigns/{campaign_id}/graphs", status_code=201)
def add_graph(
    campaign_id: str,
    body: GraphIn,
    who: Identity = Depends(require_role("analyst")),
    store: IntelStore = Depends(get_store),
    remote: str | None = Depends(remote_addr),
) -> dict[str, Any]:
    """Save a money-flow graph (the canvas as arranged) into the campaign and its case."""
    return save_graph(store, campaign_id, body.name, body.graph, viewer=who, actor=who,
                      remote=remote)  # fmt: skip


@router.get("/campaigns/{campaign_id}/graphs")
def graphs(
    campaign_id: str,
    who: Identity = Depends(require_identity),
    store: IntelStore = Depends(get_store),
) -> list[dict[str, Any]]:
    """The campaign's saved graphs, newest first."""
    return list_graphs(store, campaign_id, viewer=who)


@router.get("/campaigns/{campaign_id}/graphs/{graph_id}")
def graph(
    campaign_id: str,
    graph_id: str,
    who: Identity = Depends(require_identity),
    store: IntelStore = Depends(get_store),
) -> dict[str, Any]:
    """One saved graph with its canvas JSON, to reopen it."""
    return get_graph(store, campaign_id, graph_id, viewer=who)
