"""Honest actors of the simulated Bitcoin economy: exchanges, users, mining pools, a mixer.

Each behaves as its real counterpart does on chain, because that behaviour is
what clustering and tracing heuristics feed on: exchanges give every customer
one deposit address, sweep deposits into a few reused hot-wallet addresses and
pay withdrawals in batches; users pay with change to a fresh address; pools
reuse one coinbase address and pay miners in large fan-outs.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from fundtrail.chains.simulate.btc.ledger import DUST, Ledger, Out, Utxo, Wallet
from fundtrail.chains.simulate.btc.script import Kind
from fundtrail.chains.simulate.style import Style

COIN = 100_000_000
COINBASE_MATURITY = 100

# Called once a queued withdrawal is paid: (txid, vout)
Paid = Callable[[bytes, int], None]


@dataclass
class Withdrawal:
    wallet: Wallet
    addr: int
    value: int
    paid: Paid | None = None


class Exchange:
    """Deposit address per customer, sweeps to reused hot wallets, batched withdrawals."""

    def __init__(
        self,
        ledger: Ledger,
        entity: int,
        name: str,
        kind: int,
        weight: float,
        style: Style | None = None,
    ) -> None:
        self.ledger = ledger
        self.entity = entity
        self.name = name
        self.weight = weight
        self.style = style or Style()
        self.kind = kind
        self.deposits = Wallet(entity, kind)  # where deposits land
        self.sweepable = self.deposits  # what the back office sweeps (the same, until it stops)
        self.hot = Wallet(entity, kind)
        self.cold = Wallet(entity, Kind.P2WSH)
        self.hot_addrs = [ledger.new_address(self.hot, "hot_wallet") for _ in range(2)]
        self.cold_addr = ledger.new_address(self.cold, "cold_wallet")
        self.accounts: dict[int, int] = {}  # customer entity -> deposit address
        self.swept: set[int] = set()  # deposit addresses a sweep has spent from
        self.queue: deque[Withdrawal] = deque()

    def deposit_address(self, customer: int) -> int:
        """The customer's deposit address: their one account address, or a fresh one per
        deposit when the style's deposits are single-use."""
        if self.style.deposits == "single-use":
            return self.ledger.new_address(self.deposits, "deposit")
        addr = self.accounts.get(customer)
        if addr is None:
            addr = self.ledger.new_address(self.deposits, "deposit")
            self.accounts[customer] = addr
        return addr

    def stop_sweeping_new(self) -> None:
        """From now on deposits stay where they land (still unswept when the chain ends);
        what arrived before is swept as usual."""
        if self.deposits is self.sweepable:
            self.deposits = Wallet(self.entity, self.kind)

    def withdraw(self, w: Withdrawal) -> None:
        self.queue.append(w)

    def step(self) -> None:
        """One block's back office: sweep deposits, pay withdrawals, balance hot and cold."""
        d, st, pending = self.ledger.draws, self.style, self.sweepable.utxos
        if len(pending) >= st.sweep_at or (pending and d.chance(st.sweep_chance)):
            self._sweep()
        # one batch a block; an exchange paying one by one (or in small batches) sends
        # several withdrawal txs a block instead
        rounds = 1 if self.style.withdrawal_batch[1] >= 5 else 30
        while self.queue and rounds and self._pay_batch():
            rounds -= 1
        if self.hot.balance > 400 * COIN and d.chance(0.3):
            self._to_cold(self.hot.balance // 2)

    def _sweep(self) -> None:
        led = self.ledger
        inputs = self.sweepable.take_all(led.draws.between(*self.style.sweep_batch))
        rate = max(1, led.feerate() // 2)
        total = sum(u[2] for u in inputs)
        fee = led.fee_for(inputs, 1, rate)
        if total - fee < DUST:
            for u in inputs:
                self.sweepable.add(u)
            return
        led.submit(inputs, [(self.hot, led.draws.pick(self.hot_addrs), total - fee)])
        self.swept.update(u[3] for u in inputs)

    def _pay_batch(self) -> bool:
        """Pay the next withdrawals in one tx; False when they must wait."""
        led = self.ledger
        n = min(len(self.queue), led.draws.between(*self.style.withdrawal_batch))
        batch = [self.queue.popleft() for _ in range(n)]
        need = sum(w.value for w in batch)
        if self.hot.balance < need + COIN // 10:
            if self.cold.balance >= need + COIN:
                self._from_cold(need * 3)
            # not enough in the hot wallet yet: wait for sweeps or the cold wallet
            self.queue.extendleft(reversed(batch))
            return False
        payments: list[Out] = [(w.wallet, w.addr, w.value) for w in batch]
        done = led.pay(
            self.hot, payments, change_addr=led.draws.pick(self.hot_addrs), max_inputs=200
        )
        if done is None:
            self.queue.extendleft(reversed(batch))
            return False
        txid, vouts = done
        for w, vout in zip(batch, vouts, strict=True):
            if w.paid is not None:
                w.paid(txid, vout)
        return True

    def _to_cold(self, amount: int) -> None:
        self.ledger.pay(
            self.hot, [(self.cold, self.cold_addr, amount)], change_addr=self.hot_addrs[0]
        )

    def _from_cold(self, amount: int) -> None:
        amount = min(amount, self.cold.balance - COIN // 10)
        led = self.ledger
        led.pay(
            self.cold,
            [(self.hot, led.draws.pick(self.hot_addrs), amount)],
            change_addr=self.cold_addr,
        )


@dataclass
class User:
    entity: int
    wallet: Wallet
    exchanges: list[Exchange] = field(default_factory=list)  # where it has an account


class Pool:
    """A mining pool: one reused coinbase address; pays miners once coinbases mature."""

    def __init__(self, ledger: Ledger, entity: int, name: str, kind: int, weight: float) -> None:
        self.ledger = ledger
        self.entity = entity
        self.name = name
        self.weight = weight
        self.wallet = Wallet(entity, kind)
        self.addr = ledger.new_address(self.wallet, "coinbase")
        self.immature: deque[tuple[int, Utxo]] = deque()
        self.tag = name.encode()[:20]

    def mined(self, height: int, utxo: Utxo) -> None:
        self.immature.append((height, utxo))

    def mature(self, height: int) -> None:
        while self.immature and self.immature[0][0] + COINBASE_MATURITY <= height:
            self.wallet.add(self.immature.popleft()[1])


class Mixer:
    """A custodial mixer: fresh deposit address per order, payout later from its own reserve."""

    def __init__(self, ledger: Ledger, entity: int, name: str) -> None:
        self.ledger = ledger
        self.entity = entity
        self.name = name
        self.deposits = Wallet(entity, Kind.P2WPKH)
        self.reserve = Wallet(entity, Kind.P2WPKH)
        self.reserve_addr = ledger.new_address(self.reserve, "mixer_reserve")
        self.orders: deque[tuple[int, Out, Paid | None]] = deque()  # (due height, payout, paid)
        self.fee_pct = 2

    def order(self) -> int:
        return self.ledger.new_address(self.deposits, "mixer_deposit")

    def schedule(self, due: int, payout: Out, paid: Paid | None = None) -> None:
        self.orders.append((due, payout, paid))

    def step(self, height: int) -> None:
        led = self.ledger
        if len(self.deposits.utxos) >= 4 or (self.deposits.utxos and led.draws.chance(0.3)):
            inputs = self.deposits.take_all(30)
            total = sum(u[2] for u in inputs)
            led.submit(
                inputs, [(self.reserve, self.reserve_addr, total - led.fee_for(inputs, 1, 4))]
            )
        keep: deque[tuple[int, Out, Paid | None]] = deque()
        while self.orders:
            due, payout, paid = self.orders.popleft()
            done = None
            if due <= height:
                done = led.pay(self.reserve, [payout], change_addr=self.reserve_addr)
            if done is None:
                keep.append((due, payout, paid))
            elif paid is not None:
                paid(done[0], done[1][0])
        self.orders = keep
