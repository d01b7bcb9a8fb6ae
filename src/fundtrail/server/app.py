"""The HTTP server: ``create_app()`` builds the FastAPI app over an intel store.

Routes are discovered: every module of :mod:`fundtrail.server.routes` exposing
``router`` is included, so other parts add a file and nothing else.
"""

from __future__ import annotations

import importlib
import pkgutil

from fastapi import APIRouter, FastAPI

from fundtrail import __version__
from fundtrail.errors import FundtrailError
from fundtrail.intel.indicators import IndicatorService
from fundtrail.intelstore.db import IntelStore, open_store
from fundtrail.screen.service import screener
from fundtrail.server import errors
from fundtrail.server.auth import Gatekeeper
from fundtrail.server.headers import SecurityHeaders
from fundtrail.server.proxies import TrustedProxies
from fundtrail.server.routes.screen import ScreenFastPath
from fundtrail.server.snapshots import KeepSnapshots
from fundtrail.settings import Settings, get_settings


def route_modules() -> list[str]:
    import fundtrail.server.routes as pkg

    return sorted(f"{pkg.__name__}.{m.name}" for m in pkgutil.iter_modules(pkg.__path__))


def create_app(store: IntelStore | None = None, settings: Settings | None = None) -> FastAPI:
    """A ready app: store opened (and migrated) if not given, every route module mounted."""
    settings = settings or get_settings()
    store = store or open_store(settings.intel_url)
    app = FastAPI(
        title="fundtrail",
        version=__version__,
        description="Crypto-crime intelligence hub of the alliance. Every call needs an "
        "organisation's API key (Authorization: Bearer KEY).",
    )
    app.state.store = store
    app.state.settings = settings
    app.state.indicators = IndicatorService(store)
    errors.install(app)
    for name in route_modules():
        try:
            module = importlib.import_module(name)
        except Exception as exc:  # a broken module must say which one it is
            raise FundtrailError(
                f"route module {name} failed to load: {type(exc).__name__}: {exc}"
            ) from exc
        router = getattr(module, "router", None)
        if isinstance(router, APIRouter):
            app.include_router(router)
    app.add_middleware(ScreenFastPath)  # inside the gatekeeper: keys are checked first
    app.add_middleware(KeepSnapshots)  # chain reads reuse one DuckDB connection per snapshot
    app.add_middleware(
        Gatekeeper,
        store=store,
        max_body_bytes=settings.max_body_bytes,
        proxies=TrustedProxies.parse(settings.trusted_proxies),
    )
    # screening's per-process state and its background work (rebuilds, decision drain)
    app.state.screener = screener(store, settings.home, background=settings.screen_background)
    app.add_middleware(SecurityHeaders)  # outermost: the gatekeeper's refusals carry it too
    return app
