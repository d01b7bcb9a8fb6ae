"""Services recognised by what they do on a UTXO chain (no tag needed for the deposits).

Two patterns, from the literature on exchange behaviour (Meiklejohn et al. 2013;
BlockSci's and GraphSense's address-cluster tagging):

* ``deposit_sweep``: a *sweep* is a tx whose inputs all come from one cluster D and whose
  outputs all go to one other cluster S, to a *hot wallet* address of S (one that pays
  outside S: withdrawals). When S is a service (attributed, or recognised below) that
  sweeps habitually (it receives ``MIN_SWEEPS_IN`` sweeps: one wallet emptied into an
  exchange's wallet proves nothing) and D forwards *only* that way (every tx spending
  D's coins moves them whole out of D, to one other cluster or split between a wallet
  that pays on and cold storage that does not; most of them are sweeps into wallets that
  pay on, and at least a quarter into such services: an exchange may sweep into many hot
  addresses it never spends together, most of them unrecognised, or into fresh ones that
  have not paid anyone yet), D is S's deposit cluster: money entering D is a
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
  Payments between *siblings* (clusters one deposit cluster was swept into both of: an
  exchange's hot addresses that it never spends together) are not counted either way,
  and a cluster most of whose spends are sweeps is a deposit cluster, never a hot wallet
  (swept into an exchange's many hot addresses, it too pays many clusters).

Both keep a confidence below any direct attribution; the row names the tx that shows it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np

from fundtrail.analysis.attribution import hotchains
from fundtrail.analysis.attribution.entity import BEHAVIOUR_CONFIDENCE
from fundtrail.analysis.attribution.txshape import BIG, Relabel, Txs, relabel_clusters, tx_shapes
from fundtrail.analysis.txchunks import TxChunk
from fundtrail.arrays import distinct
from fundtrail.chainstore.workarray import WorkArray, WorkSpace

MIN_SWEEPS_IN = 5  # sweeps a service receives before its sweeps count as evidence
MIN_PAYEES = 20  # distinct other clusters a hot wallet has paid
MAX_SIBLINGS = 64  # hot addresses one deposit cluster is swept into, at most, to pair them
CUSTOMER_SHARE = 0.5  # of a hot wallet's payments (by value), at least this to non-services
HOT_WALLET_CONFIDENCE = 40
SERVICE_SHARE_DEN = 4  # at least 1/4 of a deposit cluster's spends are sweeps into services
MIN_SERVICE_SWEEPS = 1  # and at least this many


@dataclass(frozen=True, slots=True)
class Found:
    """Behaviour rows before naming: clusters, what they point to, an evidence tx id."""

    hot: np.ndarray  # clusters recognised as hot wallets
    hot_tx: np.ndarray  # one sweep into each (the first, a tx id)
    deposit: np.ndarray  # deposit clusters
    service: np.ndarray  # the service cluster each is swept into
    sweep_tx: np.ndarray  # the first sweep tx id into it
    sweeps: np.ndarray  # how many sweeps show it
    hot_group: np.ndarray | None = None  # per hot cluster: its wallet's name (hotchains)


Chunks = Callable[[], Iterable[TxChunk]]


@dataclass(slots=True)
class _Chain:
    """What the passes learn about every address and cluster (work arrays by id: in RAM
    or mapped files, see :mod:`~fundtrail.chainstore.workarray`)."""

    pays_out: WorkArray  # bool per address: a tx spending from it paid another cluster
    spends: WorkArray  # per cluster: txs spending only its coins
    mixed: WorkArray  # bool per cluster: its coins were spent with other clusters'
    moves: WorkArray  # per cluster: its spends moving its coins whole to others (_spends)
    split_out: WorkArray  # per cluster: its sweeps, counting those split with cold storage


def _first_pass(
    chunks: Chunks, cluster: WorkArray, ws: WorkSpace, relabel: Relabel | None = None
) -> _Chain:
    n = len(cluster)
    chain = _Chain(ws.zeros(n, bool), ws.zeros(n, np.int32), ws.zeros(n, bool),
                   ws.zeros(n, np.int32), ws.zeros(n, np.int32))  # fmt: skip
    for ch in chunks():
        t = tx_shapes(ch, cluster, relabel)
        # an address "pays outside" when a tx it spends from pays another cluster than its own
        outside = (t.o_max >= 0) & ((t.o_min != t.i_min) | (t.o_max != t.i_min)) & t.one_in
        chain.pays_out.put(ch.in_addr[outside[t.tx_of_in] & (ch.in_addr >= 0)], True)
        chain.spends.add(t.i_min[t.one_in])
        unclear = ~t.one_in & (t.i_max >= 0)  # spent together with other clusters' coins
        chain.mixed.put(t.in_c[unclear[t.tx_of_in] & (t.in_c >= 0)], True)
    return chain


def _spends(
    ch: TxChunk, t: Txs, pays_out: WorkArray, groups: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """What each tx of one input cluster does with its coins, from one look at its outputs:

    * ``target``: the cluster it sweeps into, or -1: the coins moved whole to one other
      cluster, to a wallet that pays on (a hot wallet); or split between one such wallet
      and others that never pay anyone (cold storage), into the one that pays on;
    * ``moves``: bool, the coins moved whole to other clusters, at most one of whose
      addresses goes on to pay anyone (a sweep, or one split with cold storage); a
      payment keeps change or pays someone who spends on.

    ``groups``: sorted ids of hot-address groups (:mod:`hotchains`, read as one wallet): an
    address of one pays on with its wallet, though it has paid nobody yet itself (an
    exchange's fresh change address, swept into before it is spent).
    """
    n = ch.hi - ch.lo
    addr = ch.out_addr >= 0
    own = addr & (t.out_c == t.i_min[t.tx_of_out])
    paying = addr & ~own
    paying[paying] = pays_out.take(ch.out_addr[paying]) | (
        np.isin(t.out_c[paying], groups) if groups is not None else False
    )
    keeps = np.bincount(t.tx_of_out[own], minlength=n) > 0
    payers = np.bincount(t.tx_of_out[paying], minlength=n)
    into = np.full(n, -1, dtype=np.int64)
    into[t.tx_of_out[paying]] = t.out_c[paying]
    whole = t.one_in & (t.o_max >= 0) & ~keeps
    single = (t.o_min == t.o_max) & (t.o_min != t.i_min)
    target = np.where(whole & single & (payers >= 1), t.o_min,
                      np.where(whole & ~single & (payers == 1), into, -1))  # fmt: skip
    return target, whole & (single | (payers <= 1))


def find(
    chunks: Chunks,
    cluster: WorkArray,
    services: np.ndarray,
    attributed: np.ndarray,
    ws: WorkSpace,
    entity_of: np.ndarray | None = None,
    groups: tuple[np.ndarray, np.ndarray] | None = None,
) -> Found:
    """Hot wallets and deposit clusters (:func:`find_in`), hot addresses joined by their
    change judged as one wallet (:mod:`hotchains`; two more passes, unless ``groups``
    brings their answer: it depends on the clusters alone, not on who is attributed). A group whose
    attributed clusters are all one entity's (``entity_of``: a key per ``attributed``
    cluster, equal for one entity's; a partner often knows two of an exchange's hot
    addresses, each its own cluster when the exchange never spends them together) is
    named by the smallest of them; one holding two entities' is left apart (two
    services). Arrays by address or cluster id are work arrays of ``ws``."""
    nodes, reps = hotchains.groups(chunks, cluster, ws) if groups is None else groups
    if not len(nodes):
        return find_in(chunks, cluster, services, attributed, ws)
    ids, of = np.unique(reps, return_inverse=True)  # the groups, and each node's
    att = np.isin(nodes, attributed)
    named = np.full(len(ids), BIG, dtype=np.int64)
    np.minimum.at(named, of[att], nodes[att])
    key = nodes[att] if entity_of is None else entity_of[np.searchsorted(attributed, nodes[att])]
    least = np.full(len(ids), BIG, dtype=np.int64)
    np.minimum.at(least, of[att], key)
    most = np.full(len(ids), -1, dtype=np.int64)
    np.maximum.at(most, of[att], key)
    apart = (least != most) & (most >= 0)  # groups with two entities' clusters: apart
    name = np.where(named < BIG, named, ids)[of]
    keep = ~apart[of] & (name != nodes)
    keys, values = nodes[keep], name[keep]  # sorted: nodes come from np.unique
    if not len(keys):
        return find_in(chunks, cluster, services, attributed, ws)

    def read_as(c: np.ndarray) -> np.ndarray:
        return distinct(relabel_clusters(np.asarray(c, dtype=np.int64).copy(), (keys, values)))

    got = find_in(chunks, cluster, read_as(services), read_as(attributed), ws, (keys, values))
    not_att = ~np.isin(keys, attributed)
    hot_m = not_att & np.isin(values, got.hot)
    hot = np.concatenate([got.hot, keys[hot_m]])
    group = np.concatenate([got.hot, values[hot_m]])
    at = np.searchsorted(got.hot, group)
    dep_m = not_att & np.isin(values, got.deposit)
    dep = np.concatenate([got.deposit, keys[dep_m]])
    di = np.searchsorted(got.deposit, np.concatenate([got.deposit, values[dep_m]]))
    order, dorder = np.argsort(hot, kind="stable"), np.argsort(dep, kind="stable")
    return Found(hot[order], got.hot_tx[at][order], dep[dorder], got.service[di][dorder],
                 got.sweep_tx[di][dorder], got.sweeps[di][dorder], group[order])  # fmt: skip


def find_in(
    chunks: Chunks,
    cluster: WorkArray,
    services: np.ndarray,
    attributed: np.ndarray,
    ws: WorkSpace,
    relabel: Relabel | None = None,
) -> Found:
    """Hot wallets and deposit clusters, from the chain read in tx ranges (three passes, and
    a fourth over what the hot-wallet candidates paid when there are any).

    ``chunks()`` yields the chain's :class:`TxChunk` s anew on every call; ``cluster`` is
    the cluster id of every address id; ``services``: clusters directly attributed to a
    service; ``attributed``: every directly attributed cluster (its own attribution wins
    over behaviour). Memory: work arrays by address and cluster id (bounded by the
    budget, see ``ws``) plus one range, the sweeps into clusters that receive sweeps
    habitually, and fewer than ``MIN_PAYEES`` payees per payer while its count rises
    (:class:`_Payees`): never the whole chain's txs or payments.
    """
    chain = _first_pass(chunks, cluster, ws, relabel)
    groups = None if relabel is None else distinct(relabel[1])
    sweeps_in = ws.zeros(len(cluster), np.int32)
    sweeps_out = ws.zeros(len(cluster), np.int32)
    for ch in chunks():
        t = tx_shapes(ch, cluster, relabel)
        target, moves = _spends(ch, t, chain.pays_out, groups)
        sw = target >= 0
        sweeps_in.add(target[sw])
        # only sweeps into one cluster say a cluster spends by sweeping: a hot wallet's
        # withdrawal with its change to a sibling hot address looks like a split sweep
        sweeps_out.add(t.i_min[sw & (t.o_min == t.o_max)])
        chain.split_out.add(t.i_min[sw])
        chain.moves.add(t.i_min[moves])
    swept = sweeps_in.where(lambda v: v >= MIN_SWEEPS_IN)  # receive sweeps habitually
    ws.free(sweeps_in)
    # who may turn out a hot wallet: not a cluster most of whose spends are sweeps (a
    # deposit cluster swept into an exchange's many hot addresses pays many clusters too,
    # but a hot wallet's withdrawals pay a customer and keep change)
    pool = np.setdiff1d(swept, attributed)
    pool = pool[chain.spends.take(pool) > 2 * sweeps_out.take(pool)]
    ws.free(sweeps_out)
    into = _Groups()  # (deposit, service) -> sweeps, first sweep tx
    payees = _Payees(MIN_PAYEES)  # who in pool paid MIN_PAYEES distinct other clusters
    for ch in chunks():
        t = tx_shapes(ch, cluster, relabel)
        target, _ = _spends(ch, t, chain.pays_out, groups)
        at = np.flatnonzero((target >= 0) & np.isin(target, swept))
        into.add(t.i_min[at], target[at], np.ones(len(at), np.int64), at + ch.lo)
        payer, payee, _ = _payments(ch, t, pool)
        payees.add(payer, payee)
    dep, svc, n_sw, first_sw = into.result()
    cand = payees.result()
    # a candidate paying mostly services (or their deposits) deposits at them: not one
    sweeps = (dep, svc, n_sw, first_sw)
    first = _deposit_clusters(sweeps, chain, np.union1d(services, cand), swept, attributed)[0]
    serviceish = np.union1d(np.union1d(services, cand), first)
    # an exchange's hot addresses paying each other (change to a sibling) is no payment to a
    # service: siblings are clusters some deposit cluster was swept into both of
    # only pairs of candidates and attributed services matter (a candidate's change to a
    # tagged sibling is no payment to a service); bounded further in _siblings
    sib = np.isin(svc, np.union1d(cand, services))
    siblings = _siblings(dep[sib], svc[sib])
    total = np.zeros(len(cand), dtype=np.int64)
    to_svc = np.zeros(len(cand), dtype=np.int64)
    for ch in chunks() if len(cand) else ():  # what each candidate paid, and to whom
        t = tx_shapes(ch, cluster, relabel)
        payer, payee, value = _payments(ch, t, cand)
        mine = ~_pairs_in(payer, payee, siblings)
        to_services = mine & np.isin(payee, serviceish)
        total += _sum_by(payer[mine], value[mine], cand)
        to_svc += _sum_by(payer[to_services], value[to_services], cand)
    hot = cand[(total - to_svc) >= CUSTOMER_SHARE * np.maximum(total, 1)]
    hot_tx = _first_by(svc, first_sw, hot)
    found = _deposit_clusters(sweeps, chain, np.union1d(services, hot), swept, attributed)
    return Found(hot, hot_tx, *found)


def _payments(ch: TxChunk, t: Txs, payers: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(payer, payee, value) per output of one range's txs with one input cluster, paid
    by one of ``payers`` (sorted) to another cluster."""
    payer = t.i_min[t.tx_of_out]
    ok = (t.out_c >= 0) & t.one_in[t.tx_of_out] & (t.out_c != payer) & np.isin(payer, payers)
    return payer[ok], t.out_c[ok], ch.out_val[ok]


class _Payees:
    """The payers that paid at least ``cap`` distinct other clusters, the chain read in
    ranges: a payer's distinct payees are kept until it reaches ``cap``, then only the
    payer. Memory: below ``cap`` pairs per payer, however many txs it made (a whole
    chain's (payer, payee) pairs were O(chain): 7.3M at 15M txs, re-sorted per range)."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.pairs = np.zeros(0, dtype=np.int64)  # payer << 32 | payee, sorted, distinct
        self.full: list[np.ndarray] = []  # payers at the cap, a sorted array per range

    def add(self, payer: np.ndarray, payee: np.ndarray) -> None:
        if not len(payer):
            return
        done = np.concatenate(self.full) if self.full else np.zeros(0, np.int64)
        fresh = ~np.isin(payer, done)
        keys = payer[fresh].astype(np.int64) << 32 | payee[fresh]  # cluster ids < 2**31
        pairs = distinct(np.concatenate([self.pairs, keys]))
        a = pairs >> 32
        starts = np.flatnonzero(np.append(True, a[1:] != a[:-1]))
        counts = np.diff(np.append(starts, len(a)))
        reached = counts >= self.cap
        if reached.any():
            self.full.append(a[starts[reached]])
            pairs = pairs[~np.repeat(reached, counts)]
        self.pairs = pairs

    def result(self) -> np.ndarray:
        return np.sort(np.concatenate(self.full)) if self.full else np.zeros(0, np.int64)


class _Groups:
    """Rows (a, b, sum, first) summed by (a, b) as chunks come: what stays is one row per
    distinct pair, whatever the chunk size (sums are exact integers). Ranges wait in a
    list until they are a quarter of the rows summed so far: a row is sorted a few
    times, not once per range, and the fold holds 1.25x the sums at most."""

    def __init__(self) -> None:
        z = np.zeros(0, dtype=np.int64)
        self.rows = (z, z, z, z)
        self.pending: list[tuple[np.ndarray, ...]] = []
        self.waiting = 0

    def add(self, a: np.ndarray, b: np.ndarray, amount: np.ndarray, first: np.ndarray) -> None:
        if len(a):
            self.pending.append(tuple(np.asarray(x, np.int64) for x in (a, b, amount, first)))
            self.waiting += len(a)
            if self.waiting >= max(len(self.rows[0]) // 4, 1 << 20):
                self._fold()

    def _fold(self) -> None:
        if self.pending:
            parts = [self.rows, *self.pending]
            self.rows = _group(*(np.concatenate([p[i] for p in parts]) for i in range(4)))
            self.pending, self.waiting = [], 0

    def result(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        self._fold()
        return self.rows


def _group(
    a: np.ndarray, b: np.ndarray, amount: np.ndarray, first: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    order = np.lexsort((b, a))
    a, b, amount, first = a[order], b[order], amount[order], first[order]
    new = np.ones(len(a), dtype=bool)
    new[1:] = (a[1:] != a[:-1]) | (b[1:] != b[:-1])
    starts = np.flatnonzero(new)
    return (a[starts], b[starts], np.add.reduceat(amount, starts),
            np.minimum.reduceat(first, starts))  # fmt: skip


def _siblings(dep: np.ndarray, svc: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(a, b), a != b: service clusters that one deposit cluster was swept into both of
    (from one row per (deposit, service) pair): one exchange's hot addresses, when it
    does not spend them together. A cluster swept into more than ``MAX_SIBLINGS`` is no
    deposit cluster (a supercluster of a big chain "sweeps" into tens of thousands of
    clusters): it gives no pairs, so the pairs stay at most ``MAX_SIBLINGS`` per row."""
    order = np.argsort(dep, kind="stable")
    d, s = dep[order], svc[order]
    new = np.ones(len(d), dtype=bool)
    new[1:] = d[1:] != d[:-1]
    starts = np.flatnonzero(new)
    counts = np.diff(np.append(starts, len(d)))
    # rows of deposit clusters swept into several, and not into too many
    many = np.repeat((counts > 1) & (counts <= MAX_SIBLINGS), counts)
    d, s = d[many], s[many]
    if not len(d):
        return d, s
    keep = (counts > 1) & (counts <= MAX_SIBLINGS)
    starts, counts = np.flatnonzero(np.append(True, d[1:] != d[:-1])), counts[keep]
    group = np.repeat(np.arange(len(counts)), counts)
    reps = counts[group]  # every row pairs with each row of its group
    a = np.repeat(s, reps)
    offset = np.arange(int(reps.sum())) - np.repeat(np.cumsum(reps) - reps, reps)
    b = s[np.repeat(starts[group], reps) + offset]
    return a[a != b], b[a != b]


def _pairs_in(a: np.ndarray, b: np.ndarray, pairs: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """bool per (a, b) row: the pair is one of ``pairs`` (cluster ids are below 2**31)."""
    if not len(pairs[0]):
        return np.zeros(len(a), dtype=bool)
    return np.isin(a.astype(np.int64) << 32 | b, pairs[0].astype(np.int64) << 32 | pairs[1])


def _first_by(key: np.ndarray, first: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """The smallest ``first`` of each of ``keys`` (every one occurs in ``key``)."""
    out = np.full(len(keys), BIG, dtype=np.int64)
    if len(keys):
        sel = np.isin(key, keys)
        np.minimum.at(out, np.searchsorted(keys, key[sel]), first[sel])
    return out


def _sum_by(key: np.ndarray, weights: np.ndarray, keys: np.ndarray) -> np.ndarray:
    out = np.zeros(len(keys), dtype=np.int64)
    if len(key):
        np.add.at(out, np.searchsorted(keys, key), weights)
    return out


def _deposit_clusters(
    sweeps: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    chain: _Chain,
    all_services: np.ndarray,
    swept: np.ndarray,
    attributed: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Clusters whose every spend is a sweep into one habitually sweeping service."""
    dep, svc, n, first = sweeps
    sweepers = np.intersect1d(all_services, swept)
    ok = np.isin(svc, sweepers) & ~np.isin(dep, attributed) & ~np.isin(dep, all_services)
    total = _sum_by(dep[ok], n[ok], distinct(dep[ok]))  # sweeps into any of those services
    dep, svc, first, n = _deposits(dep[ok], svc[ok], first[ok], n[ok])
    # every spend moves the coins whole out, most of them sweeps into wallets that pay on,
    # and at least a quarter into recognised services: an exchange may sweep into many hot
    # addresses it never spends together, most not recognised (each pays too few
    # customers), some fresh and not spent yet; named after the service swept into most.
    # A wallet emptied into deposit addresses sweeps into no service at all.
    spends = chain.spends.take(dep)
    only = (spends == chain.moves.take(dep)) & (2 * chain.split_out.take(dep) > spends)
    only &= (SERVICE_SHARE_DEN * total >= spends) & (total >= MIN_SERVICE_SWEEPS)
    only &= ~chain.mixed.take(dep)
    return dep[only], svc[only], first[only], n[only]


def _deposits(
    dep: np.ndarray, svc: np.ndarray, first: np.ndarray, counts: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per deposit cluster: the service it is swept into most often, first sweep, count
    (from one row per (deposit, service) pair)."""
    if len(dep) == 0:
        z = np.zeros(0, dtype=np.int64)
        return z, z, z, z
    # most sweeps first, then the earlier sweep, per deposit cluster
    best = np.lexsort((first, -counts, dep))
    p_dep, p_svc, p_tx, counts = dep[best], svc[best], first[best], counts[best]
    keep = np.ones(len(p_dep), dtype=bool)
    keep[1:] = p_dep[1:] != p_dep[:-1]
    return p_dep[keep], p_svc[keep], p_tx[keep], counts[keep]


def deposit_confidence(service_confidence: int) -> int:
    """Below the service's own attribution, and never above ``BEHAVIOUR_CONFIDENCE``."""
    return max(1, min(BEHAVIOUR_CONFIDENCE, int(service_confidence) - 10))
