"""FIFO taint on UTXO chains: inputs are matched to outputs in order, by value.

Lay a tx's inputs end to end on a line, in input order: input ``j`` covers
``[I_j, I_j + v_j)``. Lay its outputs on the same line in output order, then the fee:
output ``i`` covers ``[O_i, O_i + w_i)``, the fee ``[sum(w), sum(v))``. The satoshis at
one point of the line are the same coins on both sides. Taint is therefore a set of
intervals inside each output, mapped through a tx exactly; nothing is rounded or
mixed, so FIFO also runs backward, and tracing an amount forward and then backward
returns exactly to where it started (less what went to fees).

Interval lists are kept sorted and merged; amounts are Python ints.
"""

from __future__ import annotations

import heapq
from bisect import bisect_right
from dataclasses import dataclass, field

import numpy as np

from fundtrail.analysis.trace.graph import UtxoGraph
from fundtrail.analysis.trace.stops import BURNED, HELD, LIMIT, PASSED, STOP
from fundtrail.analysis.trace.walk import hop_step

Intervals = list[tuple[int, int]]


@dataclass
class FifoWalk:
    """Per output: tainted intervals (output-local coordinates), hop, status, src."""

    taint: dict[int, Intervals] = field(default_factory=dict)
    hop: dict[int, int] = field(default_factory=dict)
    status: dict[int, int] = field(default_factory=dict)
    src: dict[int, int] = field(default_factory=dict)
    lost: int = 0  # forward: to fees; backward: to inputs of unknown origin
    visited: int = 0

    def amount(self, o: int) -> int:
        return sum(b - a for a, b in self.taint.get(o, []))


def merge(intervals: Intervals) -> Intervals:
    out: Intervals = []
    for a, b in sorted(intervals):
        if b <= a:
            continue
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def map_line(
    intervals: Intervals, src_start: int, dst_starts: list[int], dst_ends: list[int]
) -> list[tuple[int, int, int]]:
    """Map intervals of a part starting at ``src_start`` on the line onto parts ``dst``.

    Returns (dst part index, a, b) in the dst part's local coordinates.
    """
    found: list[tuple[int, int, int]] = []
    for a, b in intervals:
        lo, hi = src_start + a, src_start + b
        i = max(bisect_right(dst_starts, lo) - 1, 0)
        while i < len(dst_starts) and dst_starts[i] < hi:
            x, y = max(lo, dst_starts[i]), min(hi, dst_ends[i])
            if x < y:
                found.append((i, x - dst_starts[i], y - dst_starts[i]))
            i += 1
    return found


def _offsets(values: np.ndarray) -> tuple[list[int], list[int]]:
    ends = np.cumsum(values).tolist()
    starts = [0, *ends[:-1]]
    return [int(s) for s in starts], [int(e) for e in ends]


def _hop_step(g: UtxoGraph, o: int, lo: int, hi: int, other_addr: int, stop: np.ndarray) -> int:
    """The haircut kernel's hop rule (``walk.hop_step``) for output ``o`` against one
    input's address: the same cluster is no hop, nor a consolidation into a fresh
    address or a peel chain's remainder."""
    a = int(g.out_addr[o])
    if a >= 0 and other_addr >= 0 and g.addr_cluster[a] == g.addr_cluster[other_addr]:
        return 0
    t = int(g.out_tx[o])
    n_in = int(g.in_ptr[t + 1] - g.in_ptr[t])
    return int(hop_step(o, lo, hi, n_in, g.out_val, g.out_spent, g.out_ptr, g.out_addr,
                        g.out_fresh, stop))  # fmt: skip


def fifo_forward(
    g: UtxoGraph,
    addr_stop: np.ndarray,
    starts: dict[int, Intervals],
    *,
    max_hops: int,
    until: int,
) -> FifoWalk:
    w = FifoWalk()
    heap: list[int] = []
    queued: set[int] = set()

    def route(o: int, is_start: bool) -> None:
        a = int(g.out_addr[o])
        s = int(g.out_spent[o])
        if a < 0:
            w.status[o] = BURNED
        elif not is_start and addr_stop[a]:
            w.status[o] = STOP
        elif not is_start and w.hop[o] > max_hops:
            w.status[o] = LIMIT
        elif s < 0 or int(g.tx_time[s]) > until:
            w.status[o] = HELD
        else:
            w.status[o] = PASSED
            if s not in queued:
                queued.add(s)
                heapq.heappush(heap, s)

    for o, iv in starts.items():
        w.taint[o] = merge(iv)
        w.hop[o] = 0
        route(o, True)
    while heap:
        t = heapq.heappop(heap)
        w.visited += 1
        ilo, ihi = int(g.in_ptr[t]), int(g.in_ptr[t + 1])
        lo, hi = int(g.out_ptr[t]), int(g.out_ptr[t + 1])
        in_starts, _ = _offsets(g.in_val[ilo:ihi])
        out_starts, out_ends = _offsets(g.out_val[lo:hi])
        fee_start = out_ends[-1] if out_ends else 0
        fee_end = max(int(g.tx_in_total[t]), fee_start)
        dst_s, dst_e = [*out_starts, fee_start], [*out_ends, fee_end]
        got: dict[int, Intervals] = {}
        hops: dict[int, int] = {}
        srcs: dict[int, int] = {}
        for j in range(ilo, ihi):
            o = int(g.in_src[j])
            if o < 0 or w.status.get(o) != PASSED:
                continue
            for i, a, b in map_line(w.taint[o], in_starts[j - ilo], dst_s, dst_e):
                if i == hi - lo:
                    w.lost += b - a
                    continue
                got.setdefault(i, []).append((a, b))
                h = w.hop[o] + _hop_step(g, lo + i, lo, hi, int(g.in_addr[j]), addr_stop)
                hops[i] = min(hops.get(i, h), h)
                srcs.setdefault(i, o)
        for i, iv in sorted(got.items()):
            o = lo + i
            w.taint[o] = merge(w.taint.get(o, []) + iv)
            w.hop[o], w.src[o] = min(w.hop.get(o, hops[i]), hops[i]), srcs[i]
            route(o, False)
    return w


def fifo_backward(
    g: UtxoGraph,
    addr_stop: np.ndarray,
    starts: dict[int, Intervals],
    *,
    max_hops: int,
    since: int,
) -> FifoWalk:
    w = FifoWalk()
    heap: list[int] = []
    queued: set[int] = set()

    def push(o: int) -> None:
        t = int(g.out_tx[o])
        w.status[o] = PASSED
        if t not in queued:
            queued.add(t)
            heapq.heappush(heap, -t)

    for o, iv in starts.items():
        w.taint[o] = merge(iv)
        w.hop[o] = 0
        push(o)
    while heap:
        t = -heapq.heappop(heap)
        w.visited += 1
        ilo, ihi = int(g.in_ptr[t]), int(g.in_ptr[t + 1])
        lo, hi = int(g.out_ptr[t]), int(g.out_ptr[t + 1])
        tainted = [o for o in range(lo, hi) if w.status.get(o) == PASSED]
        if ihi == ilo:
            for o in tainted:
                w.status[o] = HELD  # coinbase: the coins' origin
            continue
        in_starts, in_ends = _offsets(g.in_val[ilo:ihi])
        out_starts, _ = _offsets(g.out_val[lo:hi])
        got: dict[int, Intervals] = {}
        hops: dict[int, int] = {}
        srcs: dict[int, int] = {}
        for o in tainted:
            for j, a, b in map_line(w.taint[o], out_starts[o - lo], in_starts, in_ends):
                got.setdefault(j, []).append((a, b))
                step = _hop_step(g, o, lo, hi, int(g.in_addr[ilo + j]), addr_stop)
                hops[j] = min(hops.get(j, w.hop[o] + step), w.hop[o] + step)
                srcs.setdefault(j, o)
        for j, iv in sorted(got.items()):
            o = int(g.in_src[ilo + j])
            if o < 0:
                w.lost += sum(b - a for a, b in iv)
                continue
            w.taint[o] = merge(w.taint.get(o, []) + iv)
            w.hop[o], w.src[o] = min(w.hop.get(o, hops[j]), hops[j]), srcs[j]
            a = int(g.in_addr[ilo + j])
            if a >= 0 and addr_stop[a]:
                w.status[o] = STOP
            elif w.hop[o] > max_hops or int(g.tx_time[g.out_tx[o]]) < since:
                w.status[o] = LIMIT
            else:
                push(o)
    return w
