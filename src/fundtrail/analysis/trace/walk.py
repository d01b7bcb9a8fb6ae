"""The UTXO traversal kernel (numba): poison and haircut, forward and backward, one loop.

Taint sits on outputs. A tx moves it from one *side* to the other: forward from the
outputs its inputs spend to the outputs it creates (the fee takes its share and is
reported), backward from the outputs it creates to the outputs its inputs spend. Txs
are handled from a heap in chain order (forward: increasing position; backward:
decreasing), so a tx is handled once, after every tainted output on its near side has
been settled. Both directions share everything but the two sides' arrays and what
"out of the time window" means; per output the kernel records taint (base units), hop
count, status (see ``stops``) and ``src``: the most tainted output on the near side of
the step that brought the taint (following ``src`` leads back to a start).

Hops. A hop is a move to another cluster. Three moves do not count: to an address in
the cluster of the dominant tainted output of the near side (change, consolidation);
a *consolidation into a fresh address*: the one output of a tx of several inputs and no
change, paid to an address never paid before that is not a service's (a wallet merging
its coins into a new address of its own: gangs do it in rounds before laundering; one
coin moved whole, or coins paid whole to an address used before, is a hop); and along
a *peel-chain continuation*: the largest output of a tx of two or three outputs that is
spent again by a tx of at most three. A peel chain (remainder -> one or two small peels
+ large remainder -> ... -> the rest paid whole) is so followed to its end as one hop,
while each peel that leaves it counts one.
"""

from __future__ import annotations

import heapq
from typing import NamedTuple

import numpy as np
from numba import njit

from fundtrail.analysis.trace.haircut import split
from fundtrail.analysis.trace.stops import BURNED, COINJOIN, HELD, LIMIT, PASSED, STOP
from fundtrail.arrays import distinct

POISON, HAIRCUT = 0, 1
FAR = 2**62
PEEL_MAX_OUTPUTS = 3  # a peel hop: the remainder and one or two peels (a batch has more)


class Walk(NamedTuple):
    """Per-output arrays of a finished walk, the same for every method.

    The arrays span every output of the chain, but only the ``reached`` ones hold
    anything: elsewhere taint and status are 0 and hop and src are 0 too, in pages never
    written (a trace of a few thousand outputs of a chain of millions holds theirs only).
    Read them at ``reached`` outputs (or subsets of them), never as whole arrays.
    """

    taint: np.ndarray  # int64 base units
    hop: np.ndarray  # int32 hops (at reached outputs)
    status: np.ndarray  # int8, see stops
    src: np.ndarray  # int64 output index the taint came through, -1 for starts
    lost: int  # forward: to fees; backward: from inputs of unknown origin
    visited: int  # txs handled
    reached: np.ndarray  # int64 sorted indices of the outputs the walk gave a status or taint


@njit(cache=True)
def hop_step(  # pragma: no cover - numba
    o: int,
    lo: int,
    hi: int,
    n_in: int,
    out_val: np.ndarray,
    out_spent: np.ndarray,
    out_ptr: np.ndarray,
    out_addr: np.ndarray,
    out_fresh: np.ndarray,
    addr_stop: np.ndarray,
) -> int:
    """0 if output ``o`` (of a tx with outputs lo..hi and ``n_in`` inputs) stays with the
    wallet that spent the tx's inputs (a consolidation into a fresh address, not a
    service's, or a peel chain's remainder that goes on), else 1: the hop rule of the
    module docstring past the cluster test, shared with the FIFO walk (``fifo``)."""
    n = hi - lo
    if n == 1 and n_in >= 2:
        a = out_addr[o]
        return 0 if a >= 0 and out_fresh[o] and not addr_stop[a] else 1
    if n == 1 or n > PEEL_MAX_OUTPUTS:
        return 1
    for k in range(lo, hi):  # the largest output (the first of equals) is the remainder
        if k != o and (out_val[k] > out_val[o] or (out_val[k] == out_val[o] and k < o)):
            return 1
    s = out_spent[o]
    if s >= 0 and out_ptr[s + 1] - out_ptr[s] <= PEEL_MAX_OUTPUTS:
        return 0
    return 1


@njit(cache=True)
def _push(  # pragma: no cover - numba
    heap: list[np.int64], queued: np.ndarray, t: int, forward: bool
) -> None:
    if not queued[t]:
        queued[t] = True
        heapq.heappush(heap, np.int64(t if forward else -t))


def walk_kernel(
    chain: tuple[np.ndarray, ...],
    addr_cluster: np.ndarray,
    addr_stop: np.ndarray,
    start_o: np.ndarray,
    start_amt: np.ndarray,
    method: int,
    forward: bool,
    max_hops: int,
    t_limit: int,
) -> Walk:
    """Walk from ``start_o`` (output indices) with ``start_amt`` taint each.

    ``chain`` is ``UtxoGraph.kernel_arrays()``; ``addr_stop`` marks addresses whose
    cluster ends the walk (services and their deposit clusters). ``t_limit``: forward,
    money spent after it stays held; backward, money received before it is a limit.

    The zero-filled state (taint, status, hop and src plus one, queued txs) is
    allocated here by numpy, whose zeros are pages the OS hands out when first written:
    a walk that reaches a few thousand outputs of a chain of millions holds only theirs
    (numba's ``np.zeros`` and any ``np.full(n, -1)`` write every page). The kernel lists
    the outputs it reached; hop and src are shifted back to their values there only.
    """
    n_out, n_tx = len(chain[2]), len(chain[9])
    taint = np.zeros(n_out, dtype=np.int64)
    status = np.zeros(n_out, dtype=np.int8)
    hop = np.zeros(n_out, dtype=np.int32)  # hop + 1; 0 = never reached
    src = np.zeros(n_out, dtype=np.int64)  # src + 1; 0 = a start (or never reached)
    queued = np.zeros(n_tx, dtype=np.bool_)
    touched, lost, visited = _walk(chain, addr_cluster, addr_stop, start_o, start_amt,
                                   method, forward, max_hops, t_limit, taint, status,
                                   hop, src, queued)  # fmt: skip
    reached = distinct(touched)
    hop[reached] -= 1
    src[reached] -= 1
    return Walk(taint, hop, status, src, lost, visited, reached)


@njit(cache=True)
def _walk(  # pragma: no cover - numba
    chain: tuple[np.ndarray, ...],
    addr_cluster: np.ndarray,
    addr_stop: np.ndarray,
    start_o: np.ndarray,
    start_amt: np.ndarray,
    method: int,
    forward: bool,
    max_hops: int,
    t_limit: int,
    taint: np.ndarray,
    status: np.ndarray,
    hop1: np.ndarray,
    src1: np.ndarray,
    queued: np.ndarray,
) -> tuple[np.ndarray, int, int]:
    """:func:`walk_kernel`'s loop; the state arrays come zero-filled (``hop1``, ``src1``:
    hop and src plus one). Returns (the outputs reached, with repeats; lost; visited)."""
    (out_ptr, out_addr, out_val, out_spent, out_tx, in_ptr, in_src, in_val, tx_in_total,
     tx_time, coinjoin, out_fresh) = chain  # fmt: skip
    heap = [np.int64(x) for x in range(0)]
    touched = [np.int64(x) for x in range(0)]
    lost = 0
    visited = 0
    for i in range(len(start_o)):
        taint[start_o[i]] += start_amt[i]
        hop1[start_o[i]] = 1
        touched.append(np.int64(start_o[i]))
    for i in range(len(start_o)):
        o = start_o[i]
        if status[o] != 0:
            continue
        nxt = out_spent[o] if forward else out_tx[o]
        if nxt < 0 or (forward and tx_time[nxt] > t_limit):
            status[o] = HELD
        else:
            status[o] = PASSED
            _push(heap, queued, nxt, forward)
    while len(heap) > 0:
        t = heapq.heappop(heap)
        t = t if forward else -t
        visited += 1
        lo, hi = out_ptr[t], out_ptr[t + 1]
        ilo, ihi = in_ptr[t], in_ptr[t + 1]
        # the near side: tainted outputs this tx spends (forward) or creates (backward)
        n_near = ihi - ilo if forward else hi - lo
        tin = 0
        hmin = 2**30
        best = -1
        for k in range(n_near):
            o = in_src[ilo + k] if forward else lo + k
            if o >= 0 and status[o] == PASSED and taint[o] > 0:
                tin += taint[o]
                hmin = min(hmin, hop1[o] - 1)
                if best < 0 or taint[o] > taint[best]:
                    best = o
        if tin == 0:
            continue
        ends_here = -1
        if not forward and (ihi == ilo or tx_in_total[t] == 0):
            ends_here = HELD  # coinbase: the origin of these coins
        elif coinjoin[t] and method == POISON:
            ends_here = COINJOIN
        if ends_here >= 0:
            for k in range(n_near):
                o = in_src[ilo + k] if forward else lo + k
                if o >= 0 and status[o] == PASSED and taint[o] > 0:
                    status[o] = ends_here
            continue
        # the far side: outputs created (forward, then the fee) or inputs' outputs (backward)
        n_far = hi - lo if forward else ihi - ilo
        if method == POISON:
            shares = out_val[lo:hi].copy() if forward else in_val[ilo:ihi].copy()
        elif forward:
            out_total = 0
            for o in range(lo, hi):
                out_total += out_val[o]
            total = max(tx_in_total[t], out_total)
            weights = np.empty(n_far + 1, dtype=np.int64)
            weights[:n_far] = out_val[lo:hi]
            weights[n_far] = total - out_total
            shares = split(tin, weights, total)
            lost += shares[n_far]
        else:
            shares = split(tin, in_val[ilo:ihi], tx_in_total[t])
        a_best = out_addr[best]
        c_best = addr_cluster[a_best] if a_best >= 0 else -1
        best_peel = (
            1
            if forward
            else hop_step(
                best, lo, hi, ihi - ilo, out_val, out_spent, out_ptr, out_addr, out_fresh, addr_stop
            )
        )
        for k in range(n_far):
            share = shares[k]
            if share <= 0:
                continue
            o = lo + k if forward else in_src[ilo + k]
            if o < 0:
                lost += share  # backward: an input of unknown origin
                continue
            taint[o] += share  # += : a start output may also be reached from another start
            src1[o] = best + 1
            touched.append(np.int64(o))
            a = out_addr[o]
            if forward and a < 0:
                status[o] = BURNED
                continue
            if a >= 0 and addr_cluster[a] == c_best:
                step = 0
            elif forward:
                step = hop_step(
                    o,
                    lo,
                    hi,
                    ihi - ilo,
                    out_val,
                    out_spent,
                    out_ptr,
                    out_addr,
                    out_fresh,
                    addr_stop,
                )
            else:
                step = best_peel
            h = hmin + step + 1  # plus one, as stored
            hop1[o] = h if hop1[o] == 0 else min(hop1[o], h)
            nxt = out_spent[o] if forward else out_tx[o]
            if a >= 0 and addr_stop[a]:
                status[o] = STOP
            elif hop1[o] - 1 > max_hops or (not forward and tx_time[nxt] < t_limit):
                status[o] = LIMIT
            elif forward and (nxt < 0 or tx_time[nxt] > t_limit):
                status[o] = HELD
            else:
                status[o] = PASSED
                _push(heap, queued, nxt, forward)
    reached = np.empty(len(touched), dtype=np.int64)
    for i in range(len(touched)):
        reached[i] = touched[i]
    return reached, lost, visited
