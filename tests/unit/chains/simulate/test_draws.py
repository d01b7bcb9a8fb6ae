"""Random draws: reproducible by seed, heavy-tailed where it matters."""

from __future__ import annotations

from fundtrail.chains.simulate.draws import Draws


def test_same_seed_same_draws_other_seed_other_draws() -> None:
    a, b, c = Draws(9), Draws(9), Draws(10)
    seq_a = [a.amount(1000, 1.5, 1, 10**9) for _ in range(500)]
    assert seq_a == [b.amount(1000, 1.5, 1, 10**9) for _ in range(500)]
    assert seq_a != [c.amount(1000, 1.5, 1, 10**9) for _ in range(500)]


def test_amounts_are_heavy_tailed_and_clipped() -> None:
    d = Draws(1)
    xs = sorted(d.amount(1000, 1.5, 10, 10**7) for _ in range(20_000))
    assert xs[0] >= 10 and xs[-1] <= 10**7
    median, p99 = xs[len(xs) // 2], xs[int(len(xs) * 0.99)]
    assert 800 < median < 1250 and p99 > 20 * median  # a long right tail, not uniform


def test_small_helpers_stay_in_range() -> None:
    d = Draws(2)
    assert all(3 <= d.between(3, 5) <= 5 for _ in range(1000))
    assert sorted(d.sample(10, 10)) == list(range(10))
    assert len(set(d.sample(1000, 50))) == 50
    cum = [1.0, 1.0, 4.0]  # index 1 has zero weight
    assert 1 not in {d.weighted(cum) for _ in range(2000)}
    assert abs(sum(d.poisson(3.0) for _ in range(5000)) / 5000 - 3.0) < 0.15
