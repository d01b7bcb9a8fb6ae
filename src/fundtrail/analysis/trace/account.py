"""Balance-based taint on account chains (Ethereum, BNB Smart Chain), per address per asset.

Funds entering an address join its balance of that asset; an outgoing transfer carries
taint by the method:

* **haircut**: the share ``taint * value // balance`` of the address's taint (balance
  just before the transfer, every inflow counted, tainted or not). The floor's remainder
  stays on the address, so what moves plus what stays is exactly what arrived.
* **poison**: once tainted, every later outgoing transfer is tainted in full.
* **FIFO**: an address's inflows and outflows are laid on two lines by cumulative value;
  the coins at offset ``x`` of the outflow line are the coins at offset ``x`` of the
  inflow line. Exact both ways.

Backward, haircut splits an outflow over the inflows still present in the balance at
that moment (each inflow's remainder after earlier outflows took their proportional
part, integer arithmetic); poison marks every earlier inflow in full; FIFO maps offsets
back. Native coin and each token are traced separately; a start's asset is its transfer's.

**Swaps.** A service that pays another asset out in the same transaction as it is paid
(a DEX pool: USDT in by a ``Transfer`` log, TRX out by an internal transaction) is
converting, not cashing out. The pool may pay the payer back, a router that passes it on,
or a third address the payer named: every payment of another asset the pool makes in the
transaction is the swap's output. Forward, money reaching such a service becomes a
:class:`Conversion`: the traced share of all the pool was paid in that asset in that
transaction, turned into each output at the transaction's own rate (``traced * output //
paid_in``, exact integers in each asset's base units). Backward, money a pool paid out is
explained the same way by what the pool was paid in other assets in that transaction
(``traced * input // paid_out``). The caller traces the outputs (forward) or inputs
(backward) on as starts of their asset (:mod:`fundtrail.analysis.trace.acctrace`).
"""

from __future__ import annotations

import heapq
import re
from bisect import bisect_right
from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np

from fundtrail.analysis.trace.accgraph import SINK_KINDS, SOURCE_KINDS, AccountGraph
from fundtrail.analysis.trace.fifo import Intervals, merge
from fundtrail.analysis.trace.haircut import split_int

HEX64 = re.compile(r"^0x[0-9a-fA-F]{64}$")
FAR = 2**62


@dataclass
class Hit:
    kind: str
    address: int
    pos: int  # transfer that brought the money (or, held: the last one that did)
    amount: int
    hops: int
    deposit: int = -1


@dataclass
class Conversion:
    """Traced money a swap service converted. Forward: ``amount`` of the asset of ``pos``
    paid into ``pool`` by ``address``, and per output, the traced amount of its asset.
    Backward (``backward``): ``amount`` of the asset of ``pos`` the pool paid ``address``,
    and per input the pool was paid in another asset, the traced amount of it."""

    pos: int  # the transfer into the pool (backward: out of it)
    pool: int
    address: int
    amount: int
    paid_in: int  # all the pool was paid in this asset in this tx (backward: all it paid out)
    outs: list[tuple[int, int]]  # (output transfer, traced amount of its asset); backward: inputs
    hops: int
    backward: bool = False


@dataclass
class AccountWalk:
    hits: list[Hit] = field(default_factory=list)
    flows: list[tuple[int, int, int, int]] = field(default_factory=list)  # src, dst, amount, pos
    fee: int = 0
    visited: int = 0
    swaps: list[Conversion] = field(default_factory=list)
    swapped: int = 0  # traced amount converted to other assets (in this walk's asset)
    # forward: every address taint reached (not by a start), the fewest hops it arrived at
    # and how much arrived within the hop limit (what bulk exposure reads)
    reached: dict[int, int] = field(default_factory=dict)
    arrived: dict[int, int] = field(default_factory=lambda: defaultdict(int))

    def convert(self, c: Conversion) -> None:
        self.swaps.append(c)
        self.swapped += c.amount


def _same_tx(g: AccountGraph, q: int) -> range:
    """The positions of the transfers of ``q``'s transaction (they are consecutive)."""
    tx = g.txid(q)
    lo, hi = q, q
    while lo > 0 and g.txid(lo - 1) == tx:
        lo -= 1
    while hi + 1 < len(g.frm) and g.txid(hi + 1) == tx:
        hi += 1
    return range(lo, hi + 1)


def _pool_legs(g: AccountGraph, q: int, pool: int) -> tuple[list[int], list[int]]:
    """The pool's payments in and out in ``q``'s transaction (gas and burns left out)."""
    same = _same_tx(g, q)
    ins = [p for p in same if g.to[p] == pool and 0 <= g.frm[p] != pool
           and g.kind[p] not in SINK_KINDS and g.kind[p] not in SOURCE_KINDS]  # fmt: skip
    outs = [p for p in same if g.frm[p] == pool and 0 <= g.to[p] != pool
            and g.kind[p] not in SINK_KINDS]  # fmt: skip
    return ins, outs


def conversion(
    g: AccountGraph, q: int, sender: int, pool: int, amount: int, hops: int
) -> Conversion | None:
    """The swap of transfer ``q`` (``sender`` -> service ``pool``), if the pool paid another
    asset out in the same transaction (to the sender or anyone); else None (a cash-out)."""
    if sender < 0:
        return None
    asset = int(g.asset[q])
    ins, outs = _pool_legs(g, q, pool)
    back = [p for p in outs if int(g.asset[p]) != asset]
    paid_in = sum(g.values[p] for p in ins if int(g.asset[p]) == asset)
    if not back or paid_in <= 0:
        return None
    return Conversion(
        q, pool, sender, amount, paid_in, [(p, amount * g.values[p] // paid_in) for p in back], hops
    )


def origin(
    g: AccountGraph, q: int, pool: int, receiver: int, amount: int, hops: int
) -> Conversion | None:
    """Backward: the swap that made transfer ``q`` (service ``pool`` -> ``receiver``), if the
    pool was paid another asset in the same transaction; else None (a withdrawal)."""
    asset = int(g.asset[q])
    ins, outs = _pool_legs(g, q, pool)
    paid = [p for p in ins if int(g.asset[p]) != asset]
    paid_out = sum(g.values[p] for p in outs if int(g.asset[p]) == asset)
    if not paid or paid_out <= 0:
        return None
    return Conversion(
        q, pool, receiver, amount, paid_out,
        [(p, amount * g.values[p] // paid_out) for p in paid], hops, backward=True,
    )  # fmt: skip


class Ledger:
    """One address's history in one asset, replayed in order."""

    def __init__(self, g: AccountGraph, address: int, asset: int) -> None:
        hist = g.history(address)
        self.g, self.a = g, address
        self.pos = [int(p) for p in hist[g.asset[hist] == asset]]
        self.i, self.balance = 0, 0
        self.in_start: dict[int, int] = {}
        self.out_start: dict[int, int] = {}

    def delta(self, p: int) -> int:
        v = self.g.values[p]
        return (v if self.g.to[p] == self.a else 0) - (v if self.g.frm[p] == self.a else 0)

    def advance_to(self, p: int) -> int:
        """Balance just before transfer ``p``."""
        while self.i < len(self.pos) and self.pos[self.i] < p:
            self.balance += self.delta(self.pos[self.i])
            self.i += 1
        return self.balance

    def outflows_after(self, p: int) -> list[int]:
        k = bisect_right(self.pos, p)
        return [q for q in self.pos[k:] if self.g.frm[q] == self.a and self.g.to[q] != self.a]

    def inflows_before(self, p: int) -> list[int]:
        k = bisect_right(self.pos, p - 1)
        return [q for q in self.pos[:k] if self.g.to[q] == self.a and self.g.frm[q] != self.a]

    def lines(self) -> tuple[dict[int, int], dict[int, int]]:
        """FIFO: offset of each inflow on the inflow line, each outflow on the outflow line."""
        if not self.in_start and not self.out_start:
            cin = cout = 0
            for p in self.pos:
                if self.g.frm[p] == self.g.to[p]:
                    continue
                if self.g.to[p] == self.a:
                    self.in_start[p] = cin
                    cin += self.g.values[p]
                else:
                    self.out_start[p] = cout
                    cout += self.g.values[p]
        return self.in_start, self.out_start


class Ledgers(dict[int, Ledger]):
    def __init__(self, g: AccountGraph, asset: int) -> None:
        super().__init__()
        self.g, self.asset = g, asset

    def __missing__(self, a: int) -> Ledger:
        led = self[a] = Ledger(self.g, a, self.asset)
        return led


MOVE_ON_SHARE = 0.95  # "(almost) all" of a balance, as deposit_address's forwarding share


def _step(g: AccountGraph, a: int, b: int, q: int, balance: int | None = None) -> int:
    """Hops transfer ``q`` (``a`` -> ``b``) adds: 0 within a cluster or when ``a`` moves on
    to a fresh address of its own (:func:`moves_on`), else 1. ``balance``: ``a``'s balance
    of ``q``'s asset just before ``q``, when the caller has it."""
    if a < 0 or b < 0:
        return 1
    if g.cluster(a) == g.cluster(b):
        return 0
    return 0 if moves_on(g, a, b, q, balance) else 1


def moves_on(g: AccountGraph, a: int, b: int, q: int, balance: int | None = None) -> bool:
    """Is transfer ``q`` its sender moving on to a fresh address (a peel chain's next link)?

    The account-chain form of a peel chain's change output: ``a`` sends (almost) all it
    holds of the asset (``MOVE_ON_SHARE`` of its balance just before ``q``) to ``b``, an
    address that had never received that asset nor sent anything, and is no service or
    deposit address. A wallet abandoning an address for a new one, or a gang hopping its
    proceeds through fresh addresses, does exactly this; paying someone else rarely
    empties the payer into an address that never held the asset. Like a peel chain on a
    UTXO chain, such a chain is one hop however long it is, and each payment leaving it
    (a peel into a deposit address) counts one.
    """
    if g.is_stop(b):
        return False
    hist = g.history(b)
    before = hist[: int(np.searchsorted(hist, q))]
    asset = g.asset[q]
    if len(before) and (
        np.any(g.frm[before] == b) or np.any((g.to[before] == b) & (g.asset[before] == asset))
    ):
        return False
    if balance is None:
        balance = balance_before(g, a, q)
    return balance > 0 and g.values[q] >= MOVE_ON_SHARE * balance


def balance_before(g: AccountGraph, a: int, q: int) -> int:
    """``a``'s balance of transfer ``q``'s asset just before ``q`` (every in- and outflow)."""
    hist = g.history(a)
    hist = hist[: int(np.searchsorted(hist, q))]
    hist = hist[g.asset[hist] == g.asset[q]]
    total = 0
    for p in hist.tolist():
        if g.to[p] == a:
            total += g.values[p]
        if g.frm[p] == a:
            total -= g.values[p]
    return total


def forward_balance(
    g: AccountGraph,
    starts: dict[int, int],
    asset: int,
    method: str,
    hops: int,
    min_amount: int,
    until: int,
    start_hops: dict[int, int] | None = None,
) -> AccountWalk:
    """Haircut or poison, forward, over one asset. ``starts``: transfer position -> taint
    (``start_hops``: the hops a start is already away, for money a swap converted)."""
    w, led = AccountWalk(), Ledgers(g, asset)
    taint: dict[int, int] = defaultdict(int)
    hop: dict[int, int] = {}
    last_in: dict[int, int] = {}
    # events in chain order: (position, 0 = a start's arrival | 1 = an outflow, address, taint)
    heap: list[tuple[int, int, int, int]] = []
    pending: set[int] = set()

    def schedule(a: int, after: int) -> None:
        if a in pending:
            return
        nxt = led[a].outflows_after(after)
        if nxt and g.time[nxt[0]] <= until:
            pending.add(a)
            heapq.heappush(heap, (nxt[0], 1, a, 0))

    def receive(a: int, amount: int, h: int, p: int, sender: int, is_start: bool = False) -> None:
        if sender >= 0 or not is_start:
            w.flows.append((sender, a, amount, p))
        if not is_start:
            w.reached[a] = min(w.reached.get(a, h), h)
            if h <= hops:
                w.arrived[a] += amount
        conv = conversion(g, p, sender, a, amount, h) if not is_start and g.is_stop(a) else None
        if conv is not None:
            w.convert(conv)
        elif not is_start and g.is_stop(a):
            w.hits.append(Hit("cash-out", a, p, amount, h, _deposit(g, sender, a)))
        elif not is_start and (h > hops or amount < min_amount):
            w.hits.append(Hit("limit", a, p, amount, h))
        else:
            taint[a] += amount
            hop[a] = min(hop.get(a, h), h)
            last_in[a] = p
            schedule(a, p)

    for p, amount in starts.items():  # a start's taint arrives at its own position, not before
        heapq.heappush(heap, (p, 0, int(g.to[p]), amount))
    while heap:
        q, event, a, amount = heapq.heappop(heap)
        if event == 0:
            receive(a, amount, (start_hops or {}).get(q, 0), q, int(g.frm[q]), is_start=True)
            continue
        pending.discard(a)
        w.visited += 1
        balance = led[a].advance_to(q)
        v = g.values[q]
        if method == "poison":
            share = v
        else:
            share = taint[a] if v >= balance else taint[a] * v // balance
            taint[a] -= share
        dest = int(g.to[q])
        if share > 0 and (dest < 0 or g.kind[q] in SINK_KINDS):
            w.fee += share
        elif share > 0:
            receive(dest, share, hop[a] + _step(g, a, dest, q, balance), q, a)
        if taint[a] > 0:
            schedule(a, q)
    end = max(int(g.time.max(initial=0)), 0) if until >= FAR else until
    for a, t in taint.items():
        if method == "poison":
            last = [p for p in led[a].pos if g.time[p] <= end]
            t = led[a].advance_to(last[-1] + 1) if last else 0
        if t > 0:
            w.hits.append(Hit("held", a, last_in[a], t, hop[a]))
    return w


def _deposit(g: AccountGraph, sender: int, service: int) -> int:
    """Deposit address: the receiver, unless the sender only forwards to this service and
    the receiver is a hot wallet (pays outside its cluster): then the sender was swept.
    Gas fees and burns are no payment to anyone and are left out of both tests."""
    if sender < 0 or g.is_stop(sender) or g.is_deposit(service):
        return service
    cluster = g.cluster(service)
    sent = _payments(g, sender)
    if len(sent) == 0 or np.any(g.addr_cluster[g.to[sent]] != cluster):
        return service
    paid = _payments(g, service)
    return sender if pays_outside(g.addr_cluster[g.to[paid]], cluster) else service


def _payments(g: AccountGraph, address: int) -> np.ndarray:
    hist = g.history(address)
    out = hist[(g.frm[hist] == address) & (g.to[hist] >= 0)]
    return np.array([p for p in out.tolist() if g.kind[p] not in SINK_KINDS], dtype=np.int64)


def backward_balance(
    g: AccountGraph,
    starts: dict[int, int],
    asset: int,
    method: str,
    hops: int,
    min_amount: int,
    since: int,
    start_hops: dict[int, int] | None = None,
) -> AccountWalk:
    """Haircut or poison, backward: which inflows made up each traced outflow
    (``start_hops``: the hops a start is already away, for what a swap was paid with)."""
    w, led = AccountWalk(), Ledgers(g, asset)
    amounts: dict[int, int] = defaultdict(int)
    hop: dict[int, int] = {}
    heap: list[int] = []

    def reach(p: int, amount: int, h: int) -> None:
        if p not in amounts:
            heapq.heappush(heap, -p)
        amounts[p] += amount
        hop[p] = min(hop.get(p, h), h)

    for p, amount in starts.items():
        if start_hops and p in start_hops:  # a swap's input: its own hop into the pool
            w.flows.append((int(g.frm[p]), int(g.to[p]), amount, p))
        reach(p, amount, (start_hops or {}).get(p, 0))
    while heap:
        p = -heapq.heappop(heap)
        w.visited += 1
        a, x, h = int(g.frm[p]), amounts[p], hop[p]
        if a < 0 or g.kind[p] in SOURCE_KINDS:
            w.hits.append(Hit("held", int(g.to[p]), p, x, h))  # minted or mined: the origin
            continue
        if g.is_stop(a) and (conv := origin(g, p, a, int(g.to[p]), x, h)):
            w.convert(conv)  # a start a swap paid: explained by what paid for the swap
            continue
        ins = led[a].inflows_before(p)
        shares = (
            _inflow_shares(g, led[a], ins, p, x)
            if method == "haircut"
            else [g.values[i] for i in ins]
        )
        if not any(shares):
            w.hits.append(Hit("held", a, p, x, h))  # no recorded inflow explains it
            continue
        for i, share in zip(ins, shares, strict=True):
            if share <= 0:
                continue
            sender = int(g.frm[i])
            step = _step(g, sender, a, i) if sender >= 0 else 0
            w.flows.append((sender, a, share, i))
            if sender >= 0 and g.is_stop(sender):
                conv = origin(g, i, sender, a, share, h + step)
                if conv is not None:
                    w.convert(conv)
                else:
                    w.hits.append(Hit("cash-out", sender, i, share, h + step))
            elif h + step > hops or share < min_amount or g.time[i] < since:
                w.hits.append(Hit("limit", sender, i, share, h + step))
            else:
                reach(i, share, h + step)
    return w


def _inflow_shares(g: AccountGraph, led: Ledger, ins: list[int], p: int, x: int) -> list[int]:
    """Split ``x`` over the inflows by what is left of each in the balance before ``p``."""
    left = {i: g.values[i] for i in ins}
    for q in led.pos:
        if q >= p:
            break
        if q in left or g.frm[q] != led.a or g.to[q] == led.a:
            continue
        live = [i for i in ins if i < q and left[i] > 0]
        take = split_int(min(g.values[q], sum(left[i] for i in live)), [left[i] for i in live])
        for i, t in zip(live, take, strict=True):
            left[i] -= t
    return split_int(min(x, sum(left.values())), [left[i] for i in ins]) if ins else []


def fifo_walk(
    g: AccountGraph,
    starts: dict[int, int],
    asset: int,
    forward: bool,
    hops: int,
    min_amount: int,
    limit_t: int,
    start_hops: dict[int, int] | None = None,
) -> AccountWalk:
    """FIFO both ways: pieces are (transfer, intervals in that transfer's value)."""
    w, led = AccountWalk(), Ledgers(g, asset)
    hops0 = start_hops or {}
    todo: list[tuple[int, Intervals, int]] = [
        (p, [(0, a)], hops0.get(p, 0)) for p, a in starts.items()
    ]
    if not forward:  # a swap's input: its own hop into the pool
        w.flows += [(int(g.frm[p]), int(g.to[p]), a, p) for p, a in starts.items() if p in hops0]
    while todo:
        p, iv, h = todo.pop()
        w.visited += 1
        a = int(g.to[p]) if forward else int(g.frm[p])
        if a < 0 or (not forward and g.kind[p] in SOURCE_KINDS):
            w.hits.append(Hit("held", int(g.to[p]), p, _size(iv), h))
            continue
        if not forward and g.is_stop(a) and (conv := origin(g, p, a, int(g.to[p]), _size(iv), h)):
            w.convert(conv)  # a start a swap paid: explained by what paid for the swap
            continue
        ins, outs = led[a].lines()
        here, there = (ins, outs) if forward else (outs, ins)
        base = here.get(p, 0)
        targets = sorted(there.items(), key=lambda kv: kv[1])
        starts_at = [s for _, s in targets]
        placed = 0
        for q, s in targets[max(bisect_right(starts_at, base + iv[0][0]) - 1, 0) :]:
            if s >= base + iv[-1][1] or (forward and g.time[q] > limit_t):
                break
            part = _clip(iv, base, s, s + g.values[q])
            if not part:
                continue
            placed += _size(part)
            other = int(g.to[q]) if forward else int(g.frm[q])
            sender, receiver = (a, other) if forward else (other, a)
            step = _step(g, sender, receiver, q) if other >= 0 else 0
            if forward:
                w.flows.append((a, other, _size(part), q))
            else:
                w.flows.append((other, a, _size(part), q))
            if forward and (other < 0 or g.kind[q] in SINK_KINDS):
                w.fee += _size(part)
            elif (
                other >= 0
                and g.is_stop(other)
                and (conv := _swap(g, forward, q, a, other, _size(part), h + step))
            ):
                w.convert(conv)
            elif other >= 0 and g.is_stop(other):
                dep = _deposit(g, a, other) if forward else -1
                w.hits.append(Hit("cash-out", other, q, _size(part), h + step, dep))
            elif (
                h + step > hops or _size(part) < min_amount or (not forward and g.time[q] < limit_t)
            ):
                w.hits.append(Hit("limit", other if other >= 0 else a, q, _size(part), h + step))
            else:
                todo.append((q, part, h + step))
        if placed < _size(iv):
            w.hits.append(Hit("held", a, p, _size(iv) - placed, h))
    return w


def _swap(
    g: AccountGraph, forward: bool, q: int, a: int, pool: int, amount: int, hops: int
) -> Conversion | None:
    """The swap transfer ``q`` between ``a`` and service ``pool`` is a leg of, if any."""
    if forward:
        return conversion(g, q, a, pool, amount, hops)
    return origin(g, q, pool, a, amount, hops)


def _clip(iv: Intervals, base: int, lo: int, hi: int) -> Intervals:
    """Intervals (local to a transfer at ``base`` on the line) inside [lo, hi), local to lo."""
    out = [(max(a + base, lo) - lo, min(b + base, hi) - lo) for a, b in iv]
    return merge([(a, b) for a, b in out if a < b])


def _size(iv: Intervals) -> int:
    return sum(b - a for a, b in iv)


def pays_outside(paid_clusters: np.ndarray, own_cluster: int) -> bool:
    """Has a service address ever paid an address outside its own cluster?

    A hot wallet does (customer withdrawals, gas top-ups); a customer deposit address
    never does: it is only ever swept into the service. That tells the two apart when
    the trace meets a service address in a sweep.
    """
    return bool(np.any(paid_clusters != own_cluster))
