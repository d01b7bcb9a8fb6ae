"""Meetings on a UTXO chain: one numba walk over the tracing part's chain arrays.

The walk runs twice with the same kernel. The first pass follows the gangs' coins
with the rules of :mod:`~fundtrail.analysis.link.meet` but knows no crowd yet, and
sums what every address received from them; an address that received less than a
tenth of its lifetime inflow from the gangs is then a *crowd*. The second pass follows
the coins again, now ending at crowds too, and records the meetings.

Values are compared, never reported: the amounts a case shows come from the tracer.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence

import numpy as np
import pyarrow as pa
from numba import njit

from fundtrail.analysis.attribution import Attribution
from fundtrail.analysis.link.coinjoin import THROUGH_COINJOIN, CoinJoinJoin, coinjoin_joins
from fundtrail.analysis.link.deposits import DepositConflict, resolve, root_of, settle
from fundtrail.analysis.link.meet import (
    MAJORITY,
    PLACE_SHARE,
    R_CASHOUT,
    R_DOWNSTREAM,
    R_SPENT,
    REASON_NAMES,
    Clash,
    Found,
    Meeting,
    Payment,
)
from fundtrail.analysis.link.mixer import THROUGH_MIXER, Join, Roots, mixer_joins
from fundtrail.analysis.trace.graph import UtxoGraph, utxo_graph
from fundtrail.analysis.trace.starts import TxStart
from fundtrail.analysis.trace.utxo import UtxoFinder
from fundtrail.arrays import distinct
from fundtrail.chains.ledger import ledger_for
from fundtrail.chainstore.budget import ranges, release
from fundtrail.chainstore.store import ChainStore
from fundtrail.chainstore.workarray import over
from fundtrail.model import display

# working memory per tx of a whole-chain pass over the mapped arrays: a range's inputs,
# outputs, their clusters and the temporaries (256 held 1.5 GB at 50M txs)
TX_BYTES = 1024
ADDR_BYTES = 32  # working memory per address of a pass over per-address arrays


@njit(cache=True)
def _find(parent: np.ndarray, x: int) -> int:  # pragma: no cover - numba
    while parent[x] != x:
        parent[x] = parent[parent[x]]
        x = parent[x]
    return x


@njit(cache=True)
def _join(  # pragma: no cover - numba
    parent: np.ndarray, a: int, b: int, reason: int, where: int, log: np.ndarray
) -> int:
    """Union of the groups of ``a`` and ``b`` (smaller root wins); returns the root.

    ``log`` rows are [a, b, reason, where]; row 0 column 0 counts the rows used (a join
    happens at most once per group, so ``n_groups`` rows always suffice).
    """
    ra, rb = _find(parent, a), _find(parent, b)
    if ra == rb:
        return ra
    lo, hi = min(ra, rb), max(ra, rb)
    parent[hi] = lo
    log[0, 0] += 1
    row = log[0, 0]
    log[row, 0], log[row, 1], log[row, 2], log[row, 3] = ra, rb, reason, where
    return lo


@njit(cache=True)
def _place(  # pragma: no cover - numba
    place: np.ndarray, parent: np.ndarray, a: int, g: int, reason: int, log: np.ndarray
) -> None:
    if place[a] < 0:
        place[a] = g
    else:
        place[a] = _join(parent, place[a], g, reason, a, log)


@njit(cache=True)
def _deposit(  # pragma: no cover - numba
    place: np.ndarray, parent: np.ndarray, a: int, g: int, log: np.ndarray, join: bool
) -> None:
    if join or place[a] < 0:
        _place(place, parent, a, g, R_CASHOUT, log)


def link_kernel(
    out_ptr: np.ndarray,
    out_addr: np.ndarray,
    out_val: np.ndarray,
    out_spent: np.ndarray,
    in_ptr: np.ndarray,
    in_src: np.ndarray,
    tx_in_total: np.ndarray,
    coinjoin: np.ndarray,
    addr_stop: np.ndarray,
    addr_service_wallet: np.ndarray,
    addr_crowd: np.ndarray,
    start_o: np.ndarray,
    start_group: np.ndarray,
    start_paid: np.ndarray,
    n_groups: int,
    majority: float,
    join_at_deposits: bool,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The walk (:func:`_link_kernel`) with its zero-filled state allocated by numpy,
    whose zeros are pages the OS hands out when first written: the state spans every
    output and address of the chain, but a walk near the complaints writes a few pages
    of it (numba's ``np.zeros`` and ``np.full`` write them all)."""
    group1 = np.zeros(len(out_val), dtype=np.int64)  # group + 1; 0 = none
    paid = np.zeros(len(out_val), dtype=np.bool_)  # a victim's payment (the complaint's)
    received = np.zeros(len(addr_stop), dtype=np.float64)
    queued = np.zeros(len(tx_in_total), dtype=np.bool_)
    return _link_kernel(out_ptr, out_addr, out_val, out_spent, in_ptr, in_src, tx_in_total,
                        coinjoin, addr_stop, addr_service_wallet, addr_crowd, start_o,
                        start_group, start_paid, n_groups, majority, join_at_deposits, group1,
                        paid, received, queued)  # fmt: skip


@njit(cache=True)
def _link_kernel(  # pragma: no cover - numba
    out_ptr: np.ndarray,
    out_addr: np.ndarray,
    out_val: np.ndarray,
    out_spent: np.ndarray,
    in_ptr: np.ndarray,
    in_src: np.ndarray,
    tx_in_total: np.ndarray,
    coinjoin: np.ndarray,
    addr_stop: np.ndarray,
    addr_service_wallet: np.ndarray,
    addr_crowd: np.ndarray,
    start_o: np.ndarray,
    start_group: np.ndarray,
    start_paid: np.ndarray,
    n_groups: int,
    majority: float,
    join_at_deposits: bool,
    group1: np.ndarray,
    paid: np.ndarray,
    received: np.ndarray,
    queued: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The walk: (the gangs' money received per address, meetings as [a, b, reason, where]
    rows, each address's group (-1: none reached it), the groups' union-find parents,
    cash-outs as [output, group] rows).

    ``group1[o] > 0``: output ``o`` is a gang's (group ``group1[o] - 1``), and its spend
    is followed.
    ``start_paid``: the start is a victim's payment (its spender is the gang, whatever
    else it spends); a start that is not (a payout to follow) obeys rule 2 like any coin.
    ``join_at_deposits``: groups reaching one customer deposit address join there; when
    not, the cash-out rows alone say who reached it (:mod:`~fundtrail.analysis.link.
    deposits` decides) and ``place`` holds the first group that did.
    """
    place = np.full(len(addr_stop), -1, dtype=np.int64)
    parent = np.arange(n_groups, dtype=np.int64)
    log = np.zeros((n_groups + 1, 4), dtype=np.int64)
    heap = [np.int64(x) for x in range(0)]
    cash_o = [np.int64(x) for x in range(0)]
    cash_g = [np.int64(x) for x in range(0)]
    for i in range(len(start_o)):
        o, g = start_o[i], start_group[i]
        a = out_addr[o]
        if a < 0:
            continue
        received[a] += out_val[o]
        if addr_stop[a]:  # the victim paid a service's deposit address: cashed out at once
            if not addr_service_wallet[a]:
                _deposit(place, parent, a, g, log, join_at_deposits)
                cash_o.append(np.int64(o))
                cash_g.append(np.int64(g))
        else:  # the address a victim paid is the gang's, however much else it received
            _place(place, parent, a, g, R_DOWNSTREAM, log)
            group1[o], paid[o] = place[a] + 1, start_paid[i]
            s = out_spent[o]
            if s >= 0 and not queued[s]:
                queued[s] = True
                heapq.heappush(heap, s)
    while len(heap) > 0:
        t = heapq.heappop(heap)
        value, count, direct = 0, 0, False
        for j in range(in_ptr[t], in_ptr[t + 1]):
            o = in_src[j]
            if o >= 0 and group1[o] > 0:
                value += out_val[o]
                count += 1
                direct = direct or paid[o]
        n_in = in_ptr[t + 1] - in_ptr[t]
        if count == 0 or coinjoin[t]:
            continue
        if not direct and (value < majority * tx_in_total[t] or count < majority * n_in):
            continue  # a crowd: mostly other people's coins
        lo, hi = out_ptr[t], out_ptr[t + 1]
        own = False
        for o in range(lo, hi):
            a = out_addr[o]
            if a >= 0 and not addr_stop[a] and not addr_crowd[a]:
                own = True
        g = -1
        if own:  # the spender's own wallet gets money: what it spent together is one gang's
            for j in range(in_ptr[t], in_ptr[t + 1]):
                o = in_src[j]
                if o >= 0 and group1[o] > 0:
                    if g < 0:
                        g = _find(parent, group1[o] - 1)
                    else:
                        g = _join(parent, g, group1[o] - 1, R_SPENT, int(t), log)
        for o in range(lo, hi):
            a = out_addr[o]
            if a < 0:
                continue
            received[a] += out_val[o]
            if addr_stop[a]:
                if addr_service_wallet[a]:
                    continue
                if own:
                    _deposit(place, parent, a, g, log, join_at_deposits)
                    cash_o.append(np.int64(o))
                    cash_g.append(np.int64(g))
                else:  # a deposit paid by several groups' coins at once holds them all
                    for j in range(in_ptr[t], in_ptr[t + 1]):
                        u = in_src[j]
                        if u >= 0 and group1[u] > 0:
                            _deposit(place, parent, a, group1[u] - 1, log, join_at_deposits)
                            cash_o.append(np.int64(o))
                            cash_g.append(np.int64(group1[u] - 1))
            elif own and not addr_crowd[a]:
                _place(place, parent, a, g, R_DOWNSTREAM, log)
                group1[o] = place[a] + 1
                s = out_spent[o]
                if s >= 0 and not queued[s]:
                    queued[s] = True
                    heapq.heappush(heap, s)
    cash = np.empty((len(cash_o), 2), dtype=np.int64)
    for i in range(len(cash_o)):
        cash[i, 0], cash[i, 1] = cash_o[i], cash_g[i]
    return received, log[1 : log[0, 0] + 1], place, parent, cash


def service_wallets(g: UtxoGraph, addr_stop: np.ndarray, deposits: np.ndarray) -> np.ndarray:
    """bool per address: a service's own wallet (not a customer deposit address).

    The same test as :func:`fundtrail.analysis.trace.stops.pays_outside`, for every
    service address at once: a service address that ever paid an address outside its
    cluster is the service's (withdrawals); a deposit address only ever pays into it.
    Addresses of deposit clusters (``deposits``: attribution's ``deposit_sweep``) never are.
    """
    n_addr = len(addr_stop)
    own = np.zeros(n_addr, dtype=bool)
    cluster = over(g.addr_cluster)  # read a window at a time: the file is 8 bytes an address
    for p, q in _position_ranges(g):
        i0, i1 = int(g.in_ptr[p]), int(g.in_ptr[q])
        a_in = np.asarray(g.in_addr[i0:i1])
        spends = (a_in >= 0) & addr_stop[np.maximum(a_in, 0)]
        if not spends.any():
            continue
        in_tx = np.repeat(np.arange(q - p, dtype=np.int64), np.diff(g.in_ptr[p : q + 1]))
        ptr = np.asarray(g.out_ptr[p : q + 1]) - int(g.out_ptr[p])
        out_a = np.asarray(g.out_addr[int(g.out_ptr[p]) : int(g.out_ptr[q])])
        oc = np.where(out_a >= 0, cluster.take(np.maximum(out_a, 0)), -1)
        has = np.diff(ptr) > 0
        lo_c, hi_c = np.full(q - p, -1, dtype=np.int64), np.full(q - p, -1, dtype=np.int64)
        firsts = ptr[:-1][has]
        lo_c[has] = np.minimum.reduceat(oc, firsts)
        hi_c[has] = np.maximum.reduceat(oc, firsts)
        t, a = in_tx[spends], a_in[spends]
        c = cluster.take(a)
        own[a[(lo_c[t] != c) | (hi_c[t] != c)]] = True
        release(g.in_addr, g.in_ptr, g.out_ptr, g.out_addr, g.addr_cluster)
    own[deposits] = False
    return own


def _position_ranges(g: UtxoGraph) -> list[tuple[int, int]]:
    """Tx position ranges of bounded size: whole-chain passes over the mapped arrays keep
    only one range's pages and temporaries."""
    return ranges(g.n_txs, TX_BYTES, 0.25)


def _inflow(g: UtxoGraph, n_addr: int) -> np.ndarray:
    """Value each address ever received (exact integer sums: the same whatever the
    ranges)."""
    total = np.zeros(n_addr, dtype=np.int64)
    for p, q in _position_ranges(g):
        o0, o1 = int(g.out_ptr[p]), int(g.out_ptr[q])
        a = np.asarray(g.out_addr[o0:o1])
        keep = (a >= 0) & (a < n_addr)
        np.add.at(total, a[keep], np.asarray(g.out_val[o0:o1])[keep])
        release(g.out_ptr, g.out_addr, g.out_val)
    return total


def _crowd(
    base: np.ndarray, received: np.ndarray, inflow: np.ndarray, ends: np.ndarray
) -> np.ndarray:
    """bool per address: it received less than ``PLACE_SHARE`` of its lifetime inflow
    from the gangs (``base + received``, float64), or it ends the walk anyway (``ends``).

    Computed an address range at a time: the float temporaries of one whole-chain
    expression took 4 arrays of 8 bytes per address."""
    crowd = np.empty(len(inflow), dtype=np.bool_)
    for lo, hi in ranges(len(inflow), ADDR_BYTES, 0.25):
        got = base[lo:hi] + received[lo:hi]
        crowd[lo:hi] = (got < PLACE_SHARE * inflow[lo:hi].astype(np.float64)) | ends[lo:hi]
    return crowd


def _start_outputs(g: UtxoGraph, payments: Sequence[Payment]) -> tuple[np.ndarray, np.ndarray]:
    """(output index, group) of every payment, found by the tracing part's finder."""
    starts = {p: TxStart(p.txid, p.txid.lower().removeprefix("0x"), p.index) for p in payments}
    con = g.cursor()
    try:
        items = UtxoFinder(g, con).tx_items(list(set(starts.values())))
    finally:
        con.close()
    outs, groups = [], []
    for p, start in starts.items():
        for o in items[start][:1] if p.index is not None else []:
            outs.append(o)
            groups.append(p.group)
    return np.array(outs, dtype=np.int64), np.array(groups, dtype=np.int64)


def utxo_meetings(
    store: ChainStore, payments: Sequence[Payment], n_groups: int, att: Attribution
) -> Found:
    """The two passes over ``store``'s graph, the deposits' decision
    (:mod:`~fundtrail.analysis.link.deposits`), then the joins through mixers
    (:mod:`~fundtrail.analysis.link.mixer`); meetings named by txid or address."""
    g = utxo_graph(store)
    outs, groups = _start_outputs(g, payments)
    if len(outs) == 0:
        return Found([], [])
    addr_stop = att.stop_mask(g.addr_cluster)
    wallets = service_wallets(g, addr_stop, att.deposit_mask(g.addr_cluster))
    arrays = (g.out_ptr, g.out_addr, g.out_val, g.out_spent, g.in_ptr, g.in_src,
              g.tx_in_total, g.coinjoin, addr_stop, wallets)  # fmt: skip
    none = np.zeros(len(addr_stop), dtype=np.bool_)
    inflow = _inflow(g, len(none))
    no_base = np.zeros(len(none), dtype=np.float64)  # pages never written: 0.0 everywhere

    def walk(
        starts: np.ndarray,
        start_groups: np.ndarray,
        paid: bool,
        n: int,
        base: np.ndarray,
        ends: np.ndarray = none,
    ) -> tuple[np.ndarray, ...]:
        flags = np.full(len(starts), paid, dtype=np.bool_)
        # the victims' walk leaves deposits to :func:`deposit_joins` (all of them at once);
        # a payouts' walk joins there (a payout's coins reach whoever reached its deposit)
        walks = (starts, start_groups, flags, n, MAJORITY, not paid)
        received = link_kernel(*arrays, ends, *walks)[0]
        crowd = _crowd(base, received, inflow, ends)
        return (received, *link_kernel(*arrays, crowd, *walks)[1:])

    received, log, place, parent, cash = walk(outs, groups, True, n_groups, no_base)
    at_deposits, clashes = _at_deposits(g, groups, parent, place, cash)
    met = _named(g, np.concatenate([log, at_deposits]))
    # where the gangs' own money rested: not the addresses the victims paid (money paid
    # *to* a gang, by its victims, is no payout coming back to it)
    own_place = place.copy()
    paid_to = g.out_addr[outs]
    own_place[paid_to[paid_to >= 0]] = -1
    walked = Roots(resolve(parent), own_place)

    # a payout followed into an address a victim paid is that victim's money: the
    # victim bought coins (an exchange's withdrawal) and paid the gang with them; it is
    # no payout coming back to the gang, so the payouts' walk ends there
    victims_paid = np.zeros(len(none), dtype=np.bool_)
    victims_paid[paid_to[paid_to >= 0]] = True

    def follow(starts: np.ndarray) -> Roots:
        ids = np.arange(len(starts), dtype=np.int64)
        _, _, p_place, p_parent, _ = walk(starts, ids, False, len(starts), received, victims_paid)
        return Roots(resolve(p_parent), p_place)

    joins = mixer_joins(g, att, addr_stop, walked, cash, follow)
    # across CoinJoins: the coins groups put in are at any address the walk found theirs,
    # the ones their victims paid included
    held = Roots(walked.group_root, place)
    across = coinjoin_joins(g, held, walked, addr_stop, follow)
    names = _texts(g, "addresses", "address_id", "address",
                   np.array([c.deposit for c in clashes], dtype=np.int64))  # fmt: skip
    conflicts = [Clash(names[c.deposit], tuple(side[0] for side in c.groups)) for c in clashes]
    named = met + _mixer_named(g, att, joins) + _coinjoin_named(g, across)
    return Found(named, conflicts)


def _at_deposits(
    g: UtxoGraph, groups: np.ndarray, parent: np.ndarray, place: np.ndarray, cash: np.ndarray
) -> tuple[np.ndarray, list[DepositConflict]]:
    """Apply the deposit rule (:func:`~fundtrail.analysis.link.deposits.settle`) to the
    walk's result (``parent`` and ``place`` in place): the joins as log rows [a, b,
    reason, where], and the conflicts (no one's place)."""
    done = settle(parent, groups, np.asarray(g.out_addr[cash[:, 0]]), cash[:, 1])
    for d, held in done.reached.items():
        place[d] = root_of(parent, next(iter(held)))
    for c in done.conflicts:
        place[c.deposit] = -1
    return done.rows, done.conflicts


def _mixer_named(g: UtxoGraph, att: Attribution, joins: list[Join]) -> list[Meeting]:
    """``where`` of a mixer join: a sentence an investigator can check on chain."""
    if not joins:
        return []
    outs = [j.entry for j in joins] + [j.pieces[0] for j in joins]
    txids = _texts(g, "txs", "tx_id", "txid", g.tx_ids[g.out_tx[np.array(outs)]])
    addrs = _texts(g, "addresses", "address_id", "address",
                   np.array([j.rest for j in joins], dtype=np.int64))  # fmt: skip
    asset = ledger_for(g.store).native() if g.store is not None else "BTC"
    out = []
    for j in joins:
        v = int(g.out_val[j.entry])
        back = int(sum(int(g.out_val[o]) for o in j.pieces))
        t0 = int(g.tx_time[g.out_tx[j.entry]])
        hours = (int(g.tx_time[g.out_tx[j.pieces[-1]]]) - t0) / 3600
        e = att.entity(int(g.addr_cluster[g.out_addr[j.entry]]))
        label = e.label if e is not None else "a service"
        text = (
            f"{display.amount(v, asset, group=False)} into {label}, tx "
            f"{txids[int(g.tx_ids[g.out_tx[j.entry]])]}:{int(g.out_n[j.entry])}; "
            f"{len(j.pieces)} payouts {display.amount(back, asset, group=False)} "
            f"({100 * back / v:.1f}%) in {hours:.1f} h, first tx "
            f"{txids[int(g.tx_ids[g.out_tx[j.pieces[0]]])]} -> {addrs.get(j.rest, '?')}"
            + (f"; {j.fee}" if j.fee else "")  # last: a long line loses it, not the address
        )[:296]
        out.append(Meeting(j.a, j.b, THROUGH_MIXER, text))
    return out


def _coinjoin_named(g: UtxoGraph, joins: list[CoinJoinJoin]) -> list[Meeting]:
    """``where`` of a join across a CoinJoin: what went in, what came back, and where."""
    if not joins:
        return []
    txids = _texts(g, "txs", "tx_id", "txid", g.tx_ids[np.array([j.tx for j in joins])])
    addrs = _texts(g, "addresses", "address_id", "address",
                   np.array([j.rest for j in joins], dtype=np.int64))  # fmt: skip
    asset = ledger_for(g.store).native() if g.store is not None else "BTC"
    out = []
    for j in joins:
        back = int(sum(int(g.out_val[o]) for o in j.pieces))
        n_out = int(g.out_ptr[j.tx + 1] - g.out_ptr[j.tx])
        text = (
            f"{display.amount(j.entered, asset, group=False)} into CoinJoin "
            f"{txids[int(g.tx_ids[j.tx])]}; {len(j.pieces)} of its {n_out} outputs, "
            f"{display.amount(back, asset, group=False)} "
            f"({display.amount(j.entered - back, asset, group=False)} less) "
            f"-> {addrs.get(j.rest, '?')}"
        )[:296]
        out.append(Meeting(j.a, j.b, THROUGH_COINJOIN, text))
    return out


def _named(g: UtxoGraph, rows: np.ndarray) -> list[Meeting]:
    if len(rows) == 0:
        return []
    spent = rows[:, 2] == R_SPENT
    txids = _texts(g, "txs", "tx_id", "txid", g.tx_ids[rows[spent, 3]])
    addrs = _texts(g, "addresses", "address_id", "address", rows[~spent, 3])
    out = []
    for a, b, reason, where in rows.tolist():
        text = txids[int(g.tx_ids[where])] if reason == R_SPENT else addrs[where]
        out.append(Meeting(a, b, REASON_NAMES[reason], text))
    return out


def _texts(g: UtxoGraph, table: str, key: str, column: str, ids: np.ndarray) -> dict[int, str]:
    if len(ids) == 0:
        return {}
    con = g.cursor()
    try:
        con.register("want_ids", pa.table({key: pa.array(distinct(ids), pa.int64())}))
        rows = con.execute(f"SELECT {key}, {column} FROM {table} SEMI JOIN want_ids USING ({key})")
        return {int(i): str(t) for i, t in rows.fetchall()}
    finally:
        con.close()
