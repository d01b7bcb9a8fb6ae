"""Screening as a service: answer, log the decision, apply the org's rules.

The index answers without touching a database; the decision log and the org's rules
live in the intel store (one small read, one bulk insert per request).
"""

from __future__ import annotations

import os
import threading
import time
import weakref
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import numpy as np
import sqlalchemy as sa

from fundtrail.errors import InvalidInputError
from fundtrail.intelstore.audit import Actor, record
from fundtrail.intelstore.base import new_id
from fundtrail.intelstore.db import IntelStore
from fundtrail.intelstore.screening import ScreenDecision, ScreenRuleSet
from fundtrail.screen.index import IndexCache
from fundtrail.screen.scoring import Rules
from fundtrail.screen.verdicts import MAX_BATCH, ScreenItem, answer

_CACHES: dict[Path, IndexCache] = {}


def index_cache(home: Path) -> IndexCache:
    key = Path(home).resolve()
    if key not in _CACHES:
        _CACHES[key] = IndexCache(key)
    return _CACHES[key]


def parse_request(body: Any) -> list[ScreenItem]:
    """One address, one transfer, or ``{"items": [...]}`` of up to 10,000."""
    if not isinstance(body, dict):
        raise InvalidInputError("request body must be a JSON object", field="body")
    if "items" in body:
        items = body["items"]
        if not isinstance(items, list) or not items:
            raise InvalidInputError("items must be a non-empty list", field="items")
        if len(items) > MAX_BATCH:
            raise InvalidInputError(
                f"a batch holds at most {MAX_BATCH} items; got {len(items)}", field="items"
            )
        return [ScreenItem.from_dict(it, i) for i, it in enumerate(items)]
    return [ScreenItem.from_dict(body)]


# (store, org id) -> (read at, rules): a burst of single screens reads the rules once;
# a change in this process applies at once, one made by another worker within the TTL
RULES_TTL_S = 1.0
_RULES: weakref.WeakKeyDictionary[IntelStore, dict[str, tuple[float, Rules]]] = (
    weakref.WeakKeyDictionary()
)


def get_rules(store: IntelStore, org_id: str) -> Rules:
    cache = _RULES.setdefault(store, {})
    hit = cache.get(org_id)
    if hit is not None and time.monotonic() - hit[0] < RULES_TTL_S:
        return hit[1]
    with store.read_session() as s:
        row = s.get(ScreenRuleSet, org_id)
        rules = Rules.from_dict(row.rules if row else None)
    if len(cache) > 10_000:
        cache.clear()
    cache[org_id] = (time.monotonic(), rules)
    return rules


def set_rules(
    store: IntelStore, org_id: str, data: dict[str, Any], actor: Actor | str | None = None
) -> Rules:
    rules = Rules.from_dict(data)  # validates
    with store.session() as s:
        record(s, actor, "update", "screen_rules", org_id, rules.to_dict())
        row = s.get(ScreenRuleSet, org_id)
        if row is None:
            s.add(ScreenRuleSet(org_id=org_id, rules=rules.to_dict()))
        else:
            row.rules = rules.to_dict()
            row.modified = datetime.now(UTC)
    _RULES.clear()
    return rules


def screen(
    store: IntelStore,
    home: Path,
    items: list[ScreenItem],
    *,
    org_id: str,
    org_name: str,
    key_id: str | None = None,
    log: bool = True,
    actor: Actor | str | None = None,
    remote: str | None = None,
) -> dict[str, Any]:
    index = index_cache(home).get()
    rules = get_rules(store, org_id)
    answers = answer(index, items, viewer_org=org_name, rules=rules)
    if log:
        rows = _rows(answers, items, org_id=org_id, key_id=key_id, version=index.version)
        audit = {
            "items": len(rows),
            "index_version": index.version,
            "risky": sum(1 for r in rows if r["risk"] not in ("none", "invalid")),
        }
        _decision_log(store).write(rows, audit, actor, remote)
    return {"index_version": index.version, "items": answers}


_INSERT_DECISIONS = sa.insert(cast(sa.Table, ScreenDecision.__table__))


class _DecisionLog:
    """Group commit of screening decisions: concurrent requests share one transaction.

    Each request queues its rows and its audit entry, then waits for the write turn;
    whoever gets the turn commits everything queued so far (its own and any that
    arrived while the previous transaction ran). Every request still returns only
    after its own rows and audit row are committed, with the same rows as one
    transaction each, but a burst of single screens pays one commit, not one each.
    """

    def __init__(self, store: IntelStore) -> None:
        self.store = store
        self._queue: list[_Pending] = []
        self._queue_lock = threading.Lock()
        self._turn = threading.Lock()

    def write(
        self,
        rows: list[dict[str, Any]],
        audit: dict[str, Any],
        actor: Actor | str | None,
        remote: str | None,
    ) -> None:
        job = _Pending(rows, audit, actor, remote)
        with self._queue_lock:
            self._queue.append(job)
        with self._turn:
            if not job.done:
                with self._queue_lock:
                    batch, self._queue = self._queue, []
                self._commit(batch)
        if job.error is not None:
            raise job.error

    def _commit(self, batch: list[_Pending]) -> None:
        try:
            with self.store.session() as s:
                con = s.connection()
                rows = [r for job in batch for r in job.rows]
                # core executemany (one statement for all), not the ORM's bulk path
                con.execute(_INSERT_DECISIONS, rows)
                for job in batch:
                    record(s, job.actor, "screen", "screen_decisions", None, job.audit, job.remote)
        except BaseException as exc:  # every request of the batch learns it was not logged
            for job in batch:
                job.error = exc
        finally:
            for job in batch:
                job.done = True


@dataclass(slots=True)
class _Pending:
    rows: list[dict[str, Any]]
    audit: dict[str, Any]
    actor: Actor | str | None
    remote: str | None
    done: bool = False
    error: BaseException | None = None


_LOGS: weakref.WeakKeyDictionary[IntelStore, _DecisionLog] = weakref.WeakKeyDictionary()
_LOGS_LOCK = threading.Lock()


def _decision_log(store: IntelStore) -> _DecisionLog:
    with _LOGS_LOCK:
        log = _LOGS.get(store)
        if log is None:
            log = _LOGS[store] = _DecisionLog(store)
        return log


def _rows(
    answers: list[dict[str, Any]],
    items: list[ScreenItem],
    *,
    org_id: str,
    key_id: str | None,
    version: str,
) -> list[dict[str, Any]]:
    now = datetime.now(UTC)
    return [
        {
            "id": row_id,
            "org_id": org_id,
            "key_id": key_id,
            "chain": item.chain,
            "address": a.get("normalised") or item.address[:128],
            "direction": item.direction,
            "amount": str(item.amount) if item.amount is not None else None,
            "asset": item.asset,
            "txid": item.txid,
            "risk": a["risk"] or "invalid",
            "score": a["score"] or 0,
            "reasons": a["reasons"],
            "index_version": version,
            "created": now,
        }
        for a, item, row_id in zip(answers, items, _uuid4s(len(items)), strict=True)
    ]


def _uuid4s(n: int) -> list[str]:
    """``n`` random UUID4 texts, as ``new_id`` makes them, without a UUID object each."""
    if n == 1:
        return [new_id()]
    raw = np.frombuffer(os.urandom(16 * n), dtype=np.uint8).reshape(n, 16).copy()
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x40  # version 4
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80  # RFC 4122 variant
    h = raw.tobytes().hex()
    return [
        f"{h[i : i + 8]}-{h[i + 8 : i + 12]}-{h[i + 12 : i + 16]}-{h[i + 16 : i + 20]}-"
        f"{h[i + 20 : i + 32]}"
        for i in range(0, 32 * n, 32)
    ]


def decisions(
    store: IntelStore, org_id: str, *, limit: int = 100, address: str | None = None
) -> list[dict[str, Any]]:
    with store.read_session() as s:
        q = sa.select(ScreenDecision).where(ScreenDecision.org_id == org_id)
        if address:
            q = q.where(ScreenDecision.address == address)
        q = q.order_by(ScreenDecision.created.desc()).limit(limit)
        return [
            {
                "id": d.id,
                "chain": d.chain,
                "address": d.address,
                "direction": d.direction,
                "amount": int(d.amount) if d.amount else None,
                "asset": d.asset,
                "txid": d.txid,
                "risk": d.risk,
                "score": d.score,
                "index_version": d.index_version,
                "created": d.created.isoformat(),
            }
            for d in s.scalars(q)
        ]


def purge_decisions(store: IntelStore, *, older_than_days: int) -> int:
    """Apply the retention period: delete decisions older than N days. Returns the count."""
    if older_than_days < 1:
        raise InvalidInputError("retention must be at least one day", field="days")
    cutoff = datetime.now(UTC) - timedelta(days=older_than_days)
    with store.session() as s:
        result = s.execute(sa.delete(ScreenDecision).where(ScreenDecision.created < cutoff))
        n = int(getattr(result, "rowcount", 0) or 0)
        record(
            s,
            "system",
            "purge",
            "screen_decisions",
            None,
            {"older_than_days": older_than_days, "deleted": n},
        )
        return n
