"""Meetings on an account chain (EVM, TRON): one walk per asset over every transfer.

On an account chain coins meet at addresses, not in txs: a gang consolidates by
sending to one address. The walk replays each asset's transfers in chain order. An
address becomes a gang's when the gang pays it (and it is no crowd or service); it
passes the gang on in what it sends while it is the address a victim paid, or while
the gang's transfers are most of what it has received, by value and by count (rule 2
of :mod:`~fundtrail.analysis.link.meet`). Crowd addresses (under a tenth of their
lifetime inflow from the gangs, from a first pass) and services end the walk. Two
groups reaching one own address meet there (strong evidence: the gang's own wallet);
the customer deposit addresses they reached, over every asset at once, are decided by
the one deposit rule (:mod:`~fundtrail.analysis.link.deposits`), as on a UTXO chain: a
mule's account two gangs both paid is a conflict, linking nobody. The protocol's
venues (TRON's built-in exchange pools and order book, the shielded pool) are services
with no customer deposit address: no meeting is ever placed there
(``AccountGraph.with_stops``, ``service_wallets``).

Values are floats (wei exceed 64 bits) and only compared, never reported.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa
from numba import njit

from fundtrail.analysis.attribution import Attribution
from fundtrail.analysis.link.deposits import root_of, settle
from fundtrail.analysis.link.meet import (
    MAJORITY,
    PLACE_SHARE,
    R_DOWNSTREAM,
    REASON_NAMES,
    Clash,
    Found,
    Meeting,
    Payment,
)
from fundtrail.analysis.link.utxo import _place
from fundtrail.analysis.trace.accgraph import AccountGraph, account_graph
from fundtrail.analysis.trace.acctrace import AccountFinder
from fundtrail.analysis.trace.graph import open_tables
from fundtrail.analysis.trace.starts import TxStart
from fundtrail.arrays import distinct
from fundtrail.chainstore.store import ChainStore


@njit(cache=True)
def account_kernel(  # pragma: no cover - numba
    frm: np.ndarray,
    to: np.ndarray,
    value: np.ndarray,
    addr_stop: np.ndarray,
    addr_service_wallet: np.ndarray,
    addr_crowd: np.ndarray,
    start_group: np.ndarray,
    n_groups: int,
    majority: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Transfers of one asset in chain order; ``start_group[p] >= 0`` marks a payment.

    Returns (the gangs' money received per address, meetings at own addresses as [a, b,
    reason, where], cash-outs as [deposit address, group] rows: no join at deposits).
    """
    n_addr = len(addr_stop)
    value_in = np.zeros(n_addr, dtype=np.float64)
    gang_in = np.zeros(n_addr, dtype=np.float64)
    count_in = np.zeros(n_addr, dtype=np.int64)
    gang_count = np.zeros(n_addr, dtype=np.int64)
    received = np.zeros(n_addr, dtype=np.float64)
    paid = np.zeros(n_addr, dtype=np.bool_)  # an address a victim paid
    group = np.full(n_addr, -1, dtype=np.int64)
    place = np.full(n_addr, -1, dtype=np.int64)
    parent = np.arange(n_groups, dtype=np.int64)
    log = np.zeros((n_groups + 1, 4), dtype=np.int64)
    cash_a = [np.int64(x) for x in range(0)]
    cash_g = [np.int64(x) for x in range(0)]
    for p in range(len(frm)):
        f, t, v = frm[p], to[p], value[p]
        g = start_group[p]
        if g < 0 and f >= 0 and group[f] >= 0:
            mostly = (
                gang_in[f] >= majority * value_in[f] and gang_count[f] >= majority * count_in[f]
            )
            if paid[f] or mostly:
                g = group[f]
        if t < 0:
            continue
        value_in[t] += v
        count_in[t] += 1
        if g < 0:
            continue
        received[t] += v
        if addr_stop[t]:
            if not addr_service_wallet[t]:
                cash_a.append(np.int64(t))
                cash_g.append(np.int64(g))
        elif start_group[p] >= 0 or not addr_crowd[t]:  # a paid address is the gang's
            gang_in[t] += v
            gang_count[t] += 1
            _place(place, parent, t, g, R_DOWNSTREAM, log)
            group[t] = place[t]
            paid[t] = paid[t] or start_group[p] >= 0
    cash = np.empty((len(cash_a), 2), dtype=np.int64)
    for i in range(len(cash_a)):
        cash[i, 0], cash[i, 1] = cash_a[i], cash_g[i]
    return received, log[1 : log[0, 0] + 1], cash


def service_wallets(g: AccountGraph, deposits: np.ndarray) -> np.ndarray:
    """bool per address: a service's own wallet (it paid someone outside its cluster);
    a customer deposit address of a service only ever forwards into it.

    The protocol's venues (``chains.pseudo``: TRON's built-in exchange pools and order
    book, the shielded pool) are everyone's wallet even where this store never saw them
    pay: two gangs trading at one pool, or hiding coins in the shielded pool, share no
    cash-out there."""
    own = np.zeros(len(g.addr_stop), dtype=bool)
    ok = (g.frm >= 0) & (g.to >= 0)
    f, t = g.frm[ok], g.to[ok]
    paid_out = g.addr_stop[f] & (g.addr_cluster[f] != g.addr_cluster[t])
    own[f[paid_out]] = True
    own[deposits] = False
    if g.protocol_pools is not None and len(g.protocol_pools) == len(own):
        own |= g.protocol_pools
    return own


def _start_positions(
    store: ChainStore, g: AccountGraph, payments: Sequence[Payment]
) -> dict[int, Payment]:
    """Transfer position of every payment (token: its log index; native: the tx's native
    transfer), found by the tracing part's finder."""
    finder = AccountFinder(store, g)
    starts = {p: TxStart(p.txid, p.txid.lower(), p.index) for p in payments}
    items = finder.tx_items(list(set(starts.values())))
    found: dict[int, Payment] = {}
    for p, start in starts.items():
        native = [i for i in items[start] if p.index is not None or g.kind[i] == "native"]
        paid = [i for i in native if finder.item_value(i) > 0]
        if paid:
            found[paid[0]] = p
    return found


def account_meetings(
    store: ChainStore, payments: Sequence[Payment], n_groups: int, att: Attribution
) -> Found:
    """Both passes for every asset the payments moved, then the deposits' decision over
    all of them (:func:`~fundtrail.analysis.link.deposits.settle`); meetings named by
    address."""
    base = account_graph(store)
    g = base.with_stops(att.stop_mask(base.addr_cluster))
    starts = _start_positions(store, g, payments)
    if not starts:
        return Found([], [])
    wallets = service_wallets(g, att.deposit_mask(g.addr_cluster))
    n_addr = len(g.addr_stop)
    rows: list[np.ndarray] = []
    cash: list[np.ndarray] = []
    for asset in sorted({int(g.asset[p]) for p in starts}):
        pos = np.flatnonzero(g.asset == asset)
        frm, to = g.frm[pos], g.to[pos]
        value = np.array([float(g.values[p]) for p in pos.tolist()], dtype=np.float64)
        group = np.full(len(pos), -1, dtype=np.int64)
        at = {int(p): i for i, p in enumerate(pos.tolist())}
        for p, pay in starts.items():
            if p in at:
                group[at[p]] = pay.group
        args = (frm, to, value, g.addr_stop, wallets)
        none = np.zeros(n_addr, dtype=np.bool_)
        received, _, _ = account_kernel(*args, none, group, n_groups, MAJORITY)
        keep = to >= 0
        inflow = np.bincount(to[keep], weights=value[keep], minlength=n_addr)
        crowd = received < PLACE_SHARE * inflow
        _, log, paid_in = account_kernel(*args, crowd, group, n_groups, MAJORITY)
        rows.append(log)
        cash.append(paid_in)
    strong = np.concatenate(rows)
    # the assets' walks joined groups apart; the deposits are decided over all of them
    parent = np.arange(n_groups, dtype=np.int64)
    for a, b in strong[:, :2].tolist():
        ra, rb = root_of(parent, a), root_of(parent, b)
        parent[max(ra, rb)] = min(ra, rb)
    reached = np.concatenate(cash)
    groups = np.array([pay.group for pay in starts.values()], dtype=np.int64)
    done = settle(parent, groups, reached[:, 0], reached[:, 1])
    met = np.concatenate([strong, done.rows])
    clashed = np.array([c.deposit for c in done.conflicts], dtype=np.int64)
    names = _names(store, np.concatenate([met[:, 3], clashed]))
    meetings = [
        Meeting(a, b, REASON_NAMES[reason], names.get(where, str(where)))
        for a, b, reason, where in met.tolist()
    ]
    conflicts = [
        Clash(names.get(c.deposit, str(c.deposit)), tuple(side[0] for side in c.groups))
        for c in done.conflicts
    ]
    return Found(meetings, conflicts)


def _names(store: ChainStore, ids: np.ndarray) -> dict[int, str]:
    """Addresses as text, by id."""
    if len(ids) == 0:
        return {}
    con = open_tables(store, ("addresses",))
    try:
        con.register("want_ids", pa.table({"address_id": pa.array(distinct(ids))}))
        rows = con.execute(
            "SELECT address_id, address FROM addresses SEMI JOIN want_ids USING (address_id)"
        ).fetchall()
        return {int(i): str(a) for i, a in rows}
    finally:
        con.close()
