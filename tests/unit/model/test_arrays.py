"""`distinct` answers what `np.unique` does (its hash path is too slow at scale)."""

from __future__ import annotations

import numpy as np
import pytest

from fundtrail.arrays import distinct


@pytest.mark.parametrize("seed", range(5))
def test_distinct_is_np_unique(seed: int) -> None:
    rng = np.random.default_rng(seed)
    for n, high in ((0, 5), (1, 5), (2, 1), (1000, 10), (5000, 10**12)):
        a = rng.integers(-high, high, n, dtype=np.int64) if high > 1 else np.zeros(n, np.int64)
        got = distinct(a)
        assert got.dtype == a.dtype
        assert np.array_equal(got, np.unique(a))
    grid = rng.integers(0, 7, (30, 4), dtype=np.int32)
    assert np.array_equal(distinct(grid), np.unique(grid))  # flattened, as np.unique does
