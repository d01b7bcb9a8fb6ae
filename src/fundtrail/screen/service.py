"""Screening as a service: answer from the live index, log the decision, apply org rules.

One :class:`Screener` per process and workspace holds what an answer needs: the
memory-mapped index, the intel overlay (current rights), each org's rules, the freshness
check and the durable decision log. After warm-up a request touches no database: the
index is a file mapping, the overlay and the rules are refreshed only when the intel
store's change signal moved (one integer compared), freshness is a few ``stat`` calls,
and the decision goes to the local log (:mod:`fundtrail.screen.decisionlog`) whose
flush the answer waits for; a background thread drains it into the intel store.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import time
import weakref
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

import anyio
import sqlalchemy as sa

from fundtrail.errors import InvalidInputError, UnavailableError
from fundtrail.intelstore.audit import Actor, record
from fundtrail.intelstore.base import new_id
from fundtrail.intelstore.db import IntelStore
from fundtrail.intelstore.screening import ScreenDecision, ScreenRuleSet
from fundtrail.model.identity import Identity
from fundtrail.screen.decisionlog import DecisionLog, decisions_folder, encode_columns
from fundtrail.screen.drain import DrainKeeper, drain_folder
from fundtrail.screen.freshness import ANSWER_CHECK_S, Freshness
from fundtrail.screen.index import IndexCache, ScreenIndex
from fundtrail.screen.overlay import IntelOverlay
from fundtrail.screen.scoring import Rules
from fundtrail.screen.verdicts import MAX_BATCH, ScreenItem, answer
from fundtrail.settings import get_settings

THREAD_ABOVE = 50  # items: a batch this big is answered off the event loop


class Caller(Protocol):
    """Who is screening: the org whose rights and rules apply, and the key it used."""

    @property
    def org_id(self) -> str: ...

    @property
    def org_name(self) -> str: ...

    @property
    def key_id(self) -> str | None: ...


@dataclass(frozen=True, slots=True)
class OrgView:
    """A caller named by the command line or the web UI (no key)."""

    org_id: str
    org_name: str
    key_id: str | None = None


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


class Screener:
    """Everything an answer needs in this process, for one workspace and intel store."""

    def __init__(self, store: IntelStore, home: Path, *, background: bool = False) -> None:
        """``background``: the server's screener also rebuilds the index by itself and
        keeps a drainer process copying decisions into the store."""
        self.store = store
        self.home = Path(home)
        self.cache = IndexCache(self.home)
        self.freshness = Freshness(self.home, get_settings().screen_hops)
        self._overlay: IntelOverlay | None = None
        self._version: str | None = None
        self._rules: dict[str, Rules] = {}
        self._lock = threading.Lock()
        self._log: DecisionLog | None = None
        self._keeper: DrainKeeper | None = DrainKeeper(self.home, store) if background else None
        self.rebuilder: Any = None
        if background:
            from fundtrail.screen.rebuild import Rebuilder

            self.rebuilder = Rebuilder(self.home, store, self._stale)
            if self._keeper is not None and any(decisions_folder(self.home).glob("*.log")):
                self._keeper.ensure()  # a killed server's decisions, drained without a flush

    # -- state ---------------------------------------------------------------------
    def current(self) -> tuple[ScreenIndex, IntelOverlay]:
        """The live index and the overlay of intel changes since it was built."""
        index = self.cache.get()
        overlay = self._overlay
        if overlay is None or self._version != index.version:
            with self._lock:
                base = int(index.meta.get("intel_seq", 0))
                if self._overlay is None:
                    self._overlay = IntelOverlay(self.store, base)
                elif self._version != index.version:
                    self._overlay.rebase(base)
                self._version = index.version
                overlay = self._overlay
        latest = self.store.changes.latest()
        if latest > overlay.seq:
            for org_id in overlay.refresh(latest):
                self._rules.pop(org_id, None)
        return index, overlay

    def pending(self) -> list[str]:
        """Inputs that moved since the live index was built ([] when it is current)."""
        index, overlay = self.current()
        return self.freshness.pending(index, overlay.seq)

    def _stale(self) -> bool:
        try:
            return bool(self.pending())
        except Exception:
            return False  # no index yet: building the first one is the operator's call

    def rebuild_if_stale(self) -> list[str]:
        """Rebuild now when the live index is behind its inputs (the command line's
        "next read"); returns what had moved."""
        from fundtrail.screen.build import build_index

        moved = self.pending()
        if moved:
            build_index(self.home, intel=self.store)
        return moved

    def freshness_of(self, index: ScreenIndex, overlay: IntelOverlay) -> dict[str, Any]:
        pending = self.freshness.pending(index, overlay.seq, max_age=ANSWER_CHECK_S)
        if pending and self.rebuilder is not None:
            self.rebuilder.request()
        out: dict[str, Any] = {
            "index_version": index.version,
            "intel_version": overlay.seq,
            "rebuild_pending": bool(pending),
        }
        if pending:
            out["pending"] = pending
        return out

    def rules(self, org_id: str) -> Rules:
        hit = self._rules.get(org_id)
        if hit is None:
            with self.store.read_session() as s:
                row = s.get(ScreenRuleSet, org_id)
                hit = Rules.from_dict(row.rules if row else None)
            if len(self._rules) > 10_000:
                self._rules.clear()
            self._rules[org_id] = hit
        return hit

    @property
    def log(self) -> DecisionLog:
        if self._log is None:
            with self._lock:
                if self._log is None:
                    log = DecisionLog(self.home, get_settings().screen_durability)
                    if self._keeper is not None:
                        log.after_flush.append(self._keeper.ensure)
                    self._log = log
        return self._log

    # -- answers -------------------------------------------------------------------
    def answer(self, items: list[ScreenItem], who: Caller) -> dict[str, Any]:
        """Verdicts as ``who`` may see them now, without logging (pages, alerts)."""
        index, overlay = self.current()
        rules = self.rules(who.org_id) if who.org_id else Rules()
        answers = answer(index, items, viewer_org=who.org_name, rules=rules, overlay=overlay)
        return {**self.freshness_of(index, overlay), "items": answers}

    def _decided(
        self, items: list[ScreenItem], who: Caller, remote: str | None
    ) -> tuple[dict[str, Any], bytes]:
        result = self.answer(items, who)
        return result, decision_frame(result["items"], items, who, remote)

    def screen(
        self, items: list[ScreenItem], who: Caller, *, remote: str | None = None
    ) -> dict[str, Any]:
        """Answer and log; returns once the decisions are on disk."""
        result, payload = self._decided(items, who, remote)
        self.log.commit(payload)
        return result

    async def screen_async(
        self, items: list[ScreenItem], who: Caller, *, remote: str | None = None
    ) -> dict[str, Any]:
        """As :meth:`screen` for the event loop: a big batch is answered in a worker
        thread, and the disk flush is awaited, not waited for."""
        if len(items) > THREAD_ABOVE:
            result, payload = await anyio.to_thread.run_sync(self._decided, items, who, remote)
        else:
            result, payload = self._decided(items, who, remote)
        await self.log.commit_async(payload)
        return result

    def flush(self) -> None:
        """Drain the workspace's logged decisions into the store now (reads of the
        decision list call it, so an org sees its decisions at once)."""
        drain_folder(self.home, self.store)

    def close(self) -> None:
        """Stop background work; flush and drain what this process logged (best effort:
        with the store down it waits on disk for the next drainer)."""
        if self.rebuilder is not None:
            self.rebuilder.close()
        if self._log is not None:
            self._log.close()
            self._log = None
            try:
                drain_folder(self.home, self.store)
            except Exception as exc:
                logging.getLogger(__name__).warning("decisions left to drain later: %s", exc)


# -- one Screener per (store, workspace) in this process ----------------------------
_SCREENERS: weakref.WeakKeyDictionary[IntelStore, dict[Path, Screener]] = (
    weakref.WeakKeyDictionary()
)
_SCREENERS_LOCK = threading.Lock()


def screener(store: IntelStore, home: Path, *, background: bool = False) -> Screener:
    """This process's screener of ``home`` over ``store``. The server asks first, with
    ``background`` from ``FUNDTRAIL_SCREEN_BACKGROUND``: its screener rebuilds the index
    and drains decisions in background processes. Commands rebuild before they answer
    and drain when they end instead."""
    key = Path(home).resolve()
    per_store = _SCREENERS.get(store)
    hit = per_store.get(key) if per_store else None
    if hit is not None:
        return hit
    with _SCREENERS_LOCK:
        if store.closed:
            raise UnavailableError("the intel store is closed")
        per_store = _SCREENERS.get(store)
        if per_store is None:
            per_store = _SCREENERS[store] = {}
            store.on_close(_closer(weakref.ref(store)))
        if key not in per_store:
            per_store[key] = Screener(store, key, background=background)
        return per_store[key]


def _closer(ref: weakref.ref[IntelStore]) -> Any:
    """Closing a store closes its screeners: background threads stop, decisions drain."""

    def close() -> None:
        store = ref()
        with _SCREENERS_LOCK:
            per_store = _SCREENERS.pop(store, {}) if store is not None else {}
        for s in per_store.values():
            s.close()

    return close


def close_all() -> None:
    """Drain and close every screener of this process (at exit: nothing left behind)."""
    for per_store in list(_SCREENERS.values()):
        for s in list(per_store.values()):
            s.close()
    _SCREENERS.clear()


atexit.register(close_all)


def index_cache(home: Path) -> IndexCache:
    """The live index of a workspace (for readers that need no overlay)."""
    return IndexCache(Path(home).resolve())


def screen(
    store: IntelStore,
    home: Path,
    items: list[ScreenItem],
    *,
    who: Identity,
    log: bool = True,
) -> dict[str, Any]:
    """Answer ``items`` as ``who`` may see them; log the decisions unless ``log`` is off."""
    s = screener(store, home)
    return s.screen(items, who, remote=who.remote) if log else s.answer(items, who)


def get_rules(store: IntelStore, org_id: str) -> Rules:
    with store.read_session() as s:
        row = s.get(ScreenRuleSet, org_id)
        return Rules.from_dict(row.rules if row else None)


def set_rules(
    store: IntelStore, org_id: str, data: dict[str, Any], actor: Actor | str | None = None
) -> Rules:
    """Validate and store an org's rules; every process applies them on its next answer
    (the change journal signals the write)."""
    rules = Rules.from_dict(data)  # validates
    with store.session() as s:
        record(s, actor, "update", "screen_rules", org_id, rules.to_dict())
        row = s.get(ScreenRuleSet, org_id)
        if row is None:
            s.add(ScreenRuleSet(org_id=org_id, rules=rules.to_dict()))
        else:
            row.rules = rules.to_dict()
            row.modified = datetime.now(UTC)
    return rules


def decision_frame(
    answers: list[dict[str, Any]], items: list[ScreenItem], who: Caller, remote: str | None
) -> bytes:
    """The decision log frame of one request (``screen_decisions`` columns); each answer
    gets its ``decision_id``."""
    ids = _uuid4s(len(items))
    for a, row_id in zip(answers, ids, strict=True):
        a["decision_id"] = row_id
    columns: dict[str, list[Any]] = {
        "id": ids,
        "chain": [it.chain for it in items],
        "address": [
            a.get("normalised") or it.address[:128] for a, it in zip(answers, items, strict=True)
        ],
        "direction": [it.direction for it in items],
        "amount": [str(it.amount) if it.amount is not None else None for it in items],
        "asset": [it.asset for it in items],
        "txid": [it.txid for it in items],
        "risk": [a["risk"] or "invalid" for a in answers],
        "score": [a["score"] or 0 for a in answers],
        "reasons": [a["reasons"] for a in answers],
        "index_version": [a.get("index_version", "") for a in answers],
    }
    return encode_columns(
        columns, org_id=who.org_id, key_id=who.key_id, remote=remote, created=time.time()
    )


def _uuid4s(n: int) -> list[str]:
    """``n`` random UUID4 texts, as ``new_id`` makes them, without a UUID object each."""
    if n == 1:
        return [new_id()]
    import numpy as np

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
    store: IntelStore,
    org_id: str,
    *,
    limit: int = 100,
    address: str | None = None,
    home: Path | None = None,
) -> list[dict[str, Any]]:
    """An org's logged decisions, newest first (this process's pending ones drained first)."""
    if home is not None:
        screener(store, home).flush()
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
