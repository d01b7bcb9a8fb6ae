"""Retro-screening: past deposits that new intel or new blocks made risky raise alerts.

After each index build, every logged deposit decision is answered again against the
new index, with the receiving org's own view and rules. Where the risk level went up,
that org gets an alert (once per decision and index version) and its webhooks a
signed POST.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from fundtrail.errors import InvalidInputError
from fundtrail.intelstore.audit import Actor, record
from fundtrail.intelstore.db import IntelStore
from fundtrail.intelstore.models import Org
from fundtrail.intelstore.screening import Alert, ScreenDecision, Webhook
from fundtrail.screen.scoring import LEVELS
from fundtrail.screen.service import OrgView, screener
from fundtrail.screen.verdicts import MAX_BATCH, ScreenItem
from fundtrail.screen.webhooks import deliver
from fundtrail.settings import get_settings


def _rank(level: str | None) -> int:
    return LEVELS.index(level) if level in LEVELS else -1


PAGE = MAX_BATCH  # past deposits read per query (keyset pages: no long-held cursor)


def raise_alerts(store: IntelStore, home: Path, *, notify: bool = True) -> list[dict[str, Any]]:
    """Re-screen past deposits against the live index; returns the new alerts.

    Deposits are read as plain column tuples, a page at a time in (org, id) order, and
    each distinct address of an org is answered once per page however many deposits it
    received: an exchange's deposit addresses take many transfers each.
    """
    live = screener(store, home)
    index, _overlay = live.current()
    live.flush()  # decisions of this process still on their way to the store
    with store.read_session() as s:
        orgs = {o.id: o.name for o in s.scalars(sa.select(Org))}
        already = set(
            s.scalars(sa.select(Alert.decision_id).where(Alert.index_version == index.version))
        )
    d = ScreenDecision
    query = (
        sa.select(d.org_id, d.id, d.chain, d.address, d.txid, d.risk)
        .where(d.direction == "deposit", d.index_version != index.version, d.risk != "invalid")
        .order_by(d.org_id, d.id)
        .limit(PAGE)
    )
    created: list[dict[str, Any]] = []
    after: tuple[str, str] | None = None
    while True:
        page_query = query if after is None else query.where(sa.tuple_(d.org_id, d.id) > after)
        with store.read_session() as s:
            page = s.execute(page_query).all()
        if not page:
            break
        after = (page[-1].org_id, page[-1].id)
        by_org: dict[str, list[Any]] = defaultdict(list)
        for row in page:
            if row.id not in already:
                by_org[row.org_id].append(row)
        for org_id, decs in by_org.items():
            created += _rescreen(live, org_id, orgs.get(org_id, ""), decs, index.version)
        if len(page) < PAGE:
            break
    if created:
        with store.session() as s:
            record(
                s,
                "system",
                "alert",
                "alerts",
                None,
                {"alerts": len(created), "index_version": index.version},
            )
            for c in created:
                alert = Alert(**c)
                s.add(alert)
                s.flush()
                c["id"] = alert.id
                c["created"] = alert.created.isoformat()
    if notify and created:
        notify_webhooks(store, created)
    return created


def _rescreen(
    live: Any, org_id: str, org_name: str, decs: list[Any], version: str
) -> list[dict[str, Any]]:
    """Alerts for one org's past deposits (at most a page): each distinct address answered
    once, with the org's own view and rules, against each deposit's earlier risk."""
    distinct = list(dict.fromkeys((r.chain, r.address) for r in decs))
    answers = live.answer(
        [ScreenItem(chain, address, "deposit") for chain, address in distinct],
        OrgView(org_id, org_name),
    )["items"]
    now = dict(zip(distinct, answers, strict=True))
    out: list[dict[str, Any]] = []
    for r in decs:
        a = now[(r.chain, r.address)]
        if a["risk"] is None or _rank(a["risk"]) <= _rank(r.risk):
            continue
        out.append(
            {
                "org_id": org_id,
                "decision_id": r.id,
                "chain": r.chain,
                "address": r.address,
                "txid": r.txid,
                "previous_risk": r.risk,
                "risk": a["risk"],
                "score": a["score"],
                "reasons": a["reasons"],
                "index_version": version,
            }
        )
    return out


def notify_webhooks(store: IntelStore, alerts: list[dict[str, Any]]) -> None:
    allow_private = get_settings().webhook_allow_private
    with store.read_session() as s:
        hooks = s.scalars(sa.select(Webhook).where(Webhook.active.is_(True))).all()
    by_org: dict[str, list[Webhook]] = defaultdict(list)
    for h in hooks:
        by_org[h.org_id].append(h)
    for alert in alerts:
        results = [
            deliver(
                h.url,
                {"type": "fundtrail.alert", "alert": _public(alert)},
                h.secret,
                allow_private=allow_private,
                backoff=0.2,
            )
            for h in by_org.get(alert["org_id"], [])
        ]
        if not results:
            continue
        with store.session() as s:
            row = s.get(Alert, alert["id"])
            if row is None:
                continue
            row.delivery_attempts = sum(r.attempts for r in results)
            failed = [r.error for r in results if not r.ok]
            row.delivery_error = "; ".join(e or "failed" for e in failed)[:500] or None
            if not failed:
                row.delivered = datetime.now(UTC)


def _public(alert: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in alert.items() if k not in ("org_id",)}


def list_alerts(store: IntelStore, org_id: str, *, limit: int = 100) -> list[dict[str, Any]]:
    with store.read_session() as s:
        q = (
            sa.select(Alert)
            .where(Alert.org_id == org_id)
            .order_by(Alert.created.desc())
            .limit(limit)
        )
        return [
            {
                "id": a.id,
                "chain": a.chain,
                "address": a.address,
                "txid": a.txid,
                "previous_risk": a.previous_risk,
                "risk": a.risk,
                "score": a.score,
                "reasons": a.reasons,
                "index_version": a.index_version,
                "created": a.created.isoformat(),
                "delivered": a.delivered.isoformat() if a.delivered else None,
                "delivery_error": a.delivery_error,
            }
            for a in s.scalars(q)
        ]


def add_webhook(
    store: IntelStore, org_id: str, url: str, secret: str, actor: Actor | str | None = None
) -> str:
    from fundtrail.netguard import check_outbound_url

    check_outbound_url(url, allow_private=get_settings().webhook_allow_private)
    if len(secret) < 16:
        raise InvalidInputError("webhook secret must be at least 16 characters", field="secret")
    with store.session() as s:
        hook = Webhook(org_id=org_id, url=url, secret=secret)
        s.add(hook)
        s.flush()
        record(s, actor, "create", "webhook", hook.id, {"url": url})
        return hook.id
