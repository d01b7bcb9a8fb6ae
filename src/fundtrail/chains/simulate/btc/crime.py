"""Criminal flows on Bitcoin: an investment scam and a ransomware operation.

Both end the way real proceeds do: collected, consolidated, peeled off in
small amounts to deposit addresses at exchanges (the cash-out points an
investigator wants), part of it laundered first through a CoinJoin or a mixer.
Every victim payment becomes a complaint and every exchange deposit a cash-out
in the truth.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass
from typing import TYPE_CHECKING

from fundtrail.chains.simulate.btc.actors import COIN, Exchange, User, Withdrawal
from fundtrail.chains.simulate.btc.coinjoin import WASABI1_DENOM, Joiner
from fundtrail.chains.simulate.btc.ledger import DUST, Utxo, Wallet
from fundtrail.chains.simulate.btc.script import Kind
from fundtrail.chains.simulate.names import RANSOMWARE, SCAM_BRANDS, person
from fundtrail.chains.simulate.truth import Campaign, Cashout, Complaint, MixerOrder

if TYPE_CHECKING:
    from fundtrail.chains.simulate.btc.economy import BitcoinSim


@dataclass(order=True)
class _Event:
    height: int
    seq: int
    victim: int


class Gang:
    """Shared laundering behaviour: consolidate, peel to exchange deposits, mix some."""

    def __init__(
        self, sim: BitcoinSim, camp: Campaign, entity: int, avoid: Exchange | None
    ) -> None:
        self.sim = sim
        self.camp = camp
        self.entity = entity
        self.collect = Wallet(entity, Kind.P2WPKH)
        self.main = Wallet(entity, Kind.P2WPKH)
        self.mixed = Wallet(entity, Kind.P2WPKH)
        self.style = st = sim.style
        d = sim.draws
        self.cashout_exchanges = [e for e in sim.exchanges if e is not avoid]
        if 0 < st.gang_exchanges < len(self.cashout_exchanges):
            keep = sorted(d.sample(len(self.cashout_exchanges), st.gang_exchanges))
            self.cashout_exchanges = [self.cashout_exchanges[k] for k in keep]
        self.mules = [-(entity * 100 + k + 1) for k in range(d.between(3, 6))]
        # mules who are ordinary customers: their accounts take the gang's deposits too
        self.mule_users: dict[int, User] = {}
        if st.mules_are_customers:
            users = sim.users
            picked = [users[k] for k in d.sample(len(users), len(self.mules))]
            self.mules = [u.entity for u in picked]
            self.mule_users = {u.entity: u for u in picked}
        self.mix_share = 0.3
        self.last_consolidation = 0
        self.from_mixer: set[int] = set()  # addresses a custodial mixer paid the gang at

    def set_mix_share(self, scenario_share: float) -> None:
        """The scenario's CoinJoin share, unless the style sets one."""
        cj = self.style.coinjoin_share
        self.mix_share = scenario_share if cj < 0 else cj

    def consolidate(self, height: int, default: tuple[int, int]) -> None:
        lo, hi = default if self.style.consolidate_every == (0, 0) else self.style.consolidate_every
        every = self.sim.draws.between(lo, hi)
        if len(self.collect.utxos) < 2 or height - self.last_consolidation < every:
            return
        led = self.sim.ledger
        inputs = self.collect.take_all(self.style.consolidate_inputs)
        fee = led.fee_for(inputs, 1, led.feerate())
        addr = led.new_address(self.main, "consolidation")
        led.submit(inputs, [(self.main, addr, sum(u[2] for u in inputs) - fee)])
        self.last_consolidation = height

    def launder(self) -> None:
        """One peel hop per block, an occasional CoinJoin entry, deposits of mixed coins."""
        d = self.sim.draws
        if self.main.utxos and d.chance(0.7):
            head = max(self.main.utxos, key=lambda u: u[2])
            if d.chance(self.mix_share) and head[2] > WASABI1_DENOM * 3:
                self._coinjoin(head)
            else:
                self._peel(head)
        if self.mixed.utxos and d.chance(0.5):
            utxo = self.mixed.utxos[0]
            self.remove(self.mixed, utxo)
            self._deposit([utxo], None, "mixer" if utxo[3] in self.from_mixer else "coinjoin")

    def remove(self, wallet: Wallet, utxo: Utxo) -> None:
        wallet.utxos.remove(utxo)
        wallet.balance -= utxo[2]

    def _peel(self, head: Utxo) -> None:
        d = self.sim.draws
        self.remove(self.main, head)
        if head[2] < COIN // 20:
            self._deposit([head], None)
            return
        amount = int(head[2] * min(0.6, d.lognormal(self.style.peel_share, 0.5)))
        self._deposit([head], amount)  # the remainder is the next link of the chain

    def _deposit(self, inputs: list[Utxo], amount: int | None, via: str = "peel") -> None:
        """Pay ``amount`` (or everything) to a mule's deposit address at another exchange."""
        sim = self.sim
        led, d = sim.ledger, sim.draws
        ex = sim.pick_exchange(self.cashout_exchanges)
        mule = d.pick(self.mules)
        deposit = ex.deposit_address(mule)
        user = self.mule_users.get(mule)
        if user is not None and ex not in user.exchanges:
            user.exchanges.append(ex)  # the mule trades there too
        rate = led.feerate()
        total = sum(u[2] for u in inputs)
        if amount is None:
            amount = total - led.fee_for(inputs, 1, rate)
            outs = [(ex.deposits, deposit, amount)]
            vout = 0
        else:
            rest = total - amount - led.fee_for(inputs, 2, rate)
            peel = led.new_address(self.main, "peel")
            vout = d.below(2)
            outs = [(ex.deposits, deposit, amount), (self.main, peel, rest)]
            if vout:
                outs.reverse()
        if amount < DUST:
            for u in inputs:
                self.main.add(u)
            return
        txid = led.submit(inputs, outs)
        sim.truth.cashouts.append(
            Cashout(
                self.camp.id,
                ex.entity,
                deposit,
                amount,
                "BTC",
                txid[::-1].hex(),
                vout,
                led.time,
                via,
            )
        )

    def _coinjoin(self, head: Utxo) -> None:
        self.remove(self.main, head)
        value = head[2]
        chunk = min(value, WASABI1_DENOM * self.sim.draws.between(1, 3) + WASABI1_DENOM // 5)
        if chunk == value or value - chunk < COIN // 100:
            self.sim.coinjoins.waiting["wasabi1"].append(Joiner(self.mixed, [head]))
            return
        led = self.sim.ledger
        # split off the part that goes into the mix, like a wallet's "send to self"
        addr = led.new_address(self.mixed, "payment")
        rest = led.new_address(self.main, "peel")
        fee = led.fee_for([head], 2, led.feerate())
        txid = led.submit(
            [head], [(self.mixed, addr, chunk), (self.main, rest, value - chunk - fee)]
        )
        utxo = (txid, 0, chunk, addr)
        self.remove(self.mixed, utxo)
        self.sim.coinjoins.waiting["wasabi1"].append(Joiner(self.mixed, [utxo]))


class InvestmentScam:
    """Victims withdraw from ONE exchange to the few collection wallets of a fake platform."""

    def __init__(self, sim: BitcoinSim, n_victims: int, start: int, end: int) -> None:
        self.sim = sim
        d = sim.draws
        brand = d.pick(SCAM_BRANDS)
        self.entity = sim.registry.add_entity("scam", f"{brand} (investment scam)")
        self.camp = sim.truth.campaign("investment-scam", self.entity)
        self.victim_exchange = sim.exchanges[0]
        self.gang = Gang(sim, self.camp, self.entity, self.victim_exchange)
        self.gang.set_mix_share(0.25)
        self.unique = sim.style.victims_pay == "unique"
        kinds = (Kind.P2WPKH, Kind.P2WPKH, Kind.P2SH_P2WPKH, Kind.P2PKH, Kind.P2TR)
        self.kinds = kinds
        self.collection = []
        for k in range(d.between(3, 5)):
            self.collection.append(sim.registry.new_address(self.entity, "collection", kinds[k]))
        self.camp.collection_addresses = [] if self.unique else list(self.collection)
        self.events: list[_Event] = []
        for i in range(n_victims):
            # arrivals ramp up: the scam recruits by word of mouth
            h = start + int((end - start) * d.uniform() ** 0.7)
            heapq.heappush(self.events, _Event(h, i, i))
        self.end = end

    def step(self, height: int) -> None:
        while self.events and self.events[0].height <= height:
            self._victim_pays(heapq.heappop(self.events).victim)
        self.gang.consolidate(height, (4, 12))
        self.gang.launder()

    def _victim_pays(self, i: int) -> None:
        sim, d = self.sim, self.sim.draws
        name = person(d)
        victim = sim.registry.add_entity("victim", name)
        amount = d.amount(15_000_000, 1.1, 500_000, 20 * COIN)
        to = self.collection[min(d.below(len(self.collection) + 1), len(self.collection) - 1)]
        camp = self.camp
        if self.unique:  # one collection address per victim, of the platform's kinds
            to = sim.registry.new_address(self.entity, "collection", d.pick(self.kinds))
            camp.collection_addresses.append(to)

        def paid(txid: bytes, vout: int) -> None:
            led = sim.ledger
            cid = f"C-{camp.id.upper()}-{len(camp.complaint_ids) + 1:05d}"
            reported = led.time + int(d.lognormal(20 * 86400, 0.8))
            c = Complaint(cid, name, reported, "BTC", txid[::-1].hex(), vout, to, amount, "BTC")
            sim.truth.add_complaint(camp, victim, c)

        self.victim_exchange.withdraw(Withdrawal(self.gang.collect, to, amount, paid))


class Ransomware:
    """Unique payment address per victim; consolidation, peel chains, part through a mixer."""

    def __init__(self, sim: BitcoinSim, n_victims: int, start: int, end: int) -> None:
        self.sim = sim
        d = sim.draws
        self.entity = sim.registry.add_entity("ransomware", f"{d.pick(RANSOMWARE)} ransomware")
        self.camp = sim.truth.campaign("ransomware", self.entity)
        self.gang = Gang(sim, self.camp, self.entity, None)
        self.gang.set_mix_share(0.0)
        self.shared: list[int] = []  # victims paying one of a few shared addresses
        if sim.style.victims_pay == "shared":
            for _ in range(d.between(1, 3)):
                addr = sim.registry.new_address(self.entity, "ransom_payment", Kind.P2WPKH)
                self.shared.append(addr)
        self.events: list[_Event] = []
        for i in range(n_victims):
            heapq.heappush(self.events, _Event(start + d.below(max(1, end - start)), i, i))
        self.paying: list[tuple[int, Wallet, int, int, str]] = []

    def step(self, height: int) -> None:
        sim, d = self.sim, self.sim.draws
        while self.events and self.events[0].height <= height:
            heapq.heappop(self.events)
            self._victim_buys()
        still = []
        for due, wallet, victim, ransom, name in self.paying:
            if due <= height and wallet.balance >= ransom + 50_000:
                self._victim_pays(wallet, victim, ransom, name)
            else:
                still.append((due, wallet, victim, ransom, name))
        self.paying = still
        self.gang.consolidate(height, (3, 10))
        if self.gang.main.utxos and sim.mixer and d.chance(0.15):
            self._to_mixer()
        self.gang.launder()

    def _victim_buys(self) -> None:
        """The victim buys bitcoin at an exchange and withdraws it to a fresh wallet."""
        sim, d = self.sim, self.sim.draws
        name = person(d)
        victim = sim.registry.add_entity("victim", name)
        wallet = Wallet(victim, d.pick((Kind.P2WPKH, Kind.P2WPKH, Kind.P2PKH, Kind.P2SH_P2WPKH)))
        ransom = d.amount(60_000_000, 1.0, 2_000_000, 40 * COIN)
        addr = sim.ledger.new_address(wallet, "victim_wallet")
        height = sim.ledger.height

        def paid(txid: bytes, vout: int) -> None:
            self.paying.append((height + d.between(1, 6), wallet, victim, ransom, name))

        extra = d.amount(200_000, 0.8, 60_000, 5_000_000)
        sim.pick_exchange(sim.exchanges).withdraw(Withdrawal(wallet, addr, ransom + extra, paid))

    def _victim_pays(self, wallet: Wallet, victim: int, ransom: int, name: str) -> None:
        sim, d = self.sim, self.sim.draws
        if self.shared:
            to = d.pick(self.shared)
        else:
            to = sim.registry.new_address(
                self.entity, "ransom_payment", d.pick((Kind.P2PKH, Kind.P2WPKH))
            )
        done = sim.ledger.pay(wallet, [(self.gang.collect, to, ransom)])
        if done is None:
            return
        txid, (vout,) = done
        if to not in self.camp.collection_addresses:
            self.camp.collection_addresses.append(to)
        cid = f"C-{self.camp.id.upper()}-{len(self.camp.complaint_ids) + 1:05d}"
        reported = sim.ledger.time + int(d.lognormal(3 * 86400, 0.7))
        c = Complaint(cid, name, reported, "BTC", txid[::-1].hex(), vout, to, ransom, "BTC")
        sim.truth.add_complaint(self.camp, victim, c)

    def _to_mixer(self) -> None:
        sim = self.sim
        mixer = sim.mixer
        assert mixer is not None
        head = max(self.gang.main.utxos, key=lambda u: u[2])
        if head[2] < COIN // 10:
            return
        led, d = sim.ledger, sim.draws
        self.gang.remove(self.gang.main, head)
        deposit = mixer.order()
        value = head[2] - led.fee_for([head], 1, led.feerate())
        led.submit([head], [(mixer.deposits, deposit, value)])
        payout = value * (100 - mixer.fee_pct) // 100
        order = MixerOrder(self.camp.id, deposit)
        sim.truth.mixer_orders.append(order)
        # the mixer pays back in a few pieces to fresh addresses, after a delay
        pieces = d.between(2, 4)
        for k in range(pieces):
            part = payout // pieces if k < pieces - 1 else payout - payout // pieces * (pieces - 1)
            addr = led.new_address(self.gang.mixed, "payment")
            order.payouts.append(addr)
            self.gang.from_mixer.add(addr)
            mixer.schedule(led.height + d.between(2, 20), (self.gang.mixed, addr, part))
