"""Union-find over dense integer address ids, compiled with numba: no Python loop per edge.

Invariant the rest of the code relies on (do not "optimise" it away): a root is always the
smallest id of its set, because a union hangs the larger root under the smaller one. So
``parent[x] <= x`` at all times, one pass in increasing id order flattens the forest, and
the flattened array *is* the ``cluster_id`` column (the smallest address id of the
cluster): deterministic, and the same number the Spark engine computes.

A flattened array is also a valid starting forest: incremental clustering loads the
stored ``cluster_id`` column, extends it with identity for new addresses and applies only
the new edges.
"""

from __future__ import annotations

import numba
import numpy as np
from numpy.typing import NDArray

IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]


@numba.njit(cache=True, nogil=True)
def _find(parent: IntArray, x: int) -> int:
    while parent[x] != x:
        parent[x] = parent[parent[x]]  # path halving
        x = parent[x]
    return x


@numba.njit(cache=True, nogil=True)
def _union_edges(parent: IntArray, a: IntArray, b: IntArray, merged: BoolArray) -> int:
    count = 0
    for i in range(a.shape[0]):
        ra = _find(parent, a[i])
        rb = _find(parent, b[i])
        if ra == rb:
            continue
        if ra < rb:
            parent[rb] = ra
        else:
            parent[ra] = rb
        merged[i] = True
        count += 1
    return count


@numba.njit(cache=True, nogil=True)
def _flatten(parent: IntArray) -> None:
    for i in range(parent.shape[0]):
        parent[i] = parent[parent[i]]


def new_forest(n: int) -> IntArray:
    """``n`` singletons."""
    return np.arange(n, dtype=np.int64)


def extend_forest(parent: IntArray, n: int) -> IntArray:
    """A forest of ``n`` ids whose first ``len(parent)`` entries keep their sets."""
    if n < parent.shape[0]:
        raise ValueError(f"cannot shrink a forest of {parent.shape[0]} ids to {n}")
    out = np.arange(n, dtype=np.int64)
    out[: parent.shape[0]] = parent
    return out


def union(parent: IntArray, a: IntArray, b: IntArray, *, flat: bool = True) -> BoolArray:
    """Join ``a[i]`` with ``b[i]`` for every edge, in place; flatten the forest.

    Returns a mask of the edges that actually joined two sets: a spanning forest, the
    minimal evidence kept for ``cluster why``.

    ``flat=False`` leaves the forest unflattened (call :func:`flatten` once at the end):
    the mask and the final cluster ids are the same, since roots are set minima whatever
    the trees' shape. Clustering joins each tx range's edges so; flattening every
    address after every range cost a pass over all addresses per range, quadratic in
    the chain's length.
    """
    a = np.ascontiguousarray(a, dtype=np.int64)
    b = np.ascontiguousarray(b, dtype=np.int64)
    if a.shape != b.shape:
        raise ValueError("edge arrays differ in length")
    n = parent.shape[0]
    if a.size and (min(a.min(), b.min()) < 0 or max(a.max(), b.max()) >= n):
        raise ValueError(f"edge endpoint outside 0..{n - 1}")
    merged = np.zeros(a.shape[0], dtype=np.bool_)
    _union_edges(parent, a, b, merged)
    if flat:
        _flatten(parent)
    return merged


def flatten(parent: IntArray) -> None:
    """Point every id straight at its root (the smallest id of its set), in place."""
    _flatten(parent)


def components(n: int, a: IntArray, b: IntArray) -> IntArray:
    """Cluster id (smallest member id) of each of ``n`` ids, given undirected edges."""
    parent = new_forest(n)
    union(parent, a, b)
    return parent
