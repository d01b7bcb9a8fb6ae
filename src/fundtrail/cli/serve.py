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
        """Serve the web UI, the REST API and TAXII 2.1 (every call but discovery needs a key)."""
        from fundtrail.intelstore.db import open_store
        from fundtrail.server.serving import run
        from fundtrail.settings import get_settings

        settings = get_settings()
        open_store().close()  # migrate once, before workers start
        base = f"http://{host or settings.host}:{port or settings.port}"
        typer.echo(
            f"fundtrail serving {settings.home.resolve()}: web UI {base}/ · REST {base}/api/v1 "
            f"(OpenAPI {base}/openapi.json) · TAXII {base}/taxii2/ — Ctrl-C stops it"
        )
        run(host or settings.host, port or settings.port, workers=workers)
