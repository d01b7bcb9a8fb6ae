"""Intel changes since the index was built, applied to every answer at once.

The index is built in bulk and swapped whole; between two builds, intel keeps changing:
an indicator is added, made RED, shared with one more org or one less, deleted. The
overlay holds the *current* state of every crypto-address indicator changed after the
index's journal position (``base``, see :mod:`fundtrail.intelstore.changes`). Answers
drop the index's reasons that came from a changed indicator and use its current state
instead (or nothing, when it is gone), so a withdrawn indicator stops showing and a newly
shared one flags its address on the next request, not after the next build.

It is refreshed only when the store's change signal moved past what it has applied: a
request normally compares one integer and touches no database.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

import sqlalchemy as sa

from fundtrail.errors import InvalidInputError
from fundtrail.intelstore.changes import changes_since
from fundtrail.intelstore.db import IntelStore
from fundtrail.intelstore.models import Indicator, IndicatorShare, Org
from fundtrail.model.indicators import Category
from fundtrail.screen.keys import address_key

_IDS_PER_QUERY = 500


@dataclass(frozen=True, slots=True)
class IndicatorState:
    """What screening needs of one crypto-address indicator, as it is now."""

    id: str
    chain: str
    value: str
    category: str
    org: str
    tlp: str
    share_with: frozenset[str]
    confidence: int
    label: str


def category_of(text: str | None) -> str:
    try:
        return Category.parse(text or "other").value
    except InvalidInputError:
        return Category.OTHER.value


def read_indicators(store: IntelStore, ids: Iterable[str] | None = None) -> list[IndicatorState]:
    """Current state of the crypto-address indicators ``ids`` (all of them: None)."""
    wanted = None if ids is None else sorted(set(ids))
    out: list[IndicatorState] = []
    with store.read_session() as s:
        orgs = {o.id: o.name for o in s.scalars(sa.select(Org))}
        chunks = [None] if wanted is None else _chunks(wanted)
        for chunk in chunks:
            q = sa.select(Indicator).where(Indicator.type == "crypto-address")
            if chunk is not None:
                q = q.where(Indicator.id.in_(chunk))
            rows = s.scalars(q).all()
            shares: dict[str, set[str]] = defaultdict(set)
            sq = sa.select(IndicatorShare.indicator_id, IndicatorShare.org_id)
            if chunk is not None:
                sq = sq.where(IndicatorShare.indicator_id.in_(chunk))
            for indicator_id, org_id in s.execute(sq):
                shares[indicator_id].add(orgs.get(org_id, ""))
            out += [
                IndicatorState(
                    id=r.id,
                    chain=r.chain,
                    value=r.value,
                    category=category_of(r.category),
                    org=orgs.get(r.org_id, ""),
                    tlp=r.tlp,
                    share_with=frozenset(shares.get(r.id, ())),
                    confidence=r.confidence,
                    label=(r.labels[0] if r.labels else "") or r.description[:80] or r.category,
                )
                for r in rows
            ]
    return out


def _chunks(ids: list[str]) -> list[list[str]]:
    return [ids[i : i + _IDS_PER_QUERY] for i in range(0, len(ids), _IDS_PER_QUERY)]


class IntelOverlay:
    """Current state of the indicators changed after journal seq ``base``."""

    def __init__(self, store: IntelStore, base: int) -> None:
        self.store = store
        self.base = base
        self.seq = base  # journal position applied so far
        self._lock = threading.Lock()
        # indicator id -> (seq of its last change, state now or None when gone)
        self.changed: dict[str, tuple[int, IndicatorState | None]] = {}
        self.by_key: dict[int, list[IndicatorState]] = {}

    def state(self, indicator_id: str) -> tuple[bool, IndicatorState | None]:
        """(changed since the build?, its current state if it still exists)."""
        hit = self.changed.get(indicator_id)
        return (False, None) if hit is None else (True, hit[1])

    def refresh(self, upto: int) -> set[str]:
        """Apply journal entries up to at least ``upto``; returns the org ids whose
        screening rules changed (the caller drops its cached rules for them)."""
        with self._lock:
            if self.seq >= upto:
                return set()
            with self.store.read_session() as s:
                entries = changes_since(s, self.seq)
            changed_ids: dict[str, int] = {}
            rules: set[str] = set()
            for seq, kind, ref in entries:
                if kind == "indicator":
                    changed_ids[ref] = seq
                elif kind in ("rules", "org"):
                    rules.add(ref)
            if changed_ids:
                now = {st.id: st for st in read_indicators(self.store, changed_ids)}
                for ind, seq in changed_ids.items():
                    self.changed[ind] = (seq, now.get(ind))
                self._index_keys()
            # nothing to read although signalled (journal pruned): do not ask again
            self.seq = max(self.seq, entries[-1][0] if entries else upto)
            return rules

    def rebase(self, base: int) -> None:
        """A new index version includes everything up to ``base``: forget that part."""
        with self._lock:
            self.base = base
            self.changed = {k: v for k, v in self.changed.items() if v[0] > base}
            self.seq = max(self.seq, base)
            self._index_keys()

    def _index_keys(self) -> None:
        by_key: dict[int, list[IndicatorState]] = defaultdict(list)
        for _seq, st in self.changed.values():
            if st is not None and st.category:
                by_key[address_key(st.chain, st.value)].append(st)
        self.by_key = dict(by_key)
