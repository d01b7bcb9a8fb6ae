"""Signed webhooks about requests: the alert webhook machinery, with its guards.

The addressee's webhooks hear of a new request and of a withdrawal, the requester's of
an answer or a refusal. The body names the request and its state, never its deposits:
a receiver reads those through the API with its own key. Each delivery is one audit row
(``request.notify``) with what happened.
"""

from __future__ import annotations

import threading
from typing import Any

import sqlalchemy as sa

from fundtrail.intelstore import audit
from fundtrail.intelstore.db import IntelStore
from fundtrail.intelstore.screening import Webhook
from fundtrail.screen.webhooks import deliver
from fundtrail.settings import get_settings

_FIELDS = (
    "id",
    "kind",
    "state",
    "from",
    "to",
    "campaign",
    "case_reference",
    "reference",
    "deadline",
    "due",
    "deposits_count",
    "totals",
)


def payload(event: str, request: dict[str, Any]) -> dict[str, Any]:
    return {"type": f"fundtrail.{event}", "request": {k: request.get(k) for k in _FIELDS}}


def notify_org(
    store: IntelStore, org_id: str, event: str, request: dict[str, Any], *, background: bool
) -> threading.Thread | None:
    """POST ``event`` to every active webhook of ``org_id``; with ``background`` (the
    server) in a thread, returned; else (the CLI) before returning."""
    with store.read_session() as s:
        hooks = [
            (h.id, h.url, h.secret)
            for h in s.scalars(
                sa.select(Webhook).where(Webhook.org_id == org_id, Webhook.active.is_(True))
            )
        ]
    if not hooks:
        return None
    body = payload(event, request)
    allow_private = get_settings().webhook_allow_private

    def run() -> None:
        for hook_id, url, secret in hooks:
            try:
                result = deliver(
                    url, body, secret, allow_private=allow_private, backoff=0.2, retries=2
                )
                details = {
                    "webhook": hook_id,
                    "event": event,
                    "ok": result.ok,
                    "attempts": result.attempts,
                    "status": result.status,
                    "error": result.error,
                }
            except Exception as exc:  # a refused URL must not break the request itself
                details = {"webhook": hook_id, "event": event, "ok": False, "error": str(exc)}
            with store.session() as s:
                audit.record(
                    s, "webhook", "request.notify", "partner_request", request["id"], details
                )

    if background:
        thread = threading.Thread(target=run, name="request-webhooks", daemon=True)
        thread.start()
        return thread
    run()
    return None
