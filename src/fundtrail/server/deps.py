"""Dependencies route modules share: the store, settings, services, the caller's address.

They are ``async`` because they do no I/O: FastAPI would run a plain ``def`` dependency
in a worker thread, one hop per dependency per request.
"""

from __future__ import annotations

from fastapi import Request

from fundtrail.intel.indicators import IndicatorService
from fundtrail.intelstore.db import IntelStore
from fundtrail.settings import Settings


async def get_store(request: Request) -> IntelStore:
    store: IntelStore = request.app.state.store
    return store


async def get_app_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def indicator_service(request: Request) -> IndicatorService:
    service: IndicatorService = request.app.state.indicators
    return service


async def remote_addr(request: Request) -> str | None:
    """The client's address as the gatekeeper decided it (trusted proxies only)."""
    remote = request.scope.get("state", {}).get("remote")
    return remote if isinstance(remote, str) else None
