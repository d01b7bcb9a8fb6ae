"""The mixer's fee fingerprint: learnt from the orders, found where it is fixed, absent
where the fee is drawn per order, and precise enough to tell two gangs' payouts apart.

Orders are drawn here the way a custodial mixer fills them: the entry less the fee,
split in random shares over 2-4 payouts; two gangs' payouts interleave in one window.
"""

from __future__ import annotations

import random
from collections.abc import Callable

import numpy as np

from fundtrail.analysis.link.fees import fingerprint, implied, matches, tight, wide


def _order(rng: random.Random, fee_bp: int) -> tuple[int, list[int]]:
    v = rng.randrange(10_000_000, 500_000_000)
    payout = v * (10_000 - fee_bp) // 10_000
    n = rng.randint(2, 4)
    w = [0.2 + rng.random() for _ in range(n)]
    parts = [int(payout * x / sum(w)) for x in w[:-1]]
    return v, [*parts, payout - sum(parts)]


def _votes(orders: list[tuple[str, int, list[int]]]) -> list[dict[int, float]]:
    """Each order votes with every wide match over *all* payouts in the window whose
    payouts reach one gang only (as linking counts: an order pays one customer)."""
    owner = {p: gang for gang, _, ps in orders for p in ps}
    values = np.array(sorted(owner, reverse=True), dtype=np.int64)
    out = []
    for _, v, _ in orders:
        votes = {}
        for r in matches(values, *wide(v), 4, 50_000):
            ps = [int(values[k]) for k in r if k >= 0]
            if len({owner[p] for p in ps}) == 1:
                rate = implied(v, sum(ps))
                votes.setdefault(round(rate * 1e6), rate)
        out.append(votes)
    return out


def _gangs(rng: random.Random, fee: Callable[[], int], n: int) -> list[tuple[str, int, list[int]]]:
    return [(gang, *_order(rng, fee())) for gang in "AB" for _ in range(n)]


def test_a_fixed_fee_is_learnt_from_the_orders() -> None:
    rng = random.Random(5)
    fp = fingerprint(_votes(_gangs(rng, lambda: 175, 15)))
    assert fp is not None and len(fp.rates) == 1
    assert abs(fp.rates[0] - 0.0175) < 1e-6
    assert fp.votes[0] >= 25 and fp.voters == 30
    assert "at its fee 1.75% (" in fp.text(fp.rates[0])


def test_tiers_learnt_are_true_tiers_only() -> None:
    # a tier few orders used may not stand out from chance; a rate no order paid never does
    rng = random.Random(6)
    fp = fingerprint(_votes(_gangs(rng, lambda: rng.choice((100, 250)), 10)))
    assert fp is not None
    assert set(round(r * 10_000) for r in fp.rates) <= {100, 250}
    assert all(abs(r * 10_000 - round(r * 10_000)) < 0.01 for r in fp.rates)


def test_a_fee_drawn_per_order_gives_no_fingerprint() -> None:
    rng = random.Random(7)
    assert fingerprint(_votes(_gangs(rng, lambda: rng.randint(100, 300), 15))) is None


def test_at_the_fee_only_the_orders_own_payouts_match_where_the_wide_window_is_ambiguous() -> None:
    # Two gangs, 25 orders each, all paid out in one crowded window: the wide window
    # finds many sets of payouts for an order, mixing both gangs; at the learnt fee, the
    # order's own payouts always, and a chance set far less often (linking then lets a
    # payout pay one order only: mixer._settle).
    rng = random.Random(8)
    orders = _gangs(rng, lambda: 200, 25)
    owner = {}
    for gang, _, ps in orders:
        for p in ps:
            owner[p] = gang
    values = np.array(sorted(owner, reverse=True), dtype=np.int64)
    fp = fingerprint(_votes(orders))
    assert fp is not None
    ambiguous_wide = exact_own = n_wide = n_tight = 0
    for _gang, v, ps in orders:
        wide_rows = matches(values, *wide(v), 4, 256)
        gangs = {owner[int(values[k])] for r in wide_rows for k in r if k >= 0}
        ambiguous_wide += gangs == {"A", "B"}
        n_wide += len(wide_rows)
        rows = matches(values, *tight(v, fp.rates[0]), 4, 256)
        found = [sorted(int(values[k]) for k in r if k >= 0) for r in rows]
        assert sorted(ps) in found  # the order's own payouts always match at its fee
        exact_own += found == [sorted(ps)]
        n_tight += len(found)
    assert ambiguous_wide >= 40  # the amounts alone cannot tell the gangs apart
    assert exact_own >= 20  # the fee alone often can
    assert n_tight * 100 < n_wide


def test_matches_finds_every_set_in_the_window() -> None:
    rng = random.Random(9)
    vals = sorted((rng.randrange(1, 1000) for _ in range(14)), reverse=True)
    values = np.array(vals, dtype=np.int64)
    lo, hi = 900, 950
    got = {tuple(int(k) for k in r if k >= 0) for r in matches(values, lo, hi, 4, 100_000)}
    from itertools import combinations

    want = {c for n in range(1, 5) for c in combinations(range(len(vals)), n)
            if lo <= sum(vals[k] for k in c) <= hi}  # fmt: skip
    assert got == want
