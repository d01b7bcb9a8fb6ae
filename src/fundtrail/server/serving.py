"""Run the app under uvicorn, the one way both `fundtrail serve` and the demo do it."""

from __future__ import annotations

from typing import Any


def serving_app() -> Any:
    """``create_app()`` for a serving process, then the start-up heap frozen.

    Everything built at start-up (modules, the app, SQLAlchemy's registries: ~200,000
    objects) lives as long as the process, yet every full garbage collection walked it
    again: on this VM a pause of 0.2-1 s in the middle of serving (measured with
    ``gc.callbacks`` under paced load), the whole p99. ``gc.freeze()`` moves those objects
    out of the collector's view; what requests create is collected as before.
    """
    import gc

    from fundtrail.server.app import create_app

    app = create_app()
    gc.collect()
    gc.freeze()
    return app


def config(
    host: str, port: int, *, workers: int = 1, factory: str = "fundtrail.server.app:create_app"
) -> Any:
    """The uvicorn configuration of ``create_app()`` (a ``uvicorn.Config``).

    Uvicorn's proxy-header handling is off: it trusts ``X-Forwarded-For`` from loopback
    by default, which would let any local caller forge its address in the audit log.
    The app reads those headers itself, from ``FUNDTRAIL_TRUSTED_PROXIES`` only
    (:mod:`fundtrail.server.proxies`).
    """
    import uvicorn

    return uvicorn.Config(
        factory,
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="warning",
        access_log=False,
        proxy_headers=False,
        server_header=False,
    )


def run(host: str, port: int, *, workers: int = 1) -> None:
    """Serve ``create_app()`` until Ctrl-C."""
    import uvicorn

    cfg = config(host, port, workers=workers, factory="fundtrail.server.serving:serving_app")
    if workers > 1:
        uvicorn.run(cfg.app, **{k: getattr(cfg, k) for k in _RUN_OPTIONS})
    else:
        uvicorn.Server(cfg).run()


_RUN_OPTIONS = (
    "factory", "host", "port", "workers", "log_level", "access_log", "proxy_headers",
    "server_header",
)  # fmt: skip
