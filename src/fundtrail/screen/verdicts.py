"""Answer screening requests from a loaded index: visible reasons, score, risk level.

Pure functions over the index and the intel overlay; the service adds logging and the
API adds auth. Three rules, each decided here and nowhere else:

- **Current rights.** A reason derived from an indicator is shown with that indicator's
  visibility *now*: the index's copy is used only while the indicator is unchanged since
  the build; a changed one answers from the overlay (its current TLP, share list and
  category), a deleted one not at all. Indirect exposure computed from a group of
  indicators is withheld while any of them changed in a way the caller may not see
  (until the automatic rebuild recomputes it).
- **What counts is what is shown.** The reasons listed are exactly those the verdict
  counted: ignored categories and indirect shares under the org's threshold are neither
  scored nor shown, so a "none, 0" never sits beside a reason.
- **One line per fact.** Cluster reasons from one owner collapse into one ("same cluster
  as 6 reported addresses"); indirect exposure to one category keeps its strongest path
  and says how many sources it stands for; exact repeats are dropped.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from fundtrail.errors import InvalidInputError, UserError
from fundtrail.model.chains import get_chain
from fundtrail.model.tlp import TLP, may_see
from fundtrail.screen.index import CATEGORIES, KINDS, PPM, ScreenIndex, Source
from fundtrail.screen.keys import address_key, normalise
from fundtrail.screen.overlay import IndicatorState, IntelOverlay
from fundtrail.screen.scoring import BENIGN, Rules, reason_score

MAX_BATCH = 10_000


@dataclass(slots=True)
class ScreenItem:
    chain: str
    address: str  # as given
    direction: str | None = None  # deposit | withdrawal
    amount: int | None = None
    asset: str | None = None
    txid: str | None = None

    @classmethod
    def from_dict(cls, data: dict[str, Any], position: int | None = None) -> ScreenItem:
        # the checks of every item of a batch of 10,000: the error texts (which name the
        # item) are built only when one fails
        if not isinstance(data, dict):
            where = _where(position)
            raise InvalidInputError(f"{where[:-1] or 'item'} must be an object", field=where[:-1])
        get = data.get
        address = get("address")
        if not isinstance(address, str) or not address:
            where = _where(position)
            raise InvalidInputError(f"{where}address is required", field=f"{where}address")
        direction = get("direction")
        if direction is not None and direction != "deposit" and direction != "withdrawal":
            where = _where(position)
            raise InvalidInputError(
                f"{where}direction must be 'deposit' or 'withdrawal'", field=f"{where}direction"
            )
        amount = get("amount")
        if amount is not None:
            if (
                isinstance(amount, bool)
                or not isinstance(amount, (int, str))
                or not str(amount).isdigit()
            ):
                where = _where(position)
                raise InvalidInputError(
                    f"{where}amount must be a whole number of base units", field=f"{where}amount"
                )
            amount = int(amount)
        asset, txid = get("asset"), get("txid")
        if asset is not None and (not isinstance(asset, str) or len(asset) > 80):
            _too_long(position, "asset")
        if txid is not None and (not isinstance(txid, str) or len(txid) > 80):
            _too_long(position, "txid")
        chain = get("chain") or "BTC"
        code = _CHAIN_CODES.get(chain) if isinstance(chain, str) else None
        if code is None:
            code = get_chain(str(chain)).code
            if isinstance(chain, str) and len(_CHAIN_CODES) < 1024:
                _CHAIN_CODES[chain] = code
        return cls(code, address, direction, amount, asset, txid)


_CHAIN_CODES: dict[str, str] = {}  # chain names as sent -> registry code (known ones only)


def _where(position: int | None) -> str:
    return f"items[{position}]." if position is not None else ""


def _too_long(position: int | None, name: str) -> None:
    where = _where(position)
    raise InvalidInputError(
        f"{where}{name} must be text of at most 80 characters", field=f"{where}{name}"
    )


@dataclass(slots=True)
class Reason:
    """One reason for an address, with the source whose visibility governs it."""

    category: str
    kind: str  # indicator | tag | entity | cluster | indirect
    hops: int
    share: float
    source: Source
    members: int = 1  # cluster: reported addresses in the cluster; indirect: sources


def _visible(source: Source, viewer_org: str) -> bool:
    if source.org is None:
        return True  # public attribution data (TagPacks, OFAC lists, entities)
    return may_see(
        TLP.parse(source.tlp),
        owner_org=source.org,
        viewer_org=viewer_org,
        shared_with=frozenset(source.share_with),
    )


def _may_see_state(st: IndicatorState, viewer_org: str) -> bool:
    tlp = TLP.parse(st.tlp)
    return may_see(tlp, owner_org=st.org, viewer_org=viewer_org, shared_with=st.share_with)


def _from_state(st: IndicatorState) -> Source:
    return Source(
        "indicator",
        st.id,
        st.label,
        st.category,
        org=st.org,
        tlp=st.tlp,
        share_with=sorted(st.share_with),
        confidence=st.confidence,
        chain=st.chain,
        address=st.value,
    )


class Answerer:
    """Reasons of an address as one viewer may see them now: the index, corrected by the
    overlay. One per request (it caches per-source decisions for a batch)."""

    def __init__(self, index: ScreenIndex, overlay: IntelOverlay | None, viewer_org: str) -> None:
        self.index = index
        self.overlay = overlay
        self.viewer = viewer_org
        self._exposure_ok: dict[int, bool] = {}

    def reasons(
        self, key: int, records: list[tuple[int, int, int, int, int]] | None = None
    ) -> list[Reason]:
        """``records``: the key's index records when the caller searched already."""
        out: list[Reason] = []
        sources = self.index.sources
        if records is None:
            records = self.index.records_of(key)
        for cat, kind, hops, share, src_idx in records:
            src = sources[src_idx]
            kind_name = KINDS[kind]
            category = CATEGORIES[cat]
            if self.overlay is not None and src.kind == "indicator":
                changed, now = self.overlay.state(src.ref)
                if changed:
                    if kind_name == "indicator" or now is None or now.category in BENIGN:
                        continue  # direct hits of changed indicators come from the overlay
                    src, category = _from_state(now), now.category
            if kind_name == "indirect" and not self._exposure_visible(src_idx, src):
                continue
            if _visible(src, self.viewer):
                out.append(Reason(category, kind_name, hops, share / PPM, src))
        if self.overlay is not None:
            for st in self.overlay.by_key.get(key, ()):
                if _may_see_state(st, self.viewer):
                    out.append(Reason(st.category, "indicator", 0, 1.0, _from_state(st)))
        return out

    def _exposure_visible(self, src_idx: int, src: Source) -> bool:
        """Exposure from indicators that changed since the build is shown only if the
        viewer may still see every changed one, unchanged in category."""
        if self.overlay is None or not src.members or not self.overlay.changed:
            return True
        ok = self._exposure_ok.get(src_idx)
        if ok is None:
            ok = True
            for member in src.members:
                changed, now = self.overlay.state(member)
                if changed and (
                    now is None
                    or now.category != src.category
                    or not _may_see_state(now, self.viewer)
                ):
                    ok = False
                    break
            self._exposure_ok[src_idx] = ok
        return ok


def _collapse(reasons: list[Reason]) -> list[Reason]:
    """One line per fact (see the module docstring)."""
    out: list[Reason] = []
    clusters: dict[tuple[str, str | None, str], Reason] = {}
    indirect: dict[str, Reason] = {}
    seen: set[tuple[str, str, str, str]] = set()
    for r in reasons:
        if r.kind == "cluster":
            ckey = (r.category, r.source.org, r.source.tlp)
            if ckey in clusters:
                clusters[ckey].members += 1
                continue
            clusters[ckey] = r
        elif r.kind == "indirect":
            best = indirect.get(r.category)
            if best is not None:
                best.members += 1
                if (r.share, -r.hops) > (best.share, -best.hops):
                    best.share, best.hops, best.source = r.share, r.hops, r.source
                continue
            indirect[r.category] = r
        else:
            dkey = (r.kind, r.category, r.source.kind, r.source.ref)
            if dkey in seen:
                continue
            seen.add(dkey)
        out.append(r)
    return out


def _counts(rules: Rules, r: Reason) -> bool:
    if r.category in rules.ignore_categories:
        return False
    return not (r.kind == "indirect" and r.share < rules.min_indirect_share)


def _view(r: Reason, score: int) -> dict[str, Any]:
    src = r.source
    out: dict[str, Any] = {
        "category": r.category,
        "kind": r.kind,
        "exposure": "indirect" if r.kind == "indirect" else "direct",
        "score": score,
        "source": {
            "type": src.kind,
            "ref": src.ref,
            "label": src.label,
            "org": src.org,
            "tlp": src.tlp,
            "confidence": src.confidence,
        },
    }
    if r.kind == "cluster":
        out["cluster_members"] = r.members
    if r.kind == "indirect":
        out["share"] = round(r.share, 6)
        out["hops"] = r.hops
        out["origin"] = src.address or None
        out["sources"] = r.members
        out["origin_tx"] = src.txid or None
    return out


def verdict_of(rules: Rules, reasons: list[Reason]) -> tuple[str, int, list[dict[str, Any]]]:
    """(risk, score, reason views): the reasons shown are exactly the ones counted."""
    counted = [r for r in _collapse(reasons) if _counts(rules, r)]
    scored = [(reason_score(rules, r.category, r.kind, r.share, r.hops), r) for r in counted]
    scored.sort(key=lambda p: -p[0])
    score = scored[0][0] if scored else 0
    return rules.level(score), score, [_view(r, s) for s, r in scored]


def answer(
    index: ScreenIndex,
    items: list[ScreenItem],
    *,
    viewer_org: str,
    rules: Rules,
    overlay: IntelOverlay | None = None,
) -> list[dict[str, Any]]:
    """Verdicts for items, with only the reasons the viewer may see now.

    Keys of the whole batch are searched at once; an address neither in the index nor
    in the overlay is answered "none" without further work (most of a batch).
    """
    if len(items) > MAX_BATCH:
        raise UserError(f"a batch holds at most {MAX_BATCH} items; got {len(items)}")
    normalised: list[str | None] = []
    errors: list[str | None] = []
    key_list = [0] * len(items)
    for i, item in enumerate(items):
        try:
            norm = normalise(item.chain, item.address)
        except InvalidInputError as exc:
            normalised.append(None)
            errors.append(exc.message)
            continue
        normalised.append(norm)
        errors.append(None)
        key_list[i] = address_key(item.chain, norm)
    keys = np.array(key_list, dtype=np.uint64)
    # a few keys: the scalar search in reasons() beats setting up arrays
    ranges: tuple[list[int], list[int]] | None = None
    if len(items) > 4:
        lo, hi = index.ranges(keys)
        ranges = lo.tolist(), hi.tolist()
    extra = overlay.by_key if overlay is not None else {}
    who = Answerer(index, overlay, viewer_org)
    version = index.version
    none_level = rules.level(0)
    out: list[dict[str, Any]] = []
    for i, item in enumerate(items):
        # one dict per answer, its keys in the order the API has always shown them
        a: dict[str, Any] = {"chain": item.chain, "address": item.address}
        if item.direction:
            a["direction"] = item.direction
        found = normalised[i]
        if found is None:
            a["error"], a["risk"], a["score"], a["reasons"] = errors[i], None, None, []
            out.append(a)
            continue
        a["normalised"] = found
        key = key_list[i]
        if ranges is not None and ranges[0][i] == ranges[1][i] and key not in extra:
            a["risk"], a["score"], a["reasons"] = none_level, 0, []  # most of a batch
        else:
            records = None if ranges is None else index.records_between(ranges[0][i], ranges[1][i])
            a["risk"], a["score"], a["reasons"] = verdict_of(rules, who.reasons(key, records))
        a["index_version"] = version
        out.append(a)
    return out
