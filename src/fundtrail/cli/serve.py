"""`fundtrail serve`: the REST API (and every mounted route module) over uvicorn."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    @app.command()
    def serve(
        host: str | None = typer.Option(None, help="Address to bind (default 127.0.0.1)."),
        port: int | None = typer.Option(None, help="Port (default 8000)."),
        workers: int = typer.Option(1, help="Worker processes."),
    ) -> None:
        """Serve the intel hub's HTTP API (every call but TAXII discovery needs a key)."""
        import uvicorn

        from fundtrail.intelstore.db import open_store
        from fundtrail.settings import get_settings

        settings = get_settings()
        open_store().close()  # migrate once, before workers start
        uvicorn.run(
            "fundtrail.server.app:create_app",
            factory=True,
            host=host or settings.host,
            port=port or settings.port,
            workers=workers,
            log_level="warning",
            access_log=False,
        )
