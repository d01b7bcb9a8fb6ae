"""Dependencies route modules share: the store, settings, services, the caller's address."""

from __future__ import annotations

from fastapi import Request

from fundtrail.intel.indicators import IndicatorService
from fundtrail.intelstore.db import IntelStore
from fundtrail.settings import Settings


def get_store(request: Request) -> IntelStore:
    store: IntelStore = request.app.state.store
    return store


def get_app_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def indicator_service(request: Request) -> IndicatorService:
    service: IndicatorService = request.app.state.indicators
    return service


def remote_addr(request: Request) -> str | None:
    return request.client.host if request.client else None
