"""The UTXO traversal kernels (numba) shared by poison and haircut, forward and backward.

Taint sits on outputs. Forward, txs are processed in increasing chain position from a
heap, so a tx is handled once, after every tainted input it has has been settled;
backward, in decreasing position. Per output the kernels record taint (base units), hop
count, status (see ``stops``) and ``src``: the output on the other side of the step
(forward: the tx's most tainted input; backward: the tainted output that pulled it in).

Hops. A hop is a move to another cluster. Two moves do not count: to an address in the
cluster of the tx's dominant tainted input (change, consolidation), and to the larger
output of a two-output tx when that output is spent again by a two-output tx: the
*peel-chain continuation*. A peel chain (remainder -> small peel + large remainder ->
...) is so followed to its end as one hop, while each peel that leaves it counts one.
"""

from __future__ import annotations

import heapq

import numpy as np
from numba import njit

from fundtrail.analysis.trace.haircut import split
from fundtrail.analysis.trace.stops import BURNED, CASH_OUT, COINJOIN, HELD, LIMIT, PASSED

POISON, HAIRCUT = 0, 1
FAR = np.int64(2**62)


@njit(cache=True)
def _step(  # pragma: no cover - numba
    o: int,
    lo: int,
    hi: int,
    out_val: np.ndarray,
    out_spent: np.ndarray,
    out_ptr: np.ndarray,
    same_cluster: bool,
) -> int:
    """0 if moving into output ``o`` of a tx (outputs lo..hi) is no hop, else 1."""
    if same_cluster:
        return 0
    if hi - lo == 2:
        other = lo if o == lo + 1 else lo + 1
        if out_val[o] > out_val[other] or (out_val[o] == out_val[other] and o == lo):
            s = out_spent[o]
            if s >= 0 and out_ptr[s + 1] - out_ptr[s] == 2:
                return 0  # peel-chain continuation
    return 1


@njit(cache=True)
def forward_kernel(  # pragma: no cover - numba
    out_ptr: np.ndarray,
    out_addr: np.ndarray,
    out_val: np.ndarray,
    out_spent: np.ndarray,
    in_ptr: np.ndarray,
    in_src: np.ndarray,
    in_addr: np.ndarray,
    tx_in_total: np.ndarray,
    tx_time: np.ndarray,
    coinjoin: np.ndarray,
    addr_cluster: np.ndarray,
    addr_stop: np.ndarray,
    start_o: np.ndarray,
    start_amt: np.ndarray,
    method: int,
    max_hops: int,
    min_amount: int,
    until: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, int, int]:
    n_out = len(out_val)
    taint = np.zeros(n_out, dtype=np.int64)
    hop = np.full(n_out, -1, dtype=np.int32)
    status = np.zeros(n_out, dtype=np.int8)
    src = np.full(n_out, -1, dtype=np.int64)
    queued = np.zeros(len(tx_time), dtype=np.bool_)
    heap = [np.int64(x) for x in range(0)]
    fees = 0
    visited = 0
    for i in range(len(start_o)):
        o = start_o[i]
        taint[o] += start_amt[i]
        hop[o] = 0
    for i in range(len(start_o)):
        o = start_o[i]
        if status[o] != 0:
            continue
        s = out_spent[o]
        if s < 0 or tx_time[s] > until:
            status[o] = HELD
        else:
            status[o] = PASSED
            if not queued[s]:
                queued[s] = True
                heapq.heappush(heap, s)
    while len(heap) > 0:
        t = heapq.heappop(heap)
        visited += 1
        tin = 0
        hmin = 2**30
        best = -1
        for j in range(in_ptr[t], in_ptr[t + 1]):
            o = in_src[j]
            if o >= 0 and status[o] == PASSED and taint[o] > 0:
                tin += taint[o]
                hmin = min(hmin, hop[o])
                if best < 0 or taint[o] > taint[in_src[best]]:
                    best = j
        if tin == 0:
            continue
        if coinjoin[t] and method == POISON:
            for j in range(in_ptr[t], in_ptr[t + 1]):
                o = in_src[j]
                if o >= 0 and status[o] == PASSED and taint[o] > 0:
                    status[o] = COINJOIN
            continue
        lo, hi = out_ptr[t], out_ptr[t + 1]
        k = hi - lo
        out_total = 0
        for o in range(lo, hi):
            out_total += out_val[o]
        if method == POISON:
            shares = out_val[lo:hi].copy()
        else:
            total = max(tx_in_total[t], out_total)
            weights = np.empty(k + 1, dtype=np.int64)
            weights[:k] = out_val[lo:hi]
            weights[k] = total - out_total
            shares = split(tin, weights, total)
            fees += shares[k]
        a_src = in_addr[best]
        c_src = addr_cluster[a_src] if a_src >= 0 else -1
        for i in range(k):
            share = shares[i]
            if share <= 0:
                continue
            o = lo + i
            taint[o] += share  # += : a start output may also be reached from another start
            src[o] = in_src[best]
            a = out_addr[o]
            if a < 0:
                status[o] = BURNED
                continue
            h = hmin + _step(o, lo, hi, out_val, out_spent, out_ptr, addr_cluster[a] == c_src)
            hop[o] = h if hop[o] < 0 else min(hop[o], h)
            s = out_spent[o]
            if addr_stop[a]:
                status[o] = CASH_OUT
            elif hop[o] > max_hops or share < min_amount:
                status[o] = LIMIT
            elif s < 0 or tx_time[s] > until:
                status[o] = HELD
            else:
                status[o] = PASSED
                if not queued[s]:
                    queued[s] = True
                    heapq.heappush(heap, s)
    return taint, hop, status, src, fees, visited


@njit(cache=True)
def backward_kernel(  # pragma: no cover - numba
    out_ptr: np.ndarray,
    out_addr: np.ndarray,
    out_val: np.ndarray,
    out_spent: np.ndarray,
    out_tx: np.ndarray,
    in_ptr: np.ndarray,
    in_src: np.ndarray,
    in_addr: np.ndarray,
    in_val: np.ndarray,
    tx_time: np.ndarray,
    coinjoin: np.ndarray,
    addr_cluster: np.ndarray,
    addr_stop: np.ndarray,
    start_o: np.ndarray,
    start_amt: np.ndarray,
    method: int,
    max_hops: int,
    min_amount: int,
    since: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, int, int]:
    """Where did the taint on the start outputs come from? ``fees`` = unresolved inputs."""
    n_out = len(out_val)
    taint = np.zeros(n_out, dtype=np.int64)
    hop = np.full(n_out, -1, dtype=np.int32)
    status = np.zeros(n_out, dtype=np.int8)
    src = np.full(n_out, -1, dtype=np.int64)
    queued = np.zeros(len(tx_time), dtype=np.bool_)
    heap = [np.int64(x) for x in range(0)]
    unresolved = 0
    visited = 0
    for i in range(len(start_o)):
        o = start_o[i]
        taint[o] += start_amt[i]
        hop[o] = 0
    for i in range(len(start_o)):
        o = start_o[i]
        if status[o] != 0:
            continue
        status[o] = PASSED
        t = out_tx[o]
        if not queued[t]:
            queued[t] = True
            heapq.heappush(heap, -t)
    while len(heap) > 0:
        t = -heapq.heappop(heap)
        visited += 1
        lo, hi = out_ptr[t], out_ptr[t + 1]
        tot = 0
        hmin = 2**30
        best = -1
        for o in range(lo, hi):
            if status[o] == PASSED and taint[o] > 0:
                tot += taint[o]
                hmin = min(hmin, hop[o])
                if best < 0 or taint[o] > taint[best]:
                    best = o
        if tot == 0:
            continue
        ilo, ihi = in_ptr[t], in_ptr[t + 1]
        in_total = 0
        for j in range(ilo, ihi):
            in_total += in_val[j]
        if ihi == ilo or in_total == 0:  # coinbase: the origin of these coins
            for o in range(lo, hi):
                if status[o] == PASSED and taint[o] > 0:
                    status[o] = HELD
            continue
        if coinjoin[t] and method == POISON:
            for o in range(lo, hi):
                if status[o] == PASSED and taint[o] > 0:
                    status[o] = COINJOIN
            continue
        if method == POISON:
            shares = in_val[ilo:ihi].copy()
        else:
            shares = split(tot, in_val[ilo:ihi], in_total)
        a_best = out_addr[best]
        c_best = addr_cluster[a_best] if a_best >= 0 else -1
        step_peel = _step(best, lo, hi, out_val, out_spent, out_ptr, False)
        for j in range(ilo, ihi):
            share = shares[j - ilo]
            if share <= 0:
                continue
            o = in_src[j]
            if o < 0:
                unresolved += share
                continue
            taint[o] += share
            src[o] = best
            a = in_addr[j]
            same = a >= 0 and addr_cluster[a] == c_best
            h = hmin + (0 if same else step_peel)
            hop[o] = h if hop[o] < 0 else min(hop[o], h)
            if a >= 0 and addr_stop[a]:
                status[o] = CASH_OUT
            elif hop[o] > max_hops or share < min_amount or tx_time[out_tx[o]] < since:
                status[o] = LIMIT
            else:
                status[o] = PASSED
                u = out_tx[o]
                if not queued[u]:
                    queued[u] = True
                    heapq.heappush(heap, -u)
    return taint, hop, status, src, unresolved, visited
