"""Services recognised by what they do on a UTXO chain (no tag needed for the deposits).

Two patterns, from the literature on exchange behaviour (Meiklejohn et al. 2013;
BlockSci's and GraphSense's address-cluster tagging):

* ``deposit_sweep``: a *sweep* is a tx whose inputs all come from one cluster D and whose
  outputs all go to one other cluster S, to a *hot wallet* address of S (one that pays
  outside S: withdrawals). When S is a service (attributed, or recognised below) that
  sweeps habitually (it receives ``MIN_SWEEPS_IN`` sweeps: one wallet emptied into an
  exchange's wallet proves nothing) and D forwards *only* that way (every tx spending
  D's coins is such a sweep into S), D is S's deposit cluster: money entering D is a
  cash-out at S, at the address it entered by, whether D has been swept since or not.
  The multi-input heuristic already puts deposit addresses swept together into one
  cluster, so one sweep attributes the whole batch. The guards matter: a customer (or a
  gang) that empties a wallet into an exchange's deposit address pays an address that
  never pays outside S, and spends its coins other ways too; a deposit cluster does
  neither.
* ``hot_wallet``: an unattributed cluster fed by sweeps (``MIN_SWEEPS_IN``) that pays
  many distinct other clusters (``MIN_PAYEES``: customers' withdrawals, batched or one
  by one), most of it (by value) to wallets that are not themselves services or their
  deposits, is a custodial service's hot wallet: an "unidentified service" where a
  trace stops, instead of following the customers' withdrawals. A gang that consolidates
  its takings and peels them into exchanges pays mostly deposit addresses of services,
  so it is not mistaken for one; a gang's rare fan-out does not reach ``MIN_PAYEES``.

Both keep a confidence below any direct attribution; the row names the tx that shows it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fundtrail.analysis.attribution.entity import BEHAVIOUR_CONFIDENCE

MIN_SWEEPS_IN = 5  # sweeps a service receives before its sweeps count as evidence
MIN_PAYEES = 20  # distinct other clusters a hot wallet has paid
CUSTOMER_SHARE = 0.5  # of a hot wallet's payments (by value), at least this to non-services
HOT_WALLET_CONFIDENCE = 40
BIG = np.iinfo(np.int64).max


@dataclass(frozen=True, slots=True)
class Found:
    """Behaviour rows before naming: clusters, what they point to, an evidence tx position."""

    hot: np.ndarray  # clusters recognised as hot wallets
    hot_tx: np.ndarray  # one sweep into each
    deposit: np.ndarray  # deposit clusters
    service: np.ndarray  # the service cluster each is swept into
    sweep_tx: np.ndarray  # the first sweep tx position into it
    sweeps: np.ndarray  # how many sweeps show it


@dataclass(frozen=True, slots=True)
class _Txs:
    """Per tx: the single input cluster (or BIG/-1), the output clusters' span, flags."""

    in_c: np.ndarray  # cluster of each input address (-1: none)
    out_c: np.ndarray  # cluster of each output address (-1: none)
    tx_of_in: np.ndarray
    tx_of_out: np.ndarray
    i_min: np.ndarray
    i_max: np.ndarray
    o_min: np.ndarray
    o_max: np.ndarray
    one_in: np.ndarray  # inputs all from one cluster, not a CoinJoin
    sweep: np.ndarray  # one input cluster -> one other output cluster, to a hot wallet


def _segment(values: np.ndarray, ptr: np.ndarray, ufunc: np.ufunc, empty: int) -> np.ndarray:
    out = np.full(len(ptr) - 1, empty, dtype=np.int64)
    nonempty = ptr[:-1] < ptr[1:]
    if nonempty.any():
        out[nonempty] = ufunc.reduceat(values, ptr[:-1][nonempty])
    return out


def _txs(
    out_ptr: np.ndarray,
    out_addr: np.ndarray,
    in_ptr: np.ndarray,
    in_addr: np.ndarray,
    coinjoin: np.ndarray,
    cluster: np.ndarray,
) -> _Txs:
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
    pays_out[in_addr[outside_tx[tx_of_in] & (in_addr >= 0)]] = True
    to_hot = np.zeros(n_tx, dtype=bool)
    to_hot[tx_of_out[(out_addr >= 0) & pays_out[np.maximum(out_addr, 0)]]] = True
    sweep = one_in & (o_max >= 0) & (o_min == o_max) & (o_min != i_min) & to_hot
    return _Txs(in_c, out_c, tx_of_in, tx_of_out, i_min, i_max, o_min, o_max, one_in, sweep)


def find(
    out_ptr: np.ndarray,
    out_addr: np.ndarray,
    out_val: np.ndarray,
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
    t = _txs(out_ptr, out_addr, in_ptr, in_addr, coinjoin, cluster)
    s_c, s_first, s_n = _count(t.o_min, t.sweep)
    swept = s_c[s_n >= MIN_SWEEPS_IN]  # clusters that receive sweeps habitually
    # who pays whom (cluster pairs) and how much, over txs with one input cluster
    paid = (t.out_c >= 0) & t.one_in[t.tx_of_out] & (t.out_c != t.i_min[t.tx_of_out])
    width = int(cluster.max(initial=0)) + 1
    pair = t.i_min[t.tx_of_out[paid]] * width + t.out_c[paid]
    pairs, inv = np.unique(pair, return_inverse=True)
    value = np.bincount(inv, weights=out_val[paid].astype(np.float64), minlength=len(pairs))
    payer, payee = pairs // width, pairs % width
    p_c, p_n = np.unique(payer, return_counts=True)
    many = p_c[p_n >= MIN_PAYEES]
    cand = np.setdiff1d(np.intersect1d(many, swept), attributed)
    # a candidate paying mostly services (or their deposits) deposits at them: not one
    first = _deposit_clusters(t, np.union1d(services, cand), swept, attributed)[0]
    serviceish = np.union1d(np.union1d(services, cand), first)
    mine = np.isin(payer, cand)
    to_services = np.isin(payee, serviceish)
    total = _sum_by(payer[mine], value[mine], cand)
    to_svc = _sum_by(payer[mine & to_services], value[mine & to_services], cand)
    hot = cand[(total - to_svc) >= CUSTOMER_SHARE * np.maximum(total, 1.0)]
    hot_tx = s_first[np.searchsorted(s_c, hot)]
    dep, svc, sweep_tx, n = _deposit_clusters(t, np.union1d(services, hot), swept, attributed)
    return Found(hot, hot_tx, dep, svc, sweep_tx, n)


def _sum_by(key: np.ndarray, weights: np.ndarray, keys: np.ndarray) -> np.ndarray:
    out = np.zeros(len(keys), dtype=np.float64)
    if len(key):
        np.add.at(out, np.searchsorted(keys, key), weights)
    return out


def _deposit_clusters(
    t: _Txs, all_services: np.ndarray, swept: np.ndarray, attributed: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Clusters whose every spend is a sweep into one habitually sweeping service."""
    sweepers = np.intersect1d(all_services, swept)
    sw = t.sweep & np.isin(t.o_min, sweepers) & ~np.isin(t.i_min, attributed)
    sw &= ~np.isin(t.i_min, all_services)
    dep, svc, first, n = _deposits(t.i_min[sw], t.o_min[sw], np.flatnonzero(sw))
    spend_c, _, spends = _count(t.i_min, t.one_in)
    only = spends[np.searchsorted(spend_c, dep)] == n if len(dep) else np.zeros(0, dtype=bool)
    unclear = ~t.one_in & (t.i_max >= 0)  # spent together with other clusters' coins
    mixed = np.unique(t.in_c[unclear[t.tx_of_in] & (t.in_c >= 0)])
    only &= ~np.isin(dep, mixed)
    return dep[only], svc[only], first[only], n[only]


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
