"""An independent Bitcoin world: a second opinion on the forensic figures (issue 14).

Every figure of ``bench/forensics.py`` is measured on worlds from the project's own
simulator, whose habits the pipeline may have learnt. This generator is written from
scratch with other habits, taken from what gangs and exchanges are seen doing:

- exchanges with their own deposit policy (one address per customer, reused, or a fresh
  one per deposit), sweeps at irregular times in batches of irregular size (sometimes
  split between a hot and a cold address), deposits still unswept at the end, batched
  withdrawals paying many customers with change at a random position, and victims who
  withdraw from an exchange straight to the gang's address;
- an investment scam: victims paying 2-4 reused collection addresses (some twice),
  consolidations into a gang wallet, peel chains of varying length whose change sits
  at a random output position, cash-outs to deposit addresses at 2-3 exchanges;
- a ransomware gang: one address per victim, consolidation in 2-3 rounds, an
  equal-output CoinJoin with ordinary users, peel chains, cash-out at one exchange;
- ordinary users: address reusers and fresh-address wallets, several coin-selection
  habits, paying each other, buying and selling at the same exchanges.

Only the byte-level writer is shared with the project (``serialize``: tx and block
encoding, PoW at the regtest target, blk-file writing) and address text
(``model.encoding``); keys, scripts, amounts and every behaviour are this file's own.
Seedable; the outputs are what a user has (blocks, complaints.csv, a partner's
tags.yaml) and the truth to judge by (truth.json).
"""

from __future__ import annotations

import csv
import hashlib
import json
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from fundtrail.chains.simulate.btc.serialize import (
    GENESIS_HASH,
    SUBSIDY,
    BlockFileWriter,
    coinbase_tx,
    merkle_root,
    mine_header,
    serialize_tx,
    txout,
    varint,
)
from fundtrail.model.encoding import b58check_encode, segwit_encode

COIN = 100_000_000
START = 1_709_251_200  # 2024-03-01T00:00:00Z
KINDS = ("wpkh", "pkh", "sh-wpkh", "tr")
COMPLAINT_COLUMNS = ("complaint_id", "victim", "reported_at", "chain", "txid", "vout",
                     "to_address", "amount", "asset", "perpetrator_email", "perpetrator_site",
                     "perpetrator_phone", "perpetrator_handle")  # fmt: skip


def _h160(data: bytes) -> bytes:
    return hashlib.new("ripemd160", hashlib.sha256(data).digest()).digest()


@dataclass(eq=False)
class Addr:
    """One address: its script kind, key material and owner (truth)."""

    kind: str
    secret: bytes
    owner: str
    role: str
    text: str = ""
    script: bytes = b""

    def __post_init__(self) -> None:
        pub = b"\x02" + self.secret
        if self.kind == "tr":
            self.script = b"\x51\x20" + self.secret
            self.text = segwit_encode("bc", 1, self.secret)
        elif self.kind == "wpkh":
            self.script = b"\x00\x14" + _h160(pub)
            self.text = segwit_encode("bc", 0, _h160(pub))
        elif self.kind == "pkh":
            self.script = b"\x76\xa9\x14" + _h160(pub) + b"\x88\xac"
            self.text = b58check_encode(b"\x00" + _h160(pub))
        else:
            redeem = b"\x00\x14" + _h160(pub)
            self.script = b"\xa9\x14" + _h160(redeem) + b"\x87"
            self.text = b58check_encode(b"\x05" + _h160(redeem))

    def unlock(self) -> tuple[bytes, list[bytes] | None]:
        """(scriptSig, witness) shaped like a real spend; nothing verifies signatures."""
        sig = b"\x30\x44\x02\x20" + self.secret + b"\x02\x20" + self.secret[::-1] + b"\x01"
        pub = b"\x02" + self.secret
        if self.kind == "tr":
            return b"", [self.secret * 2]
        if self.kind == "wpkh":
            return b"", [sig, pub]
        if self.kind == "pkh":
            return bytes((len(sig),)) + sig + b"\x21" + pub, None
        return b"\x16\x00\x14" + _h160(pub), [sig, pub]


@dataclass(frozen=True, slots=True)
class Coin:
    txid: bytes  # internal byte order
    vout: int
    value: int
    addr: Addr

    @property
    def txid_hex(self) -> str:
        return self.txid[::-1].hex()


@dataclass(eq=False)
class Wallet:
    """Coins of one owner. ``reuse``: receives (and takes change) on one address."""

    owner: str
    kind: str
    reuse: bool = False
    select: str = "random"  # coin selection: random, largest, smallest, oldest
    coins: list[Coin] = field(default_factory=list)
    home: Addr | None = None

    @property
    def balance(self) -> int:
        return sum(c.value for c in self.coins)


class Chain:
    """Transactions into blocks into blk files; records who paid which address."""

    def __init__(self, seed: int, rng: random.Random, blocks: Path) -> None:
        self.rng = rng
        self.seed = seed
        self.writer = BlockFileWriter(blocks)
        self.prev = GENESIS_HASH
        self.height = 0
        self.time = START
        self.block: list[tuple[bytes, bytes, bytes]] = []  # (raw, txid, wtxid)
        self.fees = 0
        self.txs = 0
        self.addresses: dict[str, Addr] = {}
        self.paid_by: dict[str, set[str]] = {}  # address text -> owners of the inputs
        self.spent: set[tuple[bytes, int]] = set()
        self.block_size = 12
        self.miner: tuple[Wallet, Addr] | None = None  # who every block's coinbase pays
        self._n = 0

    def new_addr(self, owner: str, role: str, kind: str) -> Addr:
        self._n += 1
        secret = hashlib.sha256(b"indep-world/%d/%d" % (self.seed, self._n)).digest()
        a = Addr(kind, secret, owner, role)
        self.addresses[a.text] = a
        return a

    def receive(self, w: Wallet, role: str) -> Addr:
        if w.reuse:
            if w.home is None:
                w.home = self.new_addr(w.owner, role, w.kind)
            return w.home
        return self.new_addr(w.owner, role, w.kind)

    def fee(self, n_in: int, n_out: int) -> int:
        return (11 + 68 * n_in + 31 * n_out) * self.rng.choice((2, 3, 5, 8, 12, 20, 35))

    def tx(self, inputs: list[Coin], outputs: list[tuple[Wallet | None, Addr, int]]) -> list[Coin]:
        """One transaction (the caller left room for the fee); its new coins, in order."""
        assert inputs and outputs and all(v > 0 for _, _, v in outputs)
        fee = sum(c.value for c in inputs) - sum(v for _, _, v in outputs)
        assert fee >= 0, "outputs exceed inputs"
        for c in inputs:
            assert (c.txid, c.vout) not in self.spent, "double spend"
            self.spent.add((c.txid, c.vout))
        txins = [(c.txid, c.vout, *c.addr.unlock(), 0xFFFFFFFD) for c in inputs]
        raw, txid, wtxid = serialize_tx(txins, [txout(v, a.script) for _, a, v in outputs])
        self.block.append((raw, txid, wtxid))
        self.fees += fee
        self.txs += 1
        payers = {c.addr.owner for c in inputs}
        made = []
        for n, (w, a, v) in enumerate(outputs):
            coin = Coin(txid, n, v, a)
            made.append(coin)
            self.paid_by.setdefault(a.text, set()).update(payers)
            if w is not None:
                w.coins.append(coin)
        if len(self.block) >= self.block_size:
            self.close_block()
        return made

    def close_block(self) -> Coin | None:
        """Mine the pending transactions (an empty block too): coinbase to the miner."""
        miner = self.miner
        self.height += 1
        self.time += int(self.rng.expovariate(1 / 600)) + 1
        value = SUBSIDY + self.fees
        script = miner[1].script if miner else b"\x6a"  # unspendable when nobody mines
        segwit = any(t != w for _, t, w in self.block)
        wtxids = [w for _, _, w in self.block] if segwit else None
        cb_raw, cb_txid = coinbase_tx(self.height, [txout(value, script)], wtxids, b"/indep/")
        txids = [cb_txid, *(t for _, t, _ in self.block)]
        header, h = mine_header(self.prev, merkle_root(txids), self.time)
        self.writer.write(
            header + varint(len(txids)) + cb_raw + b"".join(r for r, _, _ in self.block)
        )
        self.prev, self.block, self.fees = h, [], 0
        self.txs += 1
        self.block_size = self.rng.randint(4, 30)
        coin = Coin(cb_txid, 0, value, miner[1]) if miner else None
        if miner and coin:
            miner[0].coins.append(coin)
        return coin

    def pick(self, w: Wallet, amount: int, max_inputs: int = 40) -> list[Coin] | None:
        """Coins of ``w`` covering ``amount``, chosen by the wallet's habit; removed from it."""
        order = list(w.coins)
        if w.select == "random":
            self.rng.shuffle(order)
        elif w.select == "largest":
            order.sort(key=lambda c: -c.value)
        elif w.select == "smallest":
            order.sort(key=lambda c: c.value)
        got, total = [], 0
        for c in order:
            if total >= amount:
                break
            got.append(c)
            total += c.value
        if total < amount or len(got) > max_inputs:
            order.sort(key=lambda c: -c.value)
            got, total = [], 0
            for c in order[:max_inputs]:
                got.append(c)
                total += c.value
                if total >= amount:
                    break
            if total < amount:
                return None
        chosen = set(id(c) for c in got)
        w.coins = [c for c in w.coins if id(c) not in chosen]
        return got

    def pay(self, w: Wallet, payments: list[tuple[Wallet | None, Addr, int]],
            change: Addr | None = None, change_pos: int | None = None) -> list[Coin] | None:  # fmt: skip
        """Pay from ``w`` with change (at a random position unless told); the payments'
        coins in the order given (the change left out), or None if ``w`` cannot."""
        need = sum(v for _, _, v in payments)
        inputs = self.pick(w, need + self.fee(3, len(payments) + 1))
        if inputs is None:
            return None
        rest = sum(c.value for c in inputs) - need - self.fee(len(inputs), len(payments) + 1)
        if rest < 0:
            w.coins.extend(inputs)
            return None
        outs = list(payments)
        pos = len(outs)
        if rest >= 1000:
            pos = self.rng.randint(0, len(outs)) if change_pos is None else change_pos
            outs.insert(pos, (w, change or self.receive(w, "change"), rest))
        made = self.tx(inputs, outs)
        return [c for i, c in enumerate(made) if i != pos or rest < 1000]


# -- the actors ------------------------------------------------------------------------------
EXCHANGE_NAMES = ("Halvard Exchange", "Pinecrest Coins", "Oltenia Trade", "Brightwater BTC")


@dataclass(eq=False)
class Exchange:
    id: str
    name: str
    hot: Wallet
    hot_addrs: list[Addr]
    cold: Wallet
    reuse_deposits: bool  # one address per customer account, or a fresh one per deposit
    sweep_every: float  # mean steps between sweeps
    batch_max: int
    fresh_change: bool
    stops_sweeping: float  # share of the run after which it sweeps no more (unswept at the end)
    accounts: dict[str, Addr] = field(default_factory=dict)  # customer -> deposit address
    pending: list[Coin] = field(default_factory=list)  # deposits not swept yet
    deposit_owner: dict[str, str] = field(default_factory=dict)  # deposit address -> customer
    swept: set[tuple[bytes, int]] = field(default_factory=set)


@dataclass
class Payment:
    """A victim's payment as they report it."""

    campaign: str
    victim: str
    coin: Coin
    time: int
    contact: dict[str, str]


@dataclass
class Cashout:
    campaign: str
    exchange: Exchange
    coin: Coin
    time: int
    via: str  # "peel": from the gang's own wallets; "coinjoin": out of a CoinJoin


FIRST = ("Ada", "Bruno", "Chiara", "Dmitri", "Elif", "Farah", "Goran", "Hana", "Ines", "Jakob",
         "Keiko", "Luca", "Mirela", "Nils", "Oona", "Pavel", "Quentin", "Rosa", "Sven", "Tamar",
         "Umberto", "Vera", "Wiktor", "Ximena", "Yusuf", "Zofia")  # fmt: skip
LAST = ("Abara", "Berg", "Costa", "Dahl", "Eriksen", "Ferreira", "Gallo", "Horvat", "Ivanova",
        "Jensen", "Kowalski", "Lindqvist", "Moreau", "Novak", "Okafor", "Petrov", "Quist",
        "Rossi", "Santos", "Tanaka", "Urban", "Varga", "Weber", "Yilmaz", "Zeller")  # fmt: skip


class World:
    """The whole economy, stepped until about ``txs`` transactions are written."""

    def __init__(self, seed: int, txs: int, out: Path, hot_consolidation: bool = True) -> None:
        self.seed, self.target, self.out = seed, txs, out
        self.hot_consolidation = hot_consolidation
        self.rng = random.Random(f"indep-{seed}")
        out.mkdir(parents=True, exist_ok=True)
        self.chain = Chain(seed, self.rng, out / "blocks")
        self.payments: list[Payment] = []
        self.cashouts: list[Cashout] = []
        self.campaigns: dict[str, dict[str, Any]] = {}
        self.coinjoins: list[str] = []
        self.entities: dict[str, dict[str, str]] = {}  # owner -> {name, kind}

    # -- set-up ------------------------------------------------------------------------------
    def wallet(self, owner: str, name: str, kind: str, **kw: Any) -> Wallet:
        self.entities[owner] = {"name": name, "kind": kind}
        return Wallet(owner, self.rng.choices(KINDS, (6, 2, 2, 1))[0], **kw)

    def setup(self) -> None:
        r, ch = self.rng, self.chain
        self.pool = self.wallet("pool", "Kestrel Mining Pool", "miner")
        self.pool_addr = ch.new_addr("pool", "coinbase", "wpkh")
        self.exchanges: list[Exchange] = []
        for k, name in enumerate(r.sample(EXCHANGE_NAMES, 3)):
            eid = f"ex-{k + 1}"
            hot = self.wallet(eid, name, "exchange", select=r.choice(("largest", "oldest")))
            hot.kind = r.choice(("wpkh", "sh-wpkh"))
            addrs = [ch.new_addr(eid, "hot_wallet", hot.kind) for _ in range(r.randint(2, 4))]
            cold = Wallet(eid, "wpkh", reuse=True)
            cold.home = ch.new_addr(eid, "cold_wallet", "wpkh")
            ex = Exchange(eid, name, hot, addrs, cold, reuse_deposits=r.random() < 0.5,
                          sweep_every=r.uniform(8, 60), batch_max=r.randint(3, 40),
                          fresh_change=r.random() < 0.4,
                          stops_sweeping=r.uniform(0.75, 1.0))  # fmt: skip
            self.exchanges.append(ex)
        n_users = max(40, self.target // 18)
        self.users = []
        for k in range(n_users):
            w = self.wallet(f"user-{k + 1}", f"{r.choice(FIRST)} {r.choice(LAST)}", "user",
                            reuse=r.random() < 0.3,
                            select=r.choice(("random", "largest", "smallest", "oldest")))  # fmt: skip
            w.accounts = r.sample(self.exchanges, r.randint(1, 2))  # type: ignore[attr-defined]
            self.users.append(w)
        # 101 blocks so the first coinbases mature, then the pool sells to the exchanges
        ch.miner = (self.pool, self.pool_addr)
        for _ in range(101):
            ch.close_block()
        for ex in self.exchanges:
            for _ in range(r.randint(6, 14)):
                c = self.pool.coins.pop(0)
                ch.tx([c], [(ex.hot, r.choice(ex.hot_addrs), c.value - ch.fee(1, 1))])

    # -- exchanges ---------------------------------------------------------------------------
    def deposit_addr(self, ex: Exchange, customer: str) -> Addr:
        if ex.reuse_deposits and customer in ex.accounts:
            return ex.accounts[customer]
        a = self.chain.new_addr(ex.id, "deposit", ex.hot.kind)
        ex.deposit_owner[a.text] = customer
        if ex.reuse_deposits:
            ex.accounts[customer] = a
        return a

    def deposit(self, w: Wallet, ex: Exchange, amount: int) -> Coin | None:
        a = self.deposit_addr(ex, w.owner)
        made = self.chain.pay(w, [(None, a, amount)])
        if made:
            ex.pending.append(made[0])
            return made[0]
        return None

    def sweep(self, ex: Exchange) -> None:
        """A batch of pending deposits into the hot wallet (now and then part to cold)."""
        r, ch = self.rng, self.chain
        if not ex.pending:
            return
        n = min(len(ex.pending), r.randint(1, ex.batch_max))
        batch = r.sample(ex.pending, n)
        taken = set(id(c) for c in batch)
        ex.pending = [c for c in ex.pending if id(c) not in taken]
        total = sum(c.value for c in batch) - ch.fee(n, 2)
        if total < 10_000:
            ex.pending.extend(batch)
            return
        to = r.choice(ex.hot_addrs)
        if total > 20 * COIN and r.random() < 0.5:
            cold = total // r.randint(2, 4)
            ch.tx(batch, [(ex.hot, to, total - cold), (ex.cold, ex.cold.home, cold)])  # type: ignore[arg-type]
        else:
            ch.tx(batch, [(ex.hot, to, total)])
        ex.swept.update((c.txid, c.vout) for c in batch)

    def withdraw(
        self, ex: Exchange, to: list[tuple[Wallet | None, Addr, int]]
    ) -> list[Coin] | None:
        """A batched withdrawal from the hot wallet; change to a hot address."""
        if self.chain.rng.random() < 0.5 or not ex.fresh_change:
            change = self.rng.choice(ex.hot_addrs)
        else:
            change = self.chain.new_addr(ex.id, "hot_wallet", ex.hot.kind)
            ex.hot_addrs.append(change)
        return self.chain.pay(ex.hot, to, change=change)

    def buyers(self, k: int) -> list[tuple[Wallet | None, Addr, int]]:
        out: list[tuple[Wallet | None, Addr, int]] = []
        for u in self.rng.sample(self.users, k):
            out.append((u, self.chain.receive(u, "receive"), self.amount(0.002, 1.5)))
        return out

    def amount(self, lo: float, hi: float) -> int:
        """Log-uniform BTC amount in base units, rounded as people do now and then."""
        v = lo * (hi / lo) ** self.rng.random()
        if self.rng.random() < 0.3:
            return max(10_000, int(round(v, 3 if v < 1 else 2) * COIN))
        return int(v * COIN)

    # -- background --------------------------------------------------------------------------
    def background(self) -> None:
        r, ch = self.rng, self.chain
        roll = r.random()
        if roll < 0.04 and self.pool.coins:  # the pool sells coins to an exchange
            mature = [c for c in self.pool.coins if c.value >= SUBSIDY]
            if mature:
                c = mature[0]
                self.pool.coins.remove(c)
                ex = r.choice(self.exchanges)
                ch.tx([c], [(ex.hot, r.choice(ex.hot_addrs), c.value - ch.fee(1, 1))])
            return
        if roll < 0.30:  # customers buy: one batched withdrawal
            ex = r.choice(self.exchanges)
            self.withdraw(ex, self.buyers(r.choice((1, 1, 2, 3, 5, 8, 12))))
            return
        u = r.choice(self.users)
        if u.balance < 50_000:
            return
        if roll < 0.55:  # a customer sells
            ex = r.choice(u.accounts)  # type: ignore[attr-defined]
            self.deposit(u, ex, int(u.balance * r.uniform(0.1, 0.9)))
        elif roll < 0.92:  # pays someone
            v = r.choice(self.users)
            if v is not u:
                ch.pay(u, [(v, ch.receive(v, "receive"), int(u.balance * r.uniform(0.02, 0.6)))])
        else:  # consolidates its coins
            if len(u.coins) >= 3:
                coins = u.coins[:]
                u.coins.clear()
                total = sum(c.value for c in coins) - ch.fee(len(coins), 1)
                if total > 1000:
                    ch.tx(coins, [(u, ch.receive(u, "receive"), total)])
                else:
                    u.coins.extend(coins)

    def exchange_upkeep(self, frac: float) -> None:
        for ex in self.exchanges:
            if frac < ex.stops_sweeping and self.rng.random() < 1 / ex.sweep_every:
                self.sweep(ex)
            if ex.hot.balance < 30 * COIN and ex.cold.balance > 0 and self.rng.random() < 0.3:
                coins = ex.cold.coins[:]
                ex.cold.coins.clear()
                total = sum(c.value for c in coins) - self.chain.fee(len(coins), 1)
                self.chain.tx(coins, [(ex.hot, self.rng.choice(ex.hot_addrs), total)])
            many = len(ex.hot.coins) >= 8
            if self.hot_consolidation and many and self.rng.random() < 2 / ex.sweep_every:
                self.consolidate_hot(ex)

    def consolidate_hot(self, ex: Exchange) -> None:
        """Now and then an exchange merges the small coins its hot wallet holds (swept
        deposits, change) into one, as exchanges do when fees are low: it spends its hot
        addresses together."""
        coins = sorted(ex.hot.coins, key=lambda c: c.value)[: self.rng.randint(5, 40)]
        taken = set(id(c) for c in coins)
        ex.hot.coins = [c for c in ex.hot.coins if id(c) not in taken]
        total = sum(c.value for c in coins) - self.chain.fee(len(coins), 1)
        self.chain.tx(coins, [(ex.hot, self.rng.choice(ex.hot_addrs), total)])

    # -- crime -------------------------------------------------------------------------------
    def victim_pays(self, camp: str, to: Addr, gang: Wallet, amount: int,
                    contact: dict[str, str]) -> Wallet:  # fmt: skip
        """A victim pays the gang: from their own wallet (bought first at an exchange), or
        withdrawn from an exchange straight to the gang's address."""
        r, ch = self.rng, self.chain
        u = r.choice(self.users)
        name = self.entities[u.owner]["name"]
        if r.random() < 0.2:
            made = self.withdraw(
                r.choice(self.exchanges), [(gang, to, amount), *self.buyers(r.randint(0, 4))]
            )
        else:
            if u.balance < amount + 100_000:
                ex = r.choice(self.exchanges)
                self.withdraw(
                    ex, [(u, ch.receive(u, "receive"), amount + r.randint(100_000, COIN // 10))]
                )
            made = ch.pay(u, [(gang, to, amount)])
        if made:
            self.payments.append(Payment(camp, name, made[0], ch.time, contact))
        return u

    def peel(self, camp: str, gang: Wallet, coins: list[Coin], exchanges: list[Exchange],
             hops: int, via: str) -> None:  # fmt: skip
        """A peel chain: each hop pays a slice to a gang deposit at an exchange and moves
        the rest to a fresh gang address, at a random output position; the end is
        deposited whole."""
        r, ch = self.rng, self.chain
        for k in range(hops):
            total = sum(c.value for c in coins)
            fee = ch.fee(len(coins), 3)
            ex = r.choice(exchanges)
            slice_ = int(total * r.uniform(0.04, 0.2))
            last = k == hops - 1 or total - slice_ < 200_000
            if last:
                made = ch.tx(coins, [(None, self.deposit_addr(ex, gang.owner), total - fee)])
                self.cash(camp, ex, made[0], via)
                return
            outs: list[tuple[Wallet | None, Addr, int]] = [
                (None, self.deposit_addr(ex, gang.owner), slice_)
            ]
            if r.random() < 0.15:  # now and then two cash-outs in one hop
                ex2 = r.choice(exchanges)
                outs.append(
                    (None, self.deposit_addr(ex2, gang.owner), int(total * r.uniform(0.02, 0.08)))
                )
            rest = total - sum(v for _, _, v in outs) - fee
            pos = r.randint(0, len(outs))
            outs.insert(pos, (None, ch.new_addr(gang.owner, "peel", gang.kind), rest))
            made = ch.tx(coins, outs)
            for i, c in enumerate(made):
                if i != pos:
                    self.cash(camp, self.ex_of(c.addr), c, via)
            coins = [made[pos]]
            for _ in range(r.choice((0, 0, 1, 2))):  # other transactions in between
                self.background()

    def ex_of(self, a: Addr) -> Exchange:
        return next(e for e in self.exchanges if e.id == a.owner)

    def cash(self, camp: str, ex: Exchange, coin: Coin, via: str) -> None:
        ex.pending.append(coin)
        self.cashouts.append(Cashout(camp, ex, coin, self.chain.time, via))

    def scam(self) -> Any:
        """The investment scam, as a generator: one step of it per call to next()."""
        r, ch = self.rng, self.chain
        camp = "scam"
        gang = self.wallet("gang-scam", "Aurum Ridge Capital (scam)", "gang")
        gang.kind = "wpkh"
        collect = [
            ch.new_addr(gang.owner, "collection", r.choice(KINDS)) for _ in range(r.randint(2, 4))
        ]
        wallet = Wallet(gang.owner, "wpkh")
        site = r.choice(("aurumridge-capital.example", "aurum-ridge.example"))
        n = r.randint(30, 60)
        self.campaigns[camp] = {"kind": "scam", "operator": gang.owner,
                                "collection_addresses": [a.text for a in collect]}  # fmt: skip
        for _ in range(n):
            contact = {"perpetrator_site": f"https://{site}/"} if r.random() < 0.4 else {}
            to = r.choice(collect)
            u = self.victim_pays(camp, to, gang, self.amount(0.01, 3), contact)
            if r.random() < 0.15 and u.balance > 200_000:  # the same victim pays again
                made = ch.pay(u, [(gang, to, int(u.balance * 0.5))])
                if made:
                    name = self.entities[u.owner]["name"]
                    self.payments.append(Payment(camp, name, made[0], ch.time, contact))
            yield
            if r.random() < 0.12 and gang.coins:  # consolidate some collection addresses
                self.consolidate(gang, wallet)
                yield
        self.consolidate(gang, wallet)
        yield
        exchanges = r.sample(self.exchanges, r.randint(2, 3))
        coins = wallet.coins[:]
        wallet.coins.clear()
        r.shuffle(coins)
        chains = r.randint(2, 4)
        for k in range(chains):
            part = coins[k::chains]
            if part:
                self.peel(camp, gang, part, exchanges, r.randint(3, 12), "peel")
                yield

    def consolidate(self, gang: Wallet, into: Wallet) -> None:
        ch = self.chain
        coins = gang.coins[:]
        if not coins:
            return
        gang.coins.clear()
        total = sum(c.value for c in coins) - ch.fee(len(coins), 1)
        ch.tx(coins, [(into, ch.new_addr(gang.owner, "gang_wallet", into.kind), total)])

    def ransomware(self) -> Any:
        r, ch = self.rng, self.chain
        camp = "ransomware"
        gang = self.wallet("gang-ransom", "Nightjar Locker (ransomware)", "gang")
        gang.kind = "wpkh"
        email = r.choice(("nightjar@protonmail.example", "nightjar-support@tuta.example"))
        n = r.randint(15, 30)
        addrs = []
        self.campaigns[camp] = {"kind": "ransomware", "operator": gang.owner,
                                "collection_addresses": []}  # fmt: skip
        for _ in range(n):
            a = ch.new_addr(gang.owner, "ransom", "wpkh")
            addrs.append(a)
            self.campaigns[camp]["collection_addresses"].append(a.text)
            contact = {"perpetrator_email": email} if r.random() < 0.3 else {}
            self.victim_pays(camp, a, gang, self.amount(0.05, 2), contact)
            yield
        level = gang.coins[:]
        gang.coins.clear()
        for _ in range(r.randint(2, 3)):  # consolidation rounds
            nxt = []
            r.shuffle(level)
            size = r.randint(2, 6)
            for k in range(0, len(level), size):
                group = level[k : k + size]
                total = sum(c.value for c in group) - ch.fee(len(group), 1)
                nxt += ch.tx(
                    group, [(None, ch.new_addr(gang.owner, "consolidation", "wpkh"), total)]
                )
                yield
            level = nxt
        # part into a CoinJoin with ordinary users, the rest peeled straight to the exchange
        r.shuffle(level)
        cut = max(1, len(level) // 2)
        mixed, straight = level[:cut], level[cut:]
        ex = r.choice(self.exchanges)
        outs = self.coinjoin(gang, mixed)
        yield
        for k in range(0, len(outs), 3):
            self.peel(camp, gang, outs[k : k + 3], [ex], r.randint(1, 4), "coinjoin")
            yield
        if straight:
            self.peel(camp, gang, straight, [ex], r.randint(3, 10), "peel")

    def coinjoin(self, gang: Wallet, coins: list[Coin]) -> list[Coin]:
        """Equal outputs for the gang and 4-9 users; each gets its change back."""
        r, ch = self.rng, self.chain
        total = sum(c.value for c in coins)
        denom = r.choice((COIN // 100, COIN // 20, COIN // 10))
        while total // denom > 25:
            denom *= 2
        inputs = list(coins)
        outs: list[tuple[Wallet | None, Addr, int]] = []
        k = max(1, (total - 50_000) // denom)
        gang_outs = [
            (None, ch.new_addr(gang.owner, "coinjoin_out", "wpkh"), denom) for _ in range(k)
        ]
        outs += gang_outs
        rest = total - k * denom - 30_000
        if rest > 10_000:
            outs.append((None, ch.new_addr(gang.owner, "coinjoin_change", "wpkh"), rest))
        for u in r.sample(self.users, r.randint(4, 9)):
            if u.balance < denom + 60_000:
                self.withdraw(
                    r.choice(self.exchanges),
                    [(u, ch.receive(u, "receive"), denom + r.randint(60_000, denom))],
                )
            got = ch.pick(u, denom + 30_000)
            if got is None:
                continue
            inputs += got
            outs.append((u, ch.new_addr(u.owner, "coinjoin_out", u.kind), denom))
            back = sum(c.value for c in got) - denom - 30_000
            if back > 10_000:
                outs.append((u, ch.new_addr(u.owner, "change", u.kind), back))
        r.shuffle(outs)
        made = ch.tx(inputs, outs)
        self.coinjoins.append(made[0].txid_hex)
        mine = [c for c in made if c.addr.owner == gang.owner]
        return mine

    # -- the run -----------------------------------------------------------------------------
    def run(self) -> World:
        r = self.rng
        self.setup()
        crimes = {r.uniform(0.05, 0.3): self.scam(), r.uniform(0.5, 0.85): self.ransomware()}
        active: list[Any] = []
        while self.chain.txs < self.target:
            frac = self.chain.txs / self.target
            for at in [a for a in crimes if frac >= a]:
                active.append(crimes.pop(at))
            if active and r.random() < 0.25:
                crime = r.choice(active)
                if next(crime, "done") == "done":
                    active.remove(crime)
            else:
                self.background()
            self.exchange_upkeep(frac)
        for crime in active + list(crimes.values()):  # crimes finish, whatever the size
            for _ in crime:
                pass
        self.chain.close_block()
        self.chain.writer.close()
        self.write()
        return self

    # -- what is written ---------------------------------------------------------------------
    def write(self) -> None:
        r = self.rng
        rows, camps = [], []
        for camp, info in self.campaigns.items():
            ids, loss = [], 0
            for k, p in enumerate(p for p in self.payments if p.campaign == camp):
                cid = f"IND-{camp.upper()}-{k + 1:03d}"
                ids.append(cid)
                loss += p.coin.value
                reported = p.time + r.randint(3600, 20 * 86400)
                rows.append({"complaint_id": cid, "victim": p.victim,
                             "reported_at": _iso(reported), "chain": "BTC",
                             "txid": p.coin.txid_hex, "vout": p.coin.vout,
                             "to_address": p.coin.addr.text, "amount": p.coin.value,
                             "asset": "BTC"} | p.contact)  # fmt: skip
            camps.append({"id": camp, "kind": info["kind"], "operator": info["operator"],
                          "complaint_ids": ids, "total_loss": {"BTC": loss},
                          "collection_addresses": info["collection_addresses"]})  # fmt: skip
        r.shuffle(rows)  # complaints arrive in no particular order
        with open(self.out / "complaints.csv", "w", newline="") as fh:
            wr = csv.DictWriter(fh, COMPLAINT_COLUMNS, restval="")
            wr.writeheader()
            wr.writerows(rows)
        tags = []
        for ex in self.exchanges:  # a partner knows one or two hot-wallet addresses each
            for a in r.sample(ex.hot_addrs, min(len(ex.hot_addrs), r.randint(1, 2))):
                tags.append({"address": a.text, "label": ex.name, "category": "exchange",
                             "source": "https://partner.example/indep/hot-wallets",
                             "currency": "BTC", "network": "BTC",
                             "confidence": "service_data"})  # fmt: skip
        (self.out / "tags.yaml").write_text(yaml.safe_dump(
            {"title": "Exchange hot wallets (independent world)",
             "creator": "bench/indep_world.py", "description": "hot wallets a partner shares",
             "is_public": True, "lastmod": "2024-03-01", "tags": tags}, sort_keys=False))  # fmt: skip
        swept = set().union(*(ex.swept for ex in self.exchanges))
        deposits = {}
        for ex in self.exchanges:
            for a in [
                a for a in self.chain.addresses.values() if a.owner == ex.id and a.role == "deposit"
            ]:
                deposits[a.text] = {
                    "exchange": ex.id,
                    "payers": sorted(self.chain.paid_by.get(a.text, ())),
                }
        truth = {
            "generator": "bench/indep_world.py",
            "seed": self.seed,
            "txs": self.chain.txs,
            "blocks": self.chain.height,
            "campaigns": camps,
            "cashouts": [
                {
                    "campaign": c.campaign,
                    "exchange": c.exchange.id,
                    "exchange_name": c.exchange.name,
                    "deposit_address": c.coin.addr.text,
                    "amount": c.coin.value,
                    "txid": c.coin.txid_hex,
                    "vout": c.coin.vout,
                    "time": _iso(c.time),
                    "via": c.via,
                    "swept": (c.coin.txid, c.coin.vout) in swept,
                }
                for c in self.cashouts
            ],
            "exchanges": [
                {
                    "id": ex.id,
                    "name": ex.name,
                    "reuse_deposits": ex.reuse_deposits,
                    "sweep_every": round(ex.sweep_every, 1),
                    "batch_max": ex.batch_max,
                    "hot_wallet": [a.text for a in ex.hot_addrs],
                }
                for ex in self.exchanges
            ],
            "deposits": deposits,
            "coinjoin_txids": self.coinjoins,
            "entities": [{"id": k, **v} for k, v in self.entities.items()],
            "addresses": {
                t: {"entity": a.owner, "role": a.role} for t, a in self.chain.addresses.items()
            },
        }
        (self.out / "truth.json").write_text(json.dumps(truth, indent=1))


def _iso(ts: int) -> str:
    import datetime as dt

    return dt.datetime.fromtimestamp(ts, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def generate(seed: int, txs: int, out: Path, hot_consolidation: bool = True) -> dict[str, Any]:
    """Write one world into ``out`` (blocks/, complaints.csv, tags.yaml, truth.json).
    ``hot_consolidation``: the exchanges now and then spend their hot coins together (off:
    an exchange whose hot addresses are never spent together, each its own cluster)."""
    World(seed, txs, out, hot_consolidation).run()
    return json.loads((out / "truth.json").read_text())
