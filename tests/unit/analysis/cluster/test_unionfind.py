"""Union-find properties: order-independent, smallest id as cluster id, scipy agrees."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from fundtrail.analysis.cluster import unionfind as uf

edges = st.lists(st.tuples(st.integers(0, 39), st.integers(0, 39)), max_size=80)


def _arrays(e: list[tuple[int, int]]) -> tuple[np.ndarray, np.ndarray]:
    a = np.array([x for x, _ in e], dtype=np.int64)
    b = np.array([y for _, y in e], dtype=np.int64)
    return a, b


@settings(max_examples=60, deadline=None)
@given(edges, st.randoms())
def test_order_independent_and_matches_scipy(e: list[tuple[int, int]], rnd) -> None:  # type: ignore[no-untyped-def]
    a, b = _arrays(e)
    ours = uf.components(40, a, b)
    shuffled = list(e)
    rnd.shuffle(shuffled)
    sa, sb = _arrays([(y, x) if rnd.random() < 0.5 else (x, y) for x, y in shuffled])
    assert np.array_equal(ours, uf.components(40, sa, sb))
    g = coo_matrix((np.ones(len(e)), (a, b)), shape=(40, 40))
    _, labels = connected_components(g, directed=False)
    for lab in np.unique(labels):
        members = np.flatnonzero(labels == lab)
        assert set(ours[members].tolist()) == {members.min()}  # cluster id = smallest member


@settings(max_examples=40, deadline=None)
@given(edges, edges)
def test_incremental_equals_from_scratch(
    first: list[tuple[int, int]], later: list[tuple[int, int]]
) -> None:
    a1, b1 = _arrays(first)
    a2, b2 = _arrays(later)
    parent = uf.components(30, a1 % 30, b1 % 30)
    grown = uf.extend_forest(parent, 40)
    uf.union(grown, a2, b2)
    full = uf.components(40, np.concatenate([a1 % 30, a2]), np.concatenate([b1 % 30, b2]))
    assert np.array_equal(grown, full)


def test_merge_mask_is_a_spanning_forest() -> None:
    a = np.array([0, 1, 0, 3, 4], dtype=np.int64)
    b = np.array([1, 2, 2, 4, 3], dtype=np.int64)
    parent = uf.new_forest(5)
    merged = uf.union(parent, a, b)
    assert merged.tolist() == [True, True, False, True, False]  # cycles and repeats add nothing
    assert parent.tolist() == [0, 0, 0, 3, 3]


def test_rejects_ids_outside_the_forest() -> None:
    import pytest

    with pytest.raises(ValueError, match="outside"):
        uf.union(uf.new_forest(3), np.array([0]), np.array([3]))


def test_unions_left_unflattened_then_flattened_once_equal_flattening_each_time() -> None:
    # clustering joins every tx range's edges without flattening (a pass over every
    # address per range) and flattens once at the end: same evidence, same clusters
    rng = np.random.default_rng(7)
    n = 500
    batches = [(rng.integers(0, n, 80), rng.integers(0, n, 80)) for _ in range(12)]
    each, once = uf.new_forest(n), uf.new_forest(n)
    for a, b in batches:
        assert np.array_equal(uf.union(once, a, b, flat=False), uf.union(each, a, b))
    assert not np.array_equal(once, each)  # some trees were left deeper than one level
    uf.flatten(once)
    assert np.array_equal(once, each)
    assert (once <= np.arange(n)).all()
