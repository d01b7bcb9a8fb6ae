"""Run the app under uvicorn, the one way both `fundtrail serve` and the demo do it."""

from __future__ import annotations

from typing import Any


def config(host: str, port: int, *, workers: int = 1) -> Any:
    """The uvicorn configuration of ``create_app()`` (a ``uvicorn.Config``).

    Uvicorn's proxy-header handling is off: it trusts ``X-Forwarded-For`` from loopback
    by default, which would let any local caller forge its address in the audit log.
    The app reads those headers itself, from ``FUNDTRAIL_TRUSTED_PROXIES`` only
    (:mod:`fundtrail.server.proxies`).
    """
    import uvicorn

    return uvicorn.Config(
        "fundtrail.server.app:create_app",
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

    cfg = config(host, port, workers=workers)
    if workers > 1:
        uvicorn.run(cfg.app, **{k: getattr(cfg, k) for k in _RUN_OPTIONS})
    else:
        uvicorn.Server(cfg).run()


_RUN_OPTIONS = (
    "factory", "host", "port", "workers", "log_level", "access_log", "proxy_headers",
    "server_header",
)  # fmt: skip
