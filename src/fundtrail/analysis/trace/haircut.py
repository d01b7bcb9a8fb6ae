"""Haircut taint: every part of a tx (or of a balance) carries taint in proportion to value.

Exact integer arithmetic, never floats. Splitting a taint ``t`` over parts with integer
weights ``w_i`` (summing to ``W``) gives each part ``floor(t * w_i / W)`` and hands the
few units left over (fewer than the number of parts) one each to the parts with the
largest remainders ``t * w_i mod W`` (ties: the earlier part). So the shares are exact
integers, each within one unit of the true proportion, never above the part's own value
(``t <= W``), and they add up to exactly ``t``: value is conserved.

In a UTXO tx the parts are the outputs in order plus the fee (weight = inputs - outputs),
so the fee takes its proportional share of the taint and reports it.

``split`` runs inside the numba kernels on int64 values below 2**53 (every Bitcoin
amount: 21e14 sat < 2**51); ``split_int`` is the same rule on Python ints for account
chains, whose wei amounts exceed 64 bits.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def muldiv(t: int, w: int, total: int) -> tuple[int, int]:  # pragma: no cover - numba
    """(floor(t*w/total), t*w mod total) for 0 <= t, w <= total < 2**53.

    A float estimate of the quotient is off by at most a few units; the remainder is
    computed in wrapping 64-bit arithmetic (exact, as its true value is small) and the
    quotient corrected until the remainder lies in [0, total).
    """
    q = np.int64(float(t) * (float(w) / float(total)))
    prod = np.uint64(t) * np.uint64(w) - np.uint64(q) * np.uint64(total)
    r = np.int64(prod)
    while r < 0:
        q -= 1
        r += total
    while r >= total:
        q += 1
        r -= total
    return q, r  # type: ignore[return-value]


@njit(cache=True)
def split(t: int, weights: np.ndarray, total: int) -> np.ndarray:  # pragma: no cover - numba
    """Shares of ``t`` by ``weights`` (summing to ``total``): exact, largest-remainder."""
    k = len(weights)
    shares = np.zeros(k, dtype=np.int64)
    rems = np.zeros(k, dtype=np.int64)
    if total <= 0 or t <= 0:
        return shares
    given = 0
    for i in range(k):
        q, r = muldiv(t, weights[i], total)
        shares[i] = q
        rems[i] = r
        given += q
    left = t - given
    if left > 0:
        order = np.argsort(-rems, kind="mergesort")
        for i in range(left):
            shares[order[i]] += 1
    return shares


def split_int(t: int, weights: list[int]) -> list[int]:
    """Python-int twin of :func:`split` (weights' sum is the total), for 256-bit amounts."""
    total = sum(weights)
    if total <= 0 or t <= 0:
        return [0] * len(weights)
    pairs = [divmod(t * w, total) for w in weights]
    shares = [q for q, _ in pairs]
    left = t - sum(shares)
    order = sorted(range(len(weights)), key=lambda i: (-pairs[i][1], i))
    for i in order[:left]:
        shares[i] += 1
    return shares
