"""Every request reads the chain stores through the app's kept snapshot connections."""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from fundtrail.chainstore.snapshots import SnapshotConnections, reading_from


class KeepSnapshots:
    """Pure ASGI (no buffering): sets the app's :class:`SnapshotConnections` for the
    request; the endpoint's worker thread inherits it with the request's context."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.cache = SnapshotConnections()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        with reading_from(self.cache):
            await self.app(scope, receive, send)
