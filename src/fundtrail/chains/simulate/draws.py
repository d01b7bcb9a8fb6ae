"""Buffered random draws: numpy generates in bulk, the simulation takes one value at a time.

Calling numpy once per scalar costs microseconds; a million-transaction run
makes tens of millions of draws, so they come from pre-drawn blocks instead.
Everything derives from one seed, so a run is reproducible byte for byte.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TypeVar

import numpy as np

T = TypeVar("T")
_CHUNK = 1 << 15


class Draws:
    def __init__(self, seed: int) -> None:
        self._rng = np.random.Generator(np.random.PCG64(seed))
        self._u: list[float] = []
        self._n: list[float] = []

    def uniform(self) -> float:
        """A float in [0, 1)."""
        if not self._u:
            self._u = self._rng.random(_CHUNK).tolist()
        return self._u.pop()

    def normal(self) -> float:
        if not self._n:
            self._n = self._rng.standard_normal(_CHUNK).tolist()
        return self._n.pop()

    def chance(self, p: float) -> bool:
        return self.uniform() < p

    def below(self, n: int) -> int:
        """An int in [0, n)."""
        return min(int(self.uniform() * n), n - 1)

    def between(self, lo: int, hi: int) -> int:
        """An int in [lo, hi]."""
        return lo + self.below(hi - lo + 1)

    def pick(self, items: Sequence[T]) -> T:
        return items[self.below(len(items))]

    def lognormal(self, median: float, sigma: float) -> float:
        return median * math.exp(sigma * self.normal())

    def amount(self, median: int, sigma: float, lo: int, hi: int) -> int:
        """Heavy-tailed integer amount (lognormal), clipped to [lo, hi]."""
        return max(lo, min(hi, int(self.lognormal(median, sigma))))

    def pareto(self, alpha: float, scale: float) -> float:
        """Pareto (type I) draw: most values near ``scale``, a few far larger."""
        return scale / (1.0 - self.uniform()) ** (1.0 / alpha)

    def poisson(self, lam: float) -> int:
        if lam > 30:
            return max(0, round(lam + math.sqrt(lam) * self.normal()))
        limit, k, p = math.exp(-lam), 0, self.uniform()
        while p > limit:
            k += 1
            p *= self.uniform()
        return k

    def weighted(self, cumulative: Sequence[float]) -> int:
        """Index drawn by cumulative weights (last element = total)."""
        x = self.uniform() * cumulative[-1]
        lo, hi = 0, len(cumulative) - 1
        while lo < hi:
            mid = (lo + hi) // 2
            if cumulative[mid] > x:
                hi = mid
            else:
                lo = mid + 1
        return lo

    def sample(self, n: int, k: int) -> list[int]:
        """``k`` distinct ints from [0, n), in draw order."""
        k = min(k, n)
        if k * 3 > n:
            order = self._rng.permutation(n)[:k]
            return [int(i) for i in order]
        seen: dict[int, None] = {}
        while len(seen) < k:
            seen.setdefault(self.below(n), None)
        return list(seen)
