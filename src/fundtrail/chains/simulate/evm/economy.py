"""The EVM simulation: exchanges, users, a USDT-style token, a mixer pool, and the crimes.

Account-model habits that tracing relies on are reproduced: exchanges give a
deposit address per customer and sweep it to a hot wallet (topping it up with
gas first when the deposit is a token), criminals fund their collection and
hop addresses with gas from one operations wallet, and a Tornado-style pool
pays withdrawals through internal transfers that only traces show.

``--style`` (``simulate.style.Style``) sets the habits that differ between gangs and
exchanges; a knob left at its default keeps this simulation's own habit:

* ``deposits=single-use``: a fresh deposit address for every deposit (customers' and the
  gang's); own habit: one per customer;
* ``sweep_chance``: the chance per block that an exchange sweeps a waiting deposit; own
  habit: tokens at once (after the gas top-up), ETH with chance 1/2;
* ``unswept_end``: in the last share of the run exchanges sweep nothing, so deposits
  (the gang's too) still hold their money when the chain ends;
* ``peel_share``: the median share of a hop's balance the gang pays out to a deposit;
* ``gang_exchanges``: how many exchanges a gang cashes out at;
* ``withdrawal_batch``: ETH withdrawals paid in batches through a disperse contract (one
  call from the hot wallet, one internal transfer per customer); own habit: one by one;
* ``user_deposits``: share of ordinary users' actions that are exchange deposits;
* ``mules_are_customers``: the gang's deposits go to accounts of ordinary users, whose
  own deposits share the address.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from fundtrail.chains.simulate.draws import Draws
from fundtrail.chains.simulate.evm.chain import ETHER, GWEI, EvmChain, InsufficientFunds
from fundtrail.chains.simulate.evm.crime import EvmRansomware, EvmScam
from fundtrail.chains.simulate.evm.writer import EtlWriter
from fundtrail.chains.simulate.names import EXCHANGES, MIXERS, POOLS
from fundtrail.chains.simulate.registry import Registry
from fundtrail.chains.simulate.service import SimulationSummary
from fundtrail.chains.simulate.style import Style
from fundtrail.chains.simulate.truth import Tag, Truth, TruthWriter

USDT = 10**6
MIXER_DENOMS = (ETHER // 10, ETHER, 10 * ETHER)


def _program(seed: int) -> Callable[[int, int], bytes]:
    prefix = b"fundtrail-sim-evm" + seed.to_bytes(8, "little")

    def program(addr: int, kind: int) -> bytes:
        return hashlib.sha256(prefix + addr.to_bytes(6, "little")).digest()[12:]

    return program


def encode_hex(records: np.ndarray) -> list[str]:
    return ["0x" + bytes(r[2:22]).hex() for r in np.asarray(records)]


@dataclass
class EvmExchange:
    entity: int
    name: str
    hot: list[int]
    cold: int
    weight: float
    accounts: dict[int, int] = field(default_factory=dict)  # customer -> deposit address
    pending: list[int] = field(default_factory=list)  # deposit addresses with funds
    swept: set[int] = field(default_factory=set)  # deposit addresses that have swept
    batch: list[tuple[int, int, int]] = field(default_factory=list)  # (block, to, value) waiting


class EvmSim:
    chain_code = "ETH"  # the chain the truth names (a subclass writes TRON answers)
    swaps = False  # a USDT/native swap pool that users and gangs trade with (TRON's)
    POOL_TOKEN = 2_000_000 * USDT  # the pool's opening reserves
    POOL_NATIVE = 80_000 * ETHER

    def make_chain(self, reg: Registry, d: Draws, out: Path, start: int) -> EvmChain:
        """The ledger and its writer: ethereum-etl CSV files under ``out/evm``."""
        self.writer = EtlWriter(out / "evm")
        return EvmChain(reg, d, self.writer, start)

    def __init__(
        self, scenario: str, out: Path, seed: int, txs: int, start: int, style: Style | None = None
    ) -> None:
        self.scenario = scenario
        self.style = style or Style()
        self.own = Style()  # a knob equal to this is the simulation's own habit
        self.out = out
        self.target = txs
        self.draws = d = Draws(seed)
        self.registry = reg = Registry(out / ".addresses.tmp", _program(seed))
        self.chain = ch = self.make_chain(reg, d, out, start)
        knobs = {} if self.style.is_default else self.style.to_dict()
        self.truth = Truth(scenario, seed, self.chain_code, start, style=knobs)
        self.exchanges: list[EvmExchange] = []
        for i in range(4):
            ent = reg.add_entity("exchange", EXCHANGES[i])
            hot = [ch.new_address(ent, "hot_wallet") for _ in range(1 + (i == 0))]
            cold = ch.new_address(ent, "cold_wallet")
            self.exchanges.append(EvmExchange(ent, EXCHANGES[i], hot, cold, 1 / (i + 1) ** 0.8))
        self._ex_cum = list(np.cumsum([e.weight for e in self.exchanges]))
        self.builders = [
            ch.new_address(reg.add_entity("miner", name), "coinbase") for name in POOLS[:3]
        ]
        issuer = reg.add_entity("user", "USDT-sim issuer treasury")
        self.issuer = ch.new_address(issuer, "hot_wallet")
        ch.token_addr = ch.new_address(issuer, "token_contract")
        mixer = reg.add_entity("mixer", MIXERS[0].replace("Mixer", "pool (Tornado-style)"))
        self.mixer_pool = ch.new_address(mixer, "mixer_deposit")
        self.relayer = ch.new_address(mixer, "relayer")
        self.mixer_notes: list[tuple[int, int, int]] = []  # (due block, recipient, denom)
        self.disperse = -1  # a disperse contract, when exchanges batch withdrawals
        if self.batching:
            batcher = reg.add_entity("contract", "Disperse-sim (batched payments)")
            self.disperse = ch.new_address(batcher, "batch_contract")
        self.swap_pool: int | None = None
        if self.swaps:
            dex = reg.add_entity("dex", "SunSwap-sim USDT/TRX pool")
            self.swap_pool = ch.new_address(dex, "swap_pool")
        self.users = []
        for _ in range(max(40, min(txs // 10, 200_000))):
            ent = reg.add_entity("user", "")
            reg.entities[ent].name = f"user {reg.entities[ent].id[5:]}"
            self.users.append(ch.new_address(ent, "receive"))
        self._customers = set(self.users)
        self.blocks_total = max(100, min(txs // 5, 2000 + txs // 500))
        end = self.style.unswept_end
        self.unswept_from = int(self.blocks_total * (1 - end)) if end else 1 << 62
        self.crimes: list[EvmScam | EvmRansomware] = []
        b = self.blocks_total
        if scenario in ("investment-scam", "mixed"):
            self.crimes.append(EvmScam(self, max(30, min(txs // 15, 400)), b // 10, b * 6 // 10))
        if scenario in ("ransomware", "mixed"):
            self.crimes.append(
                EvmRansomware(self, max(10, min(txs // 50, 200)), b // 8, b * 7 // 10)
            )
        alloc = [(e.cold, 20_000 * ETHER) for e in self.exchanges]
        alloc += [(e.hot[0], 2_000 * ETHER) for e in self.exchanges]
        alloc += [(self.issuer, 50 * ETHER), (self.relayer, 5 * ETHER)]
        if self.swap_pool is not None:
            alloc.append((self.swap_pool, self.POOL_NATIVE))
        alloc += [(u, d.amount(ETHER, 1.2, ETHER // 50, 400 * ETHER)) for u in self.users]
        ch.genesis(alloc)

    # -- helpers ------------------------------------------------------------------------
    def pick_exchange(self, among: list[EvmExchange] | None = None) -> EvmExchange:
        if among is None:
            return self.exchanges[self.draws.weighted(self._ex_cum)]
        return among[self.draws.weighted(list(np.cumsum([e.weight for e in among])))]

    def deposit_address(self, ex: EvmExchange, customer: int) -> int:
        addr = ex.accounts.get(customer)
        if addr is None or self.style.deposits == "single-use":
            addr = self.chain.new_address(ex.entity, "deposit")
            ex.accounts[customer] = addr
        return addr

    @property
    def batching(self) -> bool:
        """Withdrawals in batches (a ``withdrawal_batch`` knob of more than one, set)."""
        batch = self.style.withdrawal_batch
        return batch != self.own.withdrawal_batch and batch[1] > 1

    def withdraw(self, ex: EvmExchange, to: int, amount: int, asset: str) -> tuple[str, int] | None:
        """A withdrawal from the exchange's hot wallet: (tx hash, log index or -1)."""
        ch = self.chain
        hot = self.draws.pick(ex.hot)
        if asset == "USDT":
            if ch.token[hot] < amount:
                self._refill_token(ex, hot, amount)
            try:
                return ch.transfer_token(hot, to, amount)
            except InsufficientFunds:
                return None
        if not ch.can_pay(hot, amount):
            if ch.can_pay(ex.cold, 500 * ETHER):
                ch.send(ex.cold, hot, 500 * ETHER)
            return None
        if self.batching and to in self._customers:
            ex.batch.append((ch.number, to, amount))  # paid with the next batch
            return None
        return ch.send(hot, to, amount), -1

    def _pay_batch(self, ex: EvmExchange) -> None:
        """ETH withdrawals waiting at ``ex``, paid in one disperse call once enough wait
        (or the oldest has waited 20 blocks)."""
        lo, hi = self.style.withdrawal_batch
        if not ex.batch:
            return
        if len(ex.batch) < lo and self.chain.number - ex.batch[0][0] < 20:
            return
        ch = self.chain
        todo, ex.batch = ex.batch[:hi], ex.batch[hi:]
        total = sum(v for _, _, v in todo)
        hot = ex.hot[0]
        if not ch.can_pay(hot, total, 30_000 * len(todo) + 60_000):
            ex.batch = todo + ex.batch
            return
        moves = [(self.disperse, to, v) for _, to, v in todo]
        with suppress(InsufficientFunds):
            ch.call_with_internal(hot, self.disperse, total, moves)

    def _refill_token(self, ex: EvmExchange, hot: int, amount: int) -> None:
        """The issuer mints fresh USDT to an exchange that runs short (Transfer from 0x0)."""
        with suppress(InsufficientFunds):
            self.chain.mint_token(self.issuer, hot, max(amount * 2, 5_000_000 * USDT))

    # -- the run ------------------------------------------------------------------------
    def run(self, tick: Callable[[int], None] | None = None) -> None:
        ch, d = self.chain, self.draws
        for ex in self.exchanges:
            ch.begin_block(self.builders[0])
            ch.mint_token(self.issuer, ex.hot[0], 20_000_000 * USDT)
            ch.close_block()
        if self.swap_pool is not None:
            ch.begin_block(self.builders[0])
            ch.mint_token(self.issuer, self.swap_pool, self.POOL_TOKEN)
            ch.close_block()
        remaining = self.blocks_total
        while ch.txs < self.target:
            left = self.target - ch.txs
            want = min(left, d.poisson(left / max(1, remaining)))
            ch.begin_block(self.builders[d.below(len(self.builders))])
            self._services()
            for crime in self.crimes:
                with suppress(InsufficientFunds):
                    crime.step(ch.number)
            attempts = 0
            while ch._tx_index < want and attempts < 3 * want + 10:
                self._background()
                attempts += 1
            ch.close_block()
            remaining -= 1
            if tick is not None:
                tick(ch.txs)
        token = (ch.hex[ch.token_addr], "USDT", "Tether USD (simulated)", 6, ch.minted_token,
                 ch.number)  # fmt: skip
        self.writer.close([token])

    def _services(self) -> None:
        ch = self.chain
        sweeping = ch.number < self.unswept_from
        for ex in self.exchanges:
            if sweeping:
                ex.pending = [dep for dep in ex.pending if self._sweep(ex, dep)]
            if self.batching:
                self._pay_batch(ex)
        due = [n for n in self.mixer_notes if n[0] <= ch.number]
        self.mixer_notes = [n for n in self.mixer_notes if n[0] > ch.number]
        for _, recipient, denom in due:
            fee = denom // 200
            moves = [
                (self.mixer_pool, recipient, denom - fee),
                (self.mixer_pool, self.relayer, fee),
            ]
            with suppress(InsufficientFunds):
                ch.call_with_internal(self.relayer, self.mixer_pool, 0, moves)

    def _sweep(self, ex: EvmExchange, dep: int) -> bool:
        """Sweep one deposit address to the hot wallet; True while it still needs sweeping."""
        ch, d = self.chain, self.draws
        own = self.style.sweep_chance == self.own.sweep_chance
        if not own and not d.chance(self.style.sweep_chance):
            return True
        with suppress(InsufficientFunds):
            if ch.token[dep] > 0:
                if not ch.can_pay(dep, 0, 80_000):  # gas top-up first, sweep next block
                    ch.send(ex.hot[0], dep, 4_000_000 * GWEI)
                    return True
                ch.transfer_token(dep, ex.hot[0], ch.token[dep])
                ex.swept.add(dep)
            value = ch.eth[dep] - 21_000 * (2 * ch.base_fee + 10 * GWEI)
            if value <= 10**15:
                return False
            if not own or d.chance(0.5):
                ch.send(dep, ex.hot[0], value)
                ex.swept.add(dep)
                return False
        return True

    # -- the swap pool (constant product, 0.3% fee) --------------------------------------
    def quote(self, amount_in: int, token_in: bool) -> int:
        """What the pool pays for ``amount_in`` (token if ``token_in``, else native)."""
        ch, pool = self.chain, self.swap_pool
        assert pool is not None
        x, y = (ch.token[pool], ch.eth[pool]) if token_in else (ch.eth[pool], ch.token[pool])
        return y * amount_in * 997 // (x * 1000 + amount_in * 997)

    def swap_to_native(self, sender: int, amount: int) -> tuple[str, int, int]:
        """Swap ``amount`` token units for native coins: (tx hash, log index, native paid)."""
        assert self.swap_pool is not None
        out = self.native_units(self.quote(amount, True))
        txh, log = self.chain.swap_token_for_native(sender, self.swap_pool, amount, out)
        return txh, log, out

    def native_units(self, value: int) -> int:
        """``value`` as the chain can move it (TRON: whole sun)."""
        return value

    def _user_swap(self) -> None:
        ch, d = self.chain, self.draws
        u = self.users[d.below(len(self.users))]
        assert self.swap_pool is not None
        with suppress(InsufficientFunds):
            if d.chance(0.5) and ch.token[u] > USDT:
                if ch.can_pay(u, 0, 90_000):
                    self.swap_to_native(u, ch.token[u] // d.between(1, 3))
                return
            value = self.native_units(ch.eth[u] // 4)
            if value > 0 and ch.can_pay(u, value, 90_000):
                ch.swap_native_for_token(u, self.swap_pool, value, self.quote(value, False))

    def _background(self) -> None:
        ch, d = self.chain, self.draws
        if self.swap_pool is not None and d.chance(0.04):
            self._user_swap()
            return
        r = d.uniform()
        u = self.users[d.below(len(self.users))]
        usdt = d.chance(0.55)
        deposits_to = (
            0.5
            if self.style.user_deposits == self.own.user_deposits
            else (0.3 + self.style.user_deposits)
        )
        if r < 0.3:  # buy at an exchange: withdrawal to the user's wallet
            ex = self.pick_exchange()
            if usdt:
                self.withdraw(ex, u, d.amount(800 * USDT, 1.4, 5 * USDT, 2 * 10**12), "USDT")
            else:
                self.withdraw(ex, u, d.amount(ETHER // 4, 1.3, 10**15, 300 * ETHER), "ETH")
            return
        with suppress(InsufficientFunds):
            if r < deposits_to:  # deposit to the user's address at an exchange
                ex = self.pick_exchange()
                dep = self.deposit_address(ex, u)
                if usdt and ch.token[u] > 0:
                    ch.transfer_token(u, dep, ch.token[u])
                elif not usdt:
                    ch.send(u, dep, ch.eth[u] * 3 // 4)
                else:
                    return
                if dep not in ex.pending:
                    ex.pending.append(dep)
                return
            to = self.users[d.below(len(self.users))]
            if usdt and ch.token[u] > 0:
                ch.transfer_token(u, to, min(ch.token[u], d.amount(200 * USDT, 1.5, USDT, 10**12)))
            else:
                value = min(ch.eth[u] // 3, d.amount(ETHER // 20, 1.5, 10**14, 10**21))
                ch.send(u, to, value)

    # -- output -------------------------------------------------------------------------
    def mark_swept(self) -> None:
        """Truth's cash-outs say whether their deposit address had swept by the chain's end
        (the on-chain evidence that it is a deposit; EVM and TRON alike)."""
        by_entity = {ex.entity: ex for ex in self.exchanges}
        for c in self.truth.cashouts:
            ex = by_entity.get(c.exchange)
            if ex is not None:
                c.swept = c.deposit_address in ex.swept

    def finish(self) -> None:
        self.mark_swept()
        for ex in self.exchanges[:3:2]:
            for addr in ex.hot:
                self.truth.tags.append(Tag(addr, ex.name))
        self.truth.campaigns.sort(key=lambda c: c.id)
        writer = TruthWriter(self.registry, encode_hex, "ETH")
        writer.write_all(self.truth, self.out)
        self.registry.discard()


def run_evm(
    scenario: str,
    out: Path,
    seed: int,
    txs: int,
    start: int,
    rpc: str | None,
    progress: Callable[[int, int], None] | None,
    style: Style | None = None,
) -> SimulationSummary:
    sim = EvmSim(scenario, out, seed, txs, start, style)
    sim.run(None if progress is None else (lambda n: progress(n, txs)))
    sim.finish()
    if rpc is not None:
        from fundtrail.chains.simulate.evm.rpc import replay

        replay(sim, rpc)
    files = [str(p.relative_to(out)) for p in sim.writer.paths]
    files += ["truth.json", "complaints.csv", "tags.yaml"]
    return sim_summary(sim, scenario, seed, "evm", files)


def sim_summary(
    sim: EvmSim, scenario: str, seed: int, chain: str, files: list[str]
) -> SimulationSummary:
    """What ``fundtrail simulate`` reports of an account-chain simulation (EVM or TRON)."""
    t = sim.truth
    return SimulationSummary(
        scenario=scenario,
        seed=seed,
        chain=chain,
        out=sim.out,
        blocks=sim.chain.number + 1,
        txs=sim.chain.txs,
        addresses=len(sim.registry),
        entities=len(sim.registry.entities),
        complaints=len(t.complaints),
        cashouts=len(t.cashouts),
        coinjoins=0,
        campaigns=[
            {"id": c.id, "kind": c.kind, "victims": len(c.victims), "total_loss": c.total_loss}
            for c in t.campaigns
        ],
        files=files,
    )
