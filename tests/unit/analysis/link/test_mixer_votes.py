"""The fee votes of one order, computed in arrays, equal the row-by-row rule they replace.

The rule: a match (a set of payouts summing into the order's fee window) votes for the
fee it implies when every payout in it reached one and the same campaign; per rounded
rate the first match's exact rate is kept. At 50k txs an order had tens of thousands of
matches, and the per-row Python made `complaints import` take 12 s where 4 were linking."""

from __future__ import annotations

import numpy as np

from fundtrail.analysis.link.fees import MAX_PIECES, RATE_UNIT, implied, matches, wide
from fundtrail.analysis.link.mixer import LEARN_CAP, _votes


def _votes_row_by_row(
    v: int, cand: list[int], values: np.ndarray, reached: list[frozenset[int]]
) -> dict[int, float]:
    lo, hi = wide(v)
    rows = matches(values, lo, hi, MAX_PIECES, LEARN_CAP)
    out: dict[int, float] = {}
    for row in rows.tolist():
        ks = [k for k in row if k >= 0]
        if len(frozenset().union(*(reached[cand[k]] for k in ks))) == 1:
            rate = implied(v, int(values[ks].sum()))
            out.setdefault(round(rate * RATE_UNIT), rate)
    return out


def test_array_votes_equal_the_row_by_row_rule() -> None:
    rng = np.random.default_rng(7)
    voted = 0
    for _ in range(300):
        n = int(rng.integers(1, 40))
        v = int(rng.integers(1_000_000, 50_000_000))
        values = np.sort(rng.integers(v // 20, v, n))[::-1].astype(np.int64)
        cand = list(range(n))
        # campaigns reached: mostly one of three, sometimes two at once
        reached = [
            frozenset(rng.choice(3, size=int(rng.integers(1, 3)), replace=False).tolist())
            if rng.random() < 0.2
            else frozenset({int(rng.integers(0, 3))})
            for _ in range(n)
        ]
        got = _votes(v, cand, values, reached)
        assert got == _votes_row_by_row(v, cand, values, reached)
        voted += bool(got)
    assert voted > 30  # the comparison saw real votes, not only empty answers
