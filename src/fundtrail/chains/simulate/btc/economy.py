"""The Bitcoin simulation: a background economy with the scenario's crimes woven in.

Block by block: pools' coinbases mature and are paid out, exchanges sweep and
pay withdrawals, CoinJoin rounds run, the criminals act, and ordinary users
fill the rest of the block with payments, deposits and withdrawal requests.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from pathlib import Path

from fundtrail.chains.simulate.btc.actors import COIN, Exchange, Mixer, Pool, User, Withdrawal
from fundtrail.chains.simulate.btc.addrtext import encode_records
from fundtrail.chains.simulate.btc.coinjoin import WHIRLPOOL_POOLS, CoinJoins
from fundtrail.chains.simulate.btc.crime import InvestmentScam, Ransomware
from fundtrail.chains.simulate.btc.ledger import DUST, Ledger, Out, Wallet
from fundtrail.chains.simulate.btc.script import Keyring, Kind
from fundtrail.chains.simulate.btc.serialize import BlockFileWriter
from fundtrail.chains.simulate.draws import Draws
from fundtrail.chains.simulate.names import COORDINATORS, EXCHANGES, MIXERS, POOLS
from fundtrail.chains.simulate.registry import Registry
from fundtrail.chains.simulate.style import Style
from fundtrail.chains.simulate.truth import Tag, Truth, TruthWriter

BOOTSTRAP_BLOCKS = 120  # coinbase-only blocks, so the first coinbases have matured
# wallet script types of ordinary users: legacy, nested segwit, native segwit, taproot
_USER_KINDS = (Kind.P2PKH, Kind.P2SH_P2WPKH, Kind.P2WPKH, Kind.P2WPKH, Kind.P2WPKH, Kind.P2TR)
_USER_KIND_WEIGHTS = (0.12, 0.22, 0.5, 0.5, 0.5, 0.16)


def _cumulative(weights: Sequence[float]) -> list[float]:
    return list(itertools.accumulate(weights))


class BitcoinSim:
    def __init__(
        self,
        scenario: str,
        out: Path,
        seed: int,
        txs: int,
        start_time: int,
        style: Style | None = None,
    ) -> None:
        self.scenario = scenario
        self.style = st = style or Style()
        # background actions: r < 0.22 withdrawal, r < this cut a deposit, then payments
        self._deposit_cut = 0.40 if st.user_deposits == 0.18 else 0.22 + st.user_deposits
        self.out = out
        self.target = txs
        self.draws = d = Draws(seed)
        self.keys = Keyring(seed)
        self.registry = Registry(out / ".addresses.tmp", self.keys.program)
        self.writer = BlockFileWriter(out / "blocks")
        self.ledger = Ledger(self.registry, self.keys, d, self.writer, start_time)
        self.truth = Truth(scenario, seed, "BTC", start_time, style=st.to_dict())
        reg, led = self.registry, self.ledger

        n_ex = 5 if txs >= 50_000 else 4
        self.exchanges: list[Exchange] = []
        ex_kinds = (Kind.P2WPKH, Kind.P2SH_P2WPKH, Kind.P2PKH, Kind.P2WPKH, Kind.P2SH_P2WPKH)
        for i in range(n_ex):
            ent = reg.add_entity("exchange", EXCHANGES[i])
            self.exchanges.append(
                Exchange(led, ent, EXCHANGES[i], ex_kinds[i], 1.0 / (i + 1) ** 0.8, st)
            )
        self._ex_cum = _cumulative([e.weight for e in self.exchanges])
        self.pools = []
        for i, name in enumerate(POOLS):
            ent = reg.add_entity("miner", name)
            self.pools.append(Pool(led, ent, name, (Kind.P2WPKH, Kind.P2PKH)[i % 2], 1 / (i + 1)))
        self._pool_cum = _cumulative([p.weight for p in self.pools])
        self.coinjoins = CoinJoins(led, reg, COORDINATORS)
        self.mixer: Mixer | None = None
        if scenario != "investment-scam":
            self.mixer = Mixer(led, reg.add_entity("mixer", MIXERS[0]), MIXERS[0])
        kind_cum = _cumulative(_USER_KIND_WEIGHTS)
        self.users = []
        for _ in range(max(60, min(txs // 15, 400_000))):
            ent = reg.add_entity("user", "")
            reg.entities[ent].name = f"user {reg.entities[ent].id[5:]}"
            self.users.append(User(ent, Wallet(ent, _USER_KINDS[d.weighted(kind_cum)])))
        self.makers = [u.wallet for u in self.users[: max(10, len(self.users) // 20)]]

        self.cj_rate = 1.0
        self.blocks_total = max(100, min(txs // 10, 1000 + txs // 1000))
        self.crimes: list[InvestmentScam | Ransomware] = []
        b = self.blocks_total
        first = BOOTSTRAP_BLOCKS
        if scenario in ("investment-scam", "mixed"):
            n = max(30, min(txs // 12, 500))
            self.crimes.append(InvestmentScam(self, n, first + b // 10, first + b * 6 // 10))
        if scenario in ("ransomware", "mixed"):
            n = max(15, min(txs // 40, 300))
            self.crimes.append(Ransomware(self, n, first + b // 8, first + b * 7 // 10))

    # -- helpers used by the actors -----------------------------------------------------
    def pick_exchange(self, among: Sequence[Exchange]) -> Exchange:
        if len(among) == len(self.exchanges):
            return self.exchanges[self.draws.weighted(self._ex_cum)]
        return among[self.draws.weighted(_cumulative([e.weight for e in among]))]

    def _user(self, minimum: int = 0) -> User | None:
        users, d = self.users, self.draws
        for _ in range(8):
            u = users[d.below(len(users))]
            if u.wallet.balance >= minimum:
                return u
        return None

    # -- the run ------------------------------------------------------------------------
    def run(self, tick: Callable[[int], None] | None = None) -> None:
        led = self.ledger
        for _ in range(BOOTSTRAP_BLOCKS):
            self._close_block()
        remaining_blocks = self.blocks_total
        unswept_from = int(self.blocks_total * self.style.unswept_end)
        while led.stats.txs < self.target:
            if unswept_from and remaining_blocks <= unswept_from:
                for ex in self.exchanges:
                    ex.stop_sweeping_new()
            left = self.target - led.stats.txs
            per_block = left / max(1, remaining_blocks)
            # CoinJoins are ~1-3% of mainnet txs: rarer rounds in small blocks
            self.cj_rate = max(0.15, min(1.0, per_block / 200))
            want = min(left - 1, self.draws.poisson(max(0.0, per_block - 1)))
            led.begin_block()
            self._services()
            for crime in self.crimes:
                crime.step(led.height)
            attempts = 0
            while led.pending < want and attempts < 4 * want + 20:
                self._background()
                attempts += 1
            self._close_block(begun=True)
            remaining_blocks -= 1
            if tick is not None:
                tick(led.stats.txs)
        self.writer.close()

    def _close_block(self, begun: bool = False) -> None:
        led = self.ledger
        if not begun:
            led.begin_block()
        pool = self.pools[self.draws.weighted(self._pool_cum)]
        pool.mined(led.height, led.close_block(pool.addr, pool.tag))

    def _services(self) -> None:
        led, d = self.ledger, self.draws
        for pool in self.pools:
            pool.mature(led.height)
            if pool.wallet.balance > 5 * COIN and d.chance(0.4 * self.cj_rate):
                self._pool_payout(pool)
        for ex in self.exchanges:
            ex.step()
        if self.mixer is not None:
            self.mixer.step(led.height)
        self._coinjoin_rounds()

    def _pool_payout(self, pool: Pool) -> None:
        """Fan-out to miners: their wallets and, often, their exchange deposit addresses."""
        led, d = self.ledger, self.draws
        budget = pool.wallet.balance * 9 // 10
        n = d.between(10, 50)
        weights = [d.pareto(1.3, 1.0) for _ in range(n)]
        scale = budget / sum(weights)
        outs: list[Out] = []
        for w in weights:
            value = int(w * scale)
            if value < DUST:
                continue
            r = d.uniform()
            if r < 0.4:
                ex = self.pick_exchange(self.exchanges)
                outs.append(
                    (ex.deposits, ex.deposit_address(-pool.entity * 1000 - d.below(50)), value)
                )
            elif r < 0.45 and self.mixer is not None:
                outs.append((self.mixer.reserve, self.mixer.reserve_addr, value))
            else:
                u = self.users[d.below(len(self.users))]
                outs.append((u.wallet, led.new_address(u.wallet, "receive"), value))
        if outs:
            led.pay(pool.wallet, outs, change_addr=pool.addr, max_inputs=200)

    def _coinjoin_rounds(self) -> None:
        cj, d, f = self.coinjoins, self.draws, self.cj_rate
        if d.chance(0.04 * f) or (cj.waiting["wasabi1"] and d.chance(0.3)):
            self._record_cj(cj.wasabi1(self.users))
        if d.chance(0.03 * f):
            self._record_cj(cj.wasabi2(self.users))
        if d.chance(0.15 * f):
            u = self._user(2 * COIN // 10)
            if u is not None:
                pools = [p for p in WHIRLPOOL_POOLS if p * 2 < u.wallet.balance]
                cj.tx0(u.wallet, pools[-1] if d.chance(0.5) else d.pick(pools))
        for pool in WHIRLPOOL_POOLS:
            if d.chance(0.3 * f):
                self._record_cj(cj.whirlpool(pool))
        if d.chance(0.03 * f):
            taker = self._user(COIN // 20)
            if taker is not None:
                amount = d.amount(COIN // 50, 1.0, 100_000, taker.wallet.balance // 2)
                makers = [d.pick(self.makers) for _ in range(d.between(3, 8))]
                makers = [m for m in dict.fromkeys(makers) if m is not taker.wallet]
                self._record_cj(cj.joinmarket(taker.wallet, makers, amount))

    def _record_cj(self, txid: bytes | None) -> None:
        if txid is not None:
            self.truth.coinjoin_txids.append(txid[::-1].hex())

    def _background(self) -> None:
        """One ordinary user's action: a payment, a deposit, a withdrawal or a consolidation."""
        d, led = self.draws, self.ledger
        r = d.uniform()
        if r < 0.22:
            buyer = self.users[d.below(len(self.users))]
            ex = self.pick_exchange(self.exchanges)
            if ex not in buyer.exchanges:
                buyer.exchanges.append(ex)
            value = d.amount(2_000_000, 1.4, 20_000, 100 * COIN)
            ex.withdraw(Withdrawal(buyer.wallet, led.new_address(buyer.wallet, "receive"), value))
            return
        u = self._user(30_000)
        if u is None:
            return
        w = u.wallet
        if r < self._deposit_cut:
            ex = (
                u.exchanges[d.below(len(u.exchanges))]
                if u.exchanges
                else self.pick_exchange(self.exchanges)
            )
            if ex not in u.exchanges:
                u.exchanges.append(ex)
            value = w.balance * 9 // 10 if d.chance(0.4) else int(w.balance * d.uniform() * 0.8)
            if value > DUST:
                led.pay(w, [(ex.deposits, ex.deposit_address(u.entity), value)])
            return
        if r < 0.95 or len(w.utxos) < 4:
            n = 1 if d.chance(0.8) else (d.between(2, 3) if d.chance(0.7) else d.between(5, 20))
            outs: list[Out] = []
            cap = w.balance // (n + 1)
            for _ in range(n):
                value = d.amount(1_000_000, 1.6, 5_000, max(5_000, cap))
                to = self.users[d.below(len(self.users))].wallet
                outs.append((to, led.new_address(to, "receive"), value))
            # native SegWit and Taproot wallets here are Core-like: nLockTime = tip height
            led.pay(w, outs, anti_fee_sniping=w.kind in (Kind.P2WPKH, Kind.P2TR))
            return
        inputs = w.take_all(d.between(4, 30))
        fee = led.fee_for(inputs, 1, max(1, led.feerate() // 3))
        led.submit(inputs, [(w, led.new_address(w, "change"), sum(x[2] for x in inputs) - fee)])

    # -- output -------------------------------------------------------------------------
    def finish(self) -> None:
        """Write truth.json, complaints.csv and tags.yaml; drop the scratch file."""
        for ex in self.exchanges[:3:2]:
            for addr in ex.hot_addrs[: 1 + int(ex is self.exchanges[0])]:
                self.truth.tags.append(Tag(addr, ex.name))
        self.truth.campaigns.sort(key=lambda c: c.id)
        by_entity = {ex.entity: ex for ex in self.exchanges}
        for c in self.truth.cashouts:
            c.swept = c.deposit_address in by_entity[c.exchange].swept
        writer = TruthWriter(self.registry, encode_records, "BTC")
        writer.write_all(self.truth, self.out)
        self.registry.discard()
