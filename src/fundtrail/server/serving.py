"""Run the app under uvicorn, the one way both `fundtrail serve` and the demo do it."""

from __future__ import annotations


def run(host: str, port: int, *, workers: int = 1) -> None:
    """Serve ``create_app()`` until Ctrl-C.

    Uvicorn's proxy-header handling is off: it trusts ``X-Forwarded-For`` from loopback
    by default, which would let any local caller forge its address in the audit log.
    The app reads those headers itself, from ``FUNDTRAIL_TRUSTED_PROXIES`` only
    (:mod:`fundtrail.server.proxies`).
    """
    import uvicorn

    uvicorn.run(
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
