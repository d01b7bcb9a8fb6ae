"""Exact integer haircut shares: numba kernel and Python twin agree and conserve value."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from fundtrail.analysis.trace.haircut import muldiv, split, split_int


@settings(deadline=None)
@given(st.integers(min_value=1, max_value=21_000_000 * 10**8), st.data())
def test_muldiv_matches_python_ints(total: int, data: st.DataObject) -> None:
    # the kernels' domain: taint and weight never exceed the total they are shares of
    t = data.draw(st.integers(min_value=0, max_value=total))
    w = data.draw(st.integers(min_value=0, max_value=total))
    assert tuple(int(x) for x in muldiv(t, w, total)) == divmod(t * w, total)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.integers(min_value=0, max_value=21_000_000 * 10**8), min_size=1, max_size=8),
    st.data(),
)
def test_split_conserves_and_matches_twin(weights: list[int], data: st.DataObject) -> None:
    total = sum(weights)
    t = data.draw(st.integers(min_value=0, max_value=total))
    shares = [int(x) for x in split(t, np.array(weights, dtype=np.int64), total)]
    assert shares == split_int(t, weights)
    assert sum(shares) == (t if total else 0)
    for share, w in zip(shares, weights, strict=True):
        assert 0 <= share <= w  # never more taint than the part holds
        if total:
            assert abs(share * total - t * w) < total  # within one unit of the true share


def test_split_hand_example() -> None:
    # 900 sat of taint over outputs 2000, 1800 and a 100 sat fee (inputs 3900):
    # 900*2000/3900 = 461.54, 900*1800/3900 = 415.38, 900*100/3900 = 23.08 -> floors 461,
    # 415, 23 (sum 899); the one unit left goes to the largest remainder (0.54): 462.
    assert split_int(900, [2000, 1800, 100]) == [462, 415, 23]


def test_split_wei_amounts_beyond_64_bits() -> None:
    shares = split_int(10**27 + 7, [3 * 10**27, 10**27, 5])
    assert sum(shares) == 10**27 + 7
