"""Crimes on the EVM chain: a USDT investment scam and an ETH ransomware operation.

The gang's operations wallet is funded by an exchange withdrawal and pays the
gas of every collection and hop address (the gas-funding link investigators
follow). Proceeds are consolidated, then moved hop by hop to fresh addresses,
each hop peeling a part off to a deposit address at another exchange.
"""

from __future__ import annotations

import heapq
from contextlib import suppress
from typing import TYPE_CHECKING

from fundtrail.chains.simulate.evm.chain import ETHER, GWEI, InsufficientFunds
from fundtrail.chains.simulate.names import RANSOMWARE, SCAM_BRANDS, person
from fundtrail.chains.simulate.truth import Campaign, Cashout, Complaint, Swap

if TYPE_CHECKING:
    from fundtrail.chains.simulate.evm.economy import EvmExchange, EvmSim

USDT = 10**6
GAS_TOPUP = 3_000_000 * GWEI  # 0.003 ETH: enough for a few token transfers


class EvmGang:
    def __init__(self, sim: EvmSim, camp: Campaign, entity: int, avoid: EvmExchange | None) -> None:
        self.sim = sim
        self.camp = camp
        self.entity = entity
        ch = sim.chain
        self.ops = ch.new_address(entity, "payment")
        self.funded = False
        self.heads: list[int] = []  # addresses holding proceeds, the current links of chains
        self.cashout_exchanges = [e for e in sim.exchanges if e is not avoid]
        style = sim.style
        if style.gang_exchanges:
            self.cashout_exchanges = self.cashout_exchanges[: style.gang_exchanges]
        self.mules = [-(entity * 100 + k + 1) for k in range(sim.draws.between(3, 6))]
        if style.mules_are_customers:  # ordinary users' accounts, their own deposits beside
            self.mules = [sim.users[sim.draws.below(len(sim.users))] for _ in self.mules]
        own = style.peel_share == sim.own.peel_share
        self.peel_median = 0.15 if own else style.peel_share
        self.from_mixer: set[int] = set()  # heads holding coins the mixer pool paid out
        self.swapped: list[tuple[int, int]] = []  # (address, native coins a swap paid it)

    def fund(self) -> None:
        """The operations wallet buys ETH for gas at an exchange."""
        if not self.funded:
            got = self.sim.withdraw(self.sim.pick_exchange(), self.ops, 3 * ETHER, "ETH")
            self.funded = got is not None

    def gas(self, addr: int) -> bool:
        ch = self.sim.chain
        if ch.can_pay(addr, 0, 80_000):
            return True
        if ch.can_pay(self.ops, GAS_TOPUP):
            ch.send(self.ops, addr, GAS_TOPUP)
        return False

    def swap(self) -> bool:
        """Where the chain has a swap pool (TRON), now and then swap part of a head's USDT
        to the native coin; the coins are cashed out at an exchange a later step."""
        sim, ch, d = self.sim, self.sim.chain, self.sim.draws
        if self.swapped:
            self._cash_out_native()
        if not d.chance(0.3):
            return False
        funded = [h for h in self.heads if ch.token[h] >= 2_000 * USDT]
        if not funded or not self.gas(funded[0]):
            return False
        head = funded[0]
        amount = ch.token[head] * d.between(25, 50) // 100
        try:
            txh, _, got = sim.swap_to_native(head, amount)
        except InsufficientFunds:
            return False
        assert sim.swap_pool is not None
        sim.truth.swaps.append(
            Swap(self.camp.id, head, sim.swap_pool, txh, "USDT", amount, sim.chain_code, got)
        )
        self.swapped.append((head, got))
        return True

    def _cash_out_native(self) -> None:
        sim, ch, d = self.sim, self.sim.chain, self.sim.draws
        head, got = self.swapped[0]
        ex = sim.pick_exchange(self.cashout_exchanges)
        deposit = sim.deposit_address(ex, d.pick(self.mules))
        amount = sim.native_units(min(got, ch.eth[head] - 21_000 * (2 * ch.base_fee + 10 * GWEI)))
        if amount <= 0:
            return
        try:
            txh = ch.send(head, deposit, amount)
        except InsufficientFunds:
            return
        self.swapped.pop(0)
        if deposit not in ex.pending:
            ex.pending.append(deposit)
        sim.truth.cashouts.append(
            Cashout(self.camp.id, ex.entity, deposit, amount, sim.chain_code, txh, None, ch.time,
                    "swap")
        )  # fmt: skip

    def hop(self, asset: str) -> None:
        """Peel: part to a mule's deposit address at another exchange, the rest one hop on."""
        sim, ch, d = self.sim, self.sim.chain, self.sim.draws
        if asset == "USDT" and sim.swap_pool is not None and self.swap():
            return
        funded = [h for h in self.heads if (ch.token[h] if asset == "USDT" else ch.eth[h])]
        if not funded:
            return
        head = funded[0]
        balance = ch.token[head] if asset == "USDT" else ch.eth[head] - 21_000 * 4 * ch.base_fee
        floor = 2_000 * USDT if asset == "USDT" else ETHER // 5
        if balance <= 0 or (asset == "USDT" and not self.gas(head)):
            return
        ex = sim.pick_exchange(self.cashout_exchanges)
        deposit = sim.deposit_address(ex, d.pick(self.mules))
        if balance < floor:
            amount = balance
        else:
            amount = int(balance * min(0.6, d.lognormal(self.peel_median, 0.5)))
        try:
            if asset == "USDT":
                txh, log = ch.transfer_token(head, deposit, amount)
                vout: int | None = log
            else:
                txh, vout = ch.send(head, deposit, amount), None
        except InsufficientFunds:
            return
        if deposit not in ex.pending:
            ex.pending.append(deposit)
        sim.truth.cashouts.append(
            Cashout(
                self.camp.id,
                ex.entity,
                deposit,
                amount,
                asset,
                txh,
                vout,
                ch.time,
                "mixer" if head in self.from_mixer else "peel",
            )
        )
        if amount == balance:
            self.heads.remove(head)
            return
        nxt = ch.new_address(self.entity, "peel")
        rest = ch.token[head] if asset == "USDT" else ch.eth[head] - 21_000 * 4 * ch.base_fee
        try:
            if asset == "USDT":
                ch.transfer_token(head, nxt, rest)
            else:
                ch.send(head, nxt, rest)
        except InsufficientFunds:
            return
        self.heads[self.heads.index(head)] = nxt
        if head in self.from_mixer:
            self.from_mixer.add(nxt)


class EvmScam:
    """Victims withdraw USDT from ONE exchange to the scam's few collection addresses."""

    def __init__(self, sim: EvmSim, n_victims: int, start: int, end: int) -> None:
        self.sim = sim
        d = sim.draws
        self.entity = sim.registry.add_entity("scam", f"{d.pick(SCAM_BRANDS)} (investment scam)")
        self.camp = sim.truth.campaign("investment-scam", self.entity)
        self.victim_exchange = sim.exchanges[0]
        self.gang = EvmGang(sim, self.camp, self.entity, self.victim_exchange)
        self.collection = [
            sim.chain.new_address(self.entity, "collection") for _ in range(d.between(3, 5))
        ]
        self.camp.collection_addresses = list(self.collection)
        self.consolidation = sim.chain.new_address(self.entity, "consolidation")
        self.events = sorted(
            start + int((end - start) * d.uniform() ** 0.7) for _ in range(n_victims)
        )
        self.end = end

    def step(self, number: int) -> None:
        ch, d = self.sim.chain, self.sim.draws
        self.gang.fund()
        while self.events and self.events[0] <= number:
            heapq.heappop(self.events)
            self._victim_pays()
        for addr in self.collection:  # consolidate once a collection address holds enough
            if ch.token[addr] > 20_000 * USDT and d.chance(0.2) and self.gang.gas(addr):
                with suppress(InsufficientFunds):
                    ch.transfer_token(addr, self.consolidation, ch.token[addr])
        big = ch.token[self.consolidation] > 50_000 * USDT
        if big and d.chance(0.1) and self.gang.gas(self.consolidation):
            head = ch.new_address(self.entity, "peel")
            with suppress(InsufficientFunds):
                ch.transfer_token(self.consolidation, head, ch.token[self.consolidation])
                self.gang.heads.append(head)
        if d.chance(0.5):
            self.gang.hop("USDT")

    def _victim_pays(self) -> None:
        sim, d = self.sim, self.sim.draws
        name = person(d)
        victim = sim.registry.add_entity("victim", name)
        amount = d.amount(6_000 * USDT, 1.1, 200 * USDT, 1_500_000 * USDT)
        to = d.pick(self.collection)
        got = sim.withdraw(self.victim_exchange, to, amount, "USDT")
        if got is None:
            return
        txh, log = got
        cid = f"C-{self.camp.id.upper()}-{len(self.camp.complaint_ids) + 1:05d}"
        reported = sim.chain.time + int(d.lognormal(20 * 86400, 0.8))
        c = Complaint(cid, name, reported, "ETH", txh, log, to, amount, "USDT")
        sim.truth.add_complaint(self.camp, victim, c)


class EvmRansomware:
    """ETH ransoms to a unique address per victim; consolidation; some through the mixer pool."""

    def __init__(self, sim: EvmSim, n_victims: int, start: int, end: int) -> None:
        self.sim = sim
        d = sim.draws
        self.entity = sim.registry.add_entity("ransomware", f"{d.pick(RANSOMWARE)} ransomware")
        self.camp = sim.truth.campaign("ransomware", self.entity)
        self.gang = EvmGang(sim, self.camp, self.entity, None)
        self.events = sorted(start + d.below(max(1, end - start)) for _ in range(n_victims))
        self.waiting: list[tuple[int, int, int, int, str]] = []
        self.payments: list[int] = []
        self.consolidation = sim.chain.new_address(self.entity, "consolidation")

    def step(self, number: int) -> None:
        ch, d = self.sim.chain, self.sim.draws
        while self.events and self.events[0] <= number:
            heapq.heappop(self.events)
            self._victim_buys(number)
        still = []
        for due, wallet, victim, ransom, name in self.waiting:
            if due <= number and ch.can_pay(wallet, ransom):
                self._victim_pays(wallet, victim, ransom, name)
            else:
                still.append((due, wallet, victim, ransom, name))
        self.waiting = still
        for addr in list(self.payments):
            value = ch.eth[addr] - 21_000 * (2 * ch.base_fee + 10 * GWEI)
            if value > 0 and d.chance(0.2):
                ch.send(addr, self.consolidation, value)
                self.payments.remove(addr)
        value = ch.eth[self.consolidation] - 21_000 * (2 * ch.base_fee + 10 * GWEI)
        if value > 2 * ETHER and d.chance(0.1):
            if d.chance(0.3):
                self._mix(value)
            else:
                head = ch.new_address(self.entity, "peel")
                ch.send(self.consolidation, head, value)
                self.gang.heads.append(head)
        if d.chance(0.5):
            self.gang.hop("ETH")

    def _victim_buys(self, number: int) -> None:
        sim, d = self.sim, self.sim.draws
        name = person(d)
        victim = sim.registry.add_entity("victim", name)
        wallet = sim.chain.new_address(victim, "victim_wallet")
        ransom = d.amount(8 * ETHER, 1.0, ETHER // 4, 400 * ETHER)
        if sim.withdraw(sim.pick_exchange(), wallet, ransom + ETHER // 20, "ETH") is not None:
            self.waiting.append((number + d.between(1, 20), wallet, victim, ransom, name))

    def _victim_pays(self, wallet: int, victim: int, ransom: int, name: str) -> None:
        sim, d = self.sim, self.sim.draws
        to = sim.chain.new_address(self.entity, "ransom_payment")
        txh = sim.chain.send(wallet, to, ransom)
        self.payments.append(to)
        self.camp.collection_addresses.append(to)
        cid = f"C-{self.camp.id.upper()}-{len(self.camp.complaint_ids) + 1:05d}"
        reported = sim.chain.time + int(d.lognormal(3 * 86400, 0.7))
        c = Complaint(cid, name, reported, "ETH", txh, None, to, ransom, "ETH")
        sim.truth.add_complaint(self.camp, victim, c)

    def _mix(self, value: int) -> None:
        """Deposit fixed denominations into the pool; withdrawals come later to fresh addresses."""
        sim, ch, d = self.sim, self.sim.chain, self.sim.draws
        denom = ETHER if value < 30 * ETHER else 10 * ETHER
        for _ in range(min(8, value // denom)):
            if not ch.can_pay(self.consolidation, denom, 120_000):
                break
            ch.send(self.consolidation, sim.mixer_pool, denom, 45_000)
            fresh = ch.new_address(self.entity, "payment")
            sim.mixer_notes.append((ch.number + d.between(5, 60), fresh, denom))
            self.gang.heads.append(fresh)
            self.gang.from_mixer.add(fresh)
