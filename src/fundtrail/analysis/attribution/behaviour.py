"""Services recognised by what they do on a UTXO chain (no tag needed for the deposits).

Two patterns, both from the literature on exchange behaviour (Meiklejohn et al. 2013;
BlockSci's and GraphSense's address-cluster tagging):

* ``deposit_sweep``: a *sweep* is a tx whose inputs all come from one cluster D and whose
  outputs all go to one other cluster S, to a *hot wallet* address of S (one that pays
  outside S: withdrawals). When S is a service (attributed, or recognised below) and D
  forwards *only* that way (every tx spending D's coins is such a sweep into S), D is
  S's deposit cluster: money entering D is a cash-out at S, at the address it entered by,
  whether D has been swept since or not. Only a service that habitually sweeps (it
  receives ``MIN_SWEEPS_IN`` sweeps) counts: one wallet emptied into an exchange's
  wallet proves nothing. The multi-input heuristic already puts deposit
  addresses swept together into one cluster, so one sweep attributes the whole batch.
  Both guards matter: a customer (or a gang) that empties a wallet into an exchange's
  deposit address pays an address that never pays outside S, and spends its coins other
  ways too; a deposit cluster does neither.
* ``batched_withdrawals``: a cluster that pays many customers in batched txs (at least
  ``BATCH_PAYEES`` other clusters in one tx, ``MIN_BATCHES`` times) *and* receives
  sweeps (``MIN_SWEEPS_IN``) is a custodial service's hot wallet, not a gang spreading
  funds: a gang's fan-out is rare and is not fed by a stream of swept deposits. An
  untagged exchange is so still a place where the trace stops ("unidentified service"),
  instead of following its customers' withdrawals.

Both keep a confidence below any direct attribution; the row names the tx that shows it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fundtrail.analysis.attribution.entity import BEHAVIOUR_CONFIDENCE

BATCH_PAYEES = 5  # distinct other clusters paid by one tx
MIN_BATCHES = 10
MIN_SWEEPS_IN = 5
HOT_WALLET_CONFIDENCE = 40
BIG = np.iinfo(np.int64).max


@dataclass(frozen=True, slots=True)
class Found:
    """Behaviour rows before naming: clusters, what they point to, an evidence tx position."""

    hot: np.ndarray  # clusters recognised by batched withdrawals
    hot_tx: np.ndarray  # one batch tx position of each
    deposit: np.ndarray  # deposit clusters
    service: np.ndarray  # the service cluster each is swept into
    sweep_tx: np.ndarray  # the first sweep tx position into it
    sweeps: np.ndarray  # how many sweeps show it


def _segment(values: np.ndarray, ptr: np.ndarray, ufunc: np.ufunc, empty: int) -> np.ndarray:
    out = np.full(len(ptr) - 1, empty, dtype=np.int64)
    nonempty = ptr[:-1] < ptr[1:]
    if nonempty.any():
        out[nonempty] = ufunc.reduceat(values, ptr[:-1][nonempty])
    return out


def find(
    out_ptr: np.ndarray,
    out_addr: np.ndarray,
    in_ptr: np.ndarray,
    in_addr: np.ndarray,
    coinjoin: np.ndarray,
    cluster: np.ndarray,
    services: np.ndarray,
    attributed: np.ndarray,
) -> Found:
    """Hot wallets and deposit clusters, from the chain arrays and the attributed clusters.

    ``services``: clusters directly attributed to a service; ``attributed``: every
    directly attributed cluster (its own attribution wins over behaviour).
    """
    out_c = np.where(out_addr >= 0, cluster[np.maximum(out_addr, 0)], -1)
    in_c = np.where(in_addr >= 0, cluster[np.maximum(in_addr, 0)], -1)
    o_min = _segment(np.where(out_c >= 0, out_c, BIG), out_ptr, np.minimum, BIG)
    o_max = _segment(out_c, out_ptr, np.maximum, -1)
    i_min = _segment(np.where(in_c >= 0, in_c, BIG), in_ptr, np.minimum, BIG)
    i_max = _segment(in_c, in_ptr, np.maximum, -1)
    one_in = (i_max >= 0) & (i_min == i_max) & ~coinjoin
    n_tx = len(out_ptr) - 1
    tx_of_out = np.repeat(np.arange(n_tx, dtype=np.int64), np.diff(out_ptr))
    tx_of_in = np.repeat(np.arange(n_tx, dtype=np.int64), np.diff(in_ptr))
    # an address "pays outside" when a tx it spends from pays another cluster than its own
    outside_tx = (o_max >= 0) & ((o_min != i_min) | (o_max != i_min)) & one_in
    pays_out = np.zeros(len(cluster), dtype=bool)
    spenders = in_addr[outside_tx[tx_of_in] & (in_addr >= 0)]
    pays_out[spenders] = True
    to_hot = np.zeros(n_tx, dtype=bool)
    hot_out = (out_addr >= 0) & pays_out[np.maximum(out_addr, 0)]
    to_hot[tx_of_out[hot_out]] = True
    sweep = one_in & (o_max >= 0) & (o_min == o_max) & (o_min != i_min) & to_hot
    # batched payments: distinct clusters other than the payer's, per tx
    other = (out_c >= 0) & (out_c != i_min[tx_of_out]) & one_in[tx_of_out]
    width = int(cluster.max(initial=0)) + 1
    pairs = np.unique(tx_of_out[other] * width + out_c[other])
    payees = np.bincount(pairs // width, minlength=n_tx)
    batch = one_in & (payees >= BATCH_PAYEES)
    b_c, b_first, b_n = _count(i_min, batch)
    s_c, _, s_n = _count(o_min, sweep)
    busy = np.intersect1d(b_c[b_n >= MIN_BATCHES], s_c[s_n >= MIN_SWEEPS_IN])
    hot = np.setdiff1d(busy, attributed)
    hot_tx = b_first[np.searchsorted(b_c, hot)]
    all_services = np.union1d(services, hot)
    sweepers = np.intersect1d(all_services, s_c[s_n >= MIN_SWEEPS_IN])
    sw = sweep & np.isin(o_min, sweepers) & ~np.isin(i_min, attributed)
    sw &= ~np.isin(i_min, all_services)
    dep, svc, first, n = _deposits(i_min[sw], o_min[sw], np.flatnonzero(sw))
    # only clusters whose every spend is a sweep into that service
    spend_c, _, spends = _count(i_min, one_in)
    only = spends[np.searchsorted(spend_c, dep)] == n if len(dep) else np.zeros(0, dtype=bool)
    unclear = ~one_in & (i_max >= 0)  # spent together with other clusters' coins
    mixed = np.unique(in_c[unclear[tx_of_in] & (in_c >= 0)])
    only &= ~np.isin(dep, mixed)
    return Found(hot, hot_tx, dep[only], svc[only], first[only], n[only])


def _count(key: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct keys among ``mask``ed txs, each one's first tx position and count."""
    pos = np.flatnonzero(mask)
    uniq, first, counts = np.unique(key[pos], return_index=True, return_counts=True)
    return uniq, pos[first], counts


def _deposits(
    dep: np.ndarray, svc: np.ndarray, tx: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per deposit cluster: the service it is swept into most often, first sweep, count."""
    if len(dep) == 0:
        z = np.zeros(0, dtype=np.int64)
        return z, z, z, z
    order = np.lexsort((tx, svc, dep))
    dep, svc, tx = dep[order], svc[order], tx[order]
    new = np.ones(len(dep), dtype=bool)
    new[1:] = (dep[1:] != dep[:-1]) | (svc[1:] != svc[:-1])
    starts = np.flatnonzero(new)
    counts = np.diff(np.append(starts, len(dep)))
    p_dep, p_svc, p_tx = dep[starts], svc[starts], tx[starts]
    # most sweeps first, then the earlier sweep, per deposit cluster
    best = np.lexsort((p_tx, -counts, p_dep))
    p_dep, p_svc, p_tx, counts = p_dep[best], p_svc[best], p_tx[best], counts[best]
    keep = np.ones(len(p_dep), dtype=bool)
    keep[1:] = p_dep[1:] != p_dep[:-1]
    return p_dep[keep], p_svc[keep], p_tx[keep], counts[keep]


def deposit_confidence(service_confidence: int) -> int:
    """Below the service's own attribution, and never above ``BEHAVIOUR_CONFIDENCE``."""
    return max(1, min(BEHAVIOUR_CONFIDENCE, int(service_confidence) - 10))
