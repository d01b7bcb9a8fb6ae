"""REST for campaigns: list and read what the caller's org may see; open and share a case.

An org sees a campaign when it reported one of its complaints or is on its case;
victims' personal data only for its own complaints or as a case member. Anything
else answers 404, exactly like a missing campaign.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, BackgroundTasks, Depends
from pydantic import BaseModel, ConfigDict, Field

from fundtrail.cases.campaigns import get_campaign, list_campaigns, open_case, read_campaign
from fundtrail.cases.freezing import campaign_freeze
from fundtrail.cases.relink import SCHEDULER
from fundtrail.errors import PermissionDeniedError
from fundtrail.intelstore.db import IntelStore
from fundtrail.model.identity import Identity
from fundtrail.server.auth import require_identity, require_role
from fundtrail.server.deps import get_app_settings, get_store, remote_addr
from fundtrail.server.schemas import ERROR_RESPONSES
from fundtrail.settings import Settings

router = APIRouter(prefix="/api/v1", tags=["campaigns"], responses=ERROR_RESPONSES)


class CaseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    share_with: list[str] = Field(default_factory=list, max_length=100, description="org names")
    accept: list[str] = Field(
        default_factory=list, max_length=5000,
        description="ids of pending complaints (other orgs') the lead accepts into the case",
    )  # fmt: skip


@router.get("/campaigns")
def campaigns(
    tasks: BackgroundTasks,
    who: Identity = Depends(require_identity),
    store: IntelStore = Depends(get_store),
    settings: Settings = Depends(get_app_settings),
) -> list[dict[str, Any]]:
    """Campaigns the caller's org may see (no personal data in this list).

    A campaign computed from older inputs says so (``stale``) and is brought up to date
    in the background; the next read shows the current one."""
    with store.read_session() as s:
        views = list_campaigns(s, who, home=settings.home)
    if any(v.stale for v in views):
        tasks.add_task(SCHEDULER.refresh, store, settings.home)
    return [v.summary() for v in views]


@router.get("/campaigns/{campaign_id}")
def campaign(
    campaign_id: str,
    tasks: BackgroundTasks,
    who: Identity = Depends(require_identity),
    store: IntelStore = Depends(get_store),
    settings: Settings = Depends(get_app_settings),
) -> dict[str, Any]:
    """One campaign with its payments; victims' data only where the caller may see it."""
    view = read_campaign(store, campaign_id, who, home=settings.home)
    if view.stale:
        tasks.add_task(SCHEDULER.refresh, store, settings.home)
    return view.to_dict()


@router.get("/campaigns/{campaign_id}/freeze")
def freeze(
    campaign_id: str,
    who: Identity = Depends(require_identity),
    store: IntelStore = Depends(get_store),
    settings: Settings = Depends(get_app_settings),
) -> dict[str, Any]:
    """The campaign's freeze plan: requested deposits per exchange with their evidence
    (traced amount, share of the loss, what the address received, FIFO beside haircut,
    confidence), and what was left out and why. Traces the campaign now."""
    _traced, plan = campaign_freeze(store, campaign_id, viewer=who, home=settings.home)
    return plan.to_dict()


@router.post("/campaigns/{campaign_id}/case", status_code=201)
def take_case(
    campaign_id: str,
    body: CaseIn,
    who: Identity = Depends(require_role("analyst")),
    store: IntelStore = Depends(get_store),
    settings: Settings = Depends(get_app_settings),
    remote: str | None = Depends(remote_addr),
) -> dict[str, Any]:
    """Open the campaign's case (led by the caller's org if new), add orgs to it, and
    accept pending complaints into it (``accept``: only these count once the case is open).

    Cases are led by law-enforcement organisations: they decide who else may see the
    victims' personal data.
    """
    if not who.is_law_enforcement:
        raise PermissionDeniedError("only a law-enforcement organisation may lead a case")
    with store.session() as s:
        view = get_campaign(s, campaign_id, who, home=settings.home)
        case = open_case(s, view.id, owner=who.org_name, share_with=body.share_with,
                         accept=body.accept, actor=who, remote=remote)  # fmt: skip
        return {"campaign": view.id, "case_reference": case.reference}
