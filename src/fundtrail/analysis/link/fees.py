"""A mixer's fee, learnt from its orders: the fingerprint that tells payouts apart.

A custodial mixer pays an order back, less its cut, in a few payouts. With one gang at
the mixer, "payouts that add up to the entry less 0.5-5%" is evidence enough; with two
gangs in the same hours, many sets of payouts add up to that, and some reach the other
gang. What investigators use then is the service's fee: most custodial mixers charge one
advertised rate (or a few tiers), so the payouts of an order add up to the entry times
exactly ``1 - rate``, to the satoshi of rounding, while a chance set of other payouts
almost never does.

The rate is learnt from the service's own orders, not assumed (:func:`fingerprint`):
every entry's sets of payouts that add up within the wide window vote for the rates
they imply (to a millionth); a rate is the service's when far more orders voted for it
than chance would give, ``E + 6*sqrt(E) + 3`` votes where ``E`` is what a rate would get
if the votes fell at random over the window. A service that draws its fee per order
shows no such rate, and then no fingerprint is used (the wide rule alone decides).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numba import njit

FEE_MIN, FEE_MAX = 0.005, 0.05  # the mixer's cut: payouts sum to 95-99.5% of the entry
MAX_PIECES = 4  # payouts per order
RATE_UNIT = 1_000_000  # fee rates are learnt to a millionth of the entry
MAX_RATES = 3  # more "fixed" rates than a few tiers is no fingerprint
MIN_VOTES = 3  # orders agreeing on a rate before it can be the service's


@njit(cache=True)
def _first_at_most(values: np.ndarray, lo: int, hi: int, x: int) -> int:  # pragma: no cover
    """First index in [lo, hi) of descending ``values`` whose value is <= x (hi if none)."""
    while lo < hi:
        mid = (lo + hi) // 2
        if values[mid] <= x:
            hi = mid
        else:
            lo = mid + 1
    return lo


@njit(cache=True)
def matches(  # pragma: no cover - numba
    values: np.ndarray, lo: int, hi: int, max_pieces: int, cap: int
) -> np.ndarray:
    """Sets of at most ``max_pieces`` of ``values`` (descending) summing into [lo, hi].

    Rows of indices (-1 padded); ``cap + 1`` rows means more than ``cap`` were found.
    Pieces too big are skipped by binary search, and the last piece of a set is a range
    found the same way, so a narrow window costs about the pairs and triples, not more.
    """
    n = len(values)
    out = np.full((cap + 1, max_pieces), -1, dtype=np.int64)
    found = 0
    stack = np.zeros(max_pieces, dtype=np.int64)
    depth, start, total = 0, 0, 0
    while True:
        if start < n and depth < max_pieces and found <= cap:
            if values[start] > hi - total:
                start = _first_at_most(values, start, n, hi - total)
                continue
            v = values[start]
            if total + v * (max_pieces - depth) < lo:
                start = n  # the rest are smaller still: no match down this branch
                continue
            if depth == max_pieces - 1:  # the last piece: every value in [lo-total, hi-total]
                end = _first_at_most(values, start, n, lo - total - 1)
                for j in range(start, end):
                    if found > cap:
                        break
                    for k in range(depth):
                        out[found, k] = stack[k]
                    out[found, depth] = j
                    found += 1
                start = n
                continue
            stack[depth] = start
            total += v
            depth += 1
            if total >= lo:
                for k in range(depth):
                    out[found, k] = stack[k]
                found += 1
            start += 1
            continue
        if depth == 0 or found > cap:
            break
        depth -= 1
        total -= values[stack[depth]]
        start = stack[depth] + 1
    return out[: min(found, cap + 1)]


def wide(v: int) -> tuple[int, int]:
    """Sums that are ``v`` less any fee of ``FEE_MIN`` to ``FEE_MAX``."""
    return math.ceil(v * (1 - FEE_MAX)), int(v * (1 - FEE_MIN))


def tight(v: int, rate: float) -> tuple[int, int]:
    """Sums that are ``v`` less exactly ``rate`` (a fraction): a satoshi of rounding per
    payout, and two hundred-millionths of ``v`` for the rate's own precision."""
    exact = int(v * (1 - rate))
    slack = 2 * MAX_PIECES + v // 50_000_000
    return exact - slack, exact + slack


def implied(v: int, total: int) -> float:
    """The fee rate (a fraction) that turns an entry ``v`` into payouts of ``total``."""
    return (v - total) / v


@dataclass(frozen=True, slots=True)
class Fingerprint:
    """The service's fee rates (fractions) and how many of its orders showed each."""

    rates: tuple[float, ...]
    votes: tuple[int, ...]
    voters: int  # orders whose payouts could be enumerated

    def text(self, rate: float) -> str:
        n = self.votes[self.rates.index(rate)]
        return f"at its fee {100 * rate:.2f}% ({n} of {self.voters} orders)"


def fingerprint(votes: Sequence[Mapping[int, float]]) -> Fingerprint | None:
    """The rates far more orders voted for than chance gives; None when there are none
    (a fee drawn per order) or more than a few tiers (then nothing is fixed).

    ``votes``: per order, {rate in millionths: the exact rate one of its matches implies}.
    A rate is the median of the exact rates voted into its millionth.
    """
    if not votes:
        return None
    counts = Counter(b for v in votes for b in v)
    bins = (FEE_MAX - FEE_MIN) * RATE_UNIT
    chance = sum(len(v) for v in votes) / bins
    need = max(MIN_VOTES, chance + 6 * math.sqrt(chance) + 3)
    strong = {b: c for b, c in counts.items() if c >= need}
    # a rate on the edge of two millionths votes for both: keep the stronger one
    kept = sorted(b for b, c in strong.items()
                  if all(strong.get(n, -1) < c or (strong.get(n) == c and n > b)
                         for n in (b - 1, b + 1)))  # fmt: skip
    if not kept or len(kept) > MAX_RATES:
        return None
    rates = []
    for b in kept:
        exact = sorted(v[n] for v in votes for n in (b - 1, b, b + 1) if n in v)
        rates.append(exact[len(exact) // 2])
    return Fingerprint(tuple(rates), tuple(strong[b] for b in kept), len(votes))
