"""CoinJoin rounds in the shapes of the real implementations.

- Wasabi 1.x: ~50-100 inputs, many equal 0.1 BTC outputs, change, a coordinator fee output.
- Wasabi 2.0: varied inputs, outputs decomposed into standard denominations.
- Whirlpool: a tx0 makes premix outputs; each mix is exactly 5 inputs and 5 equal outputs
  of the pool size (0.001 / 0.01 / 0.05 / 0.5 BTC); postmix outputs are remixed.
- JoinMarket: one taker and n makers, n+1 equal outputs plus the makers' change.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from fundtrail.chains.simulate.btc.actors import COIN, User
from fundtrail.chains.simulate.btc.ledger import DUST, Ledger, Out, Utxo, Wallet
from fundtrail.chains.simulate.btc.script import INPUT_VSIZE, Kind
from fundtrail.chains.simulate.registry import Registry

WASABI1_DENOM = COIN // 10
WHIRLPOOL_POOLS = (100_000, 1_000_000, 5_000_000, 50_000_000)
_W2_DENOMS = sorted(
    {b * 10**e for b in (1, 2, 5) for e in range(4, 11)} | {5000 * 2**e for e in range(0, 19)},
    reverse=True,
)


@dataclass
class Joiner:
    """Someone who wants into the next round (the gang, or a user)."""

    wallet: Wallet
    inputs: list[Utxo]
    done: Callable[[bytes], None] | None = None


class CoinJoins:
    def __init__(self, ledger: Ledger, registry: Registry, names: dict[str, str]) -> None:
        self.ledger = ledger
        self.registry = registry
        self.coord: dict[str, tuple[Wallet, int]] = {}
        for key, name in names.items():
            ent = registry.add_entity("coinjoin-coordinator", name)
            w = Wallet(ent, Kind.P2WPKH)
            self.coord[key] = (w, ledger.new_address(w, "coordinator_fee"))
        self.txids: list[bytes] = []
        self.waiting: dict[str, deque[Joiner]] = {"wasabi1": deque(), "wasabi2": deque()}
        self.whirl_queue: dict[int, deque[tuple[Wallet, Utxo]]] = {
            p: deque() for p in WHIRLPOOL_POOLS
        }
        self._hold = Wallet(-1, Kind.P2WPKH)  # premix/postmix outputs queued for a mix

    # -- helpers ------------------------------------------------------------------------
    def _fee(self, inputs: list[Utxo], n_out: int, rate: int) -> int:
        kinds = self.registry.kind_of
        return (sum(INPUT_VSIZE[kinds[u[3]]] for u in inputs) + 31 * n_out + 4) * rate

    def _finish(self, inputs: list[Utxo], outputs: list[Out]) -> bytes:
        d = self.ledger.draws
        order = d.sample(len(inputs), len(inputs))
        outputs.sort(key=lambda o: -o[2])
        txid = self.ledger.submit([inputs[i] for i in order], outputs)
        self.txids.append(txid)
        return txid

    def _recruit(
        self, users: list[User], n: int, minimum: int, kinds: tuple[int, ...]
    ) -> list[Wallet]:
        d = self.ledger.draws
        got: list[Wallet] = []
        seen: set[int] = set()
        for _ in range(n * 6):
            u = users[d.below(len(users))]
            if u.entity in seen or u.wallet.kind not in kinds or u.wallet.balance < minimum:
                continue
            seen.add(u.entity)
            got.append(u.wallet)
            if len(got) >= n:
                break
        return got

    # -- Wasabi -------------------------------------------------------------------------
    def wasabi1(self, users: list[User]) -> bytes | None:
        led, d = self.ledger, self.ledger.draws
        rate = led.feerate()
        joiners = list(self.waiting["wasabi1"])
        self.waiting["wasabi1"].clear()
        for w in self._recruit(users, d.between(40, 70), WASABI1_DENOM * 13 // 10, (Kind.P2WPKH,)):
            take = w.take(WASABI1_DENOM * 12 // 10, max_inputs=3)
            if take:
                joiners.append(Joiner(w, take))
        if len(joiners) < 5:
            self._give_back(joiners)
            return None
        coord_w, coord_addr = self.coord["wasabi1"]
        inputs: list[Utxo] = []
        outputs: list[Out] = []
        fee_total = 0
        for j in joiners:
            total = sum(u[2] for u in j.inputs)
            levels = max(1, min(3, total // (WASABI1_DENOM + WASABI1_DENOM // 50)))
            levels = 1 if d.chance(0.8) else levels
            cfee = WASABI1_DENOM * 3 // 10000 * len(joiners) // 10 * levels
            mfee = self._fee(j.inputs, levels + 1, rate)
            change = total - levels * WASABI1_DENOM - cfee - mfee
            if change < 0:
                j.wallet.utxos.extend(j.inputs)
                j.wallet.balance += total
                continue
            inputs.extend(j.inputs)
            for _ in range(levels):
                outputs.append(
                    (j.wallet, led.new_address(j.wallet, "coinjoin_output"), WASABI1_DENOM)
                )
            if change >= DUST:
                outputs.append((j.wallet, led.new_address(j.wallet, "change"), change))
            fee_total += cfee
        outputs.append((coord_w, coord_addr, max(DUST, fee_total)))
        if sum(u[2] for u in inputs) < sum(o[2] for o in outputs):
            outputs.pop()
        txid = self._finish(inputs, outputs)
        for j in joiners:
            if j.done is not None:
                j.done(txid)
        return txid

    def wasabi2(self, users: list[User]) -> bytes | None:
        led, d = self.ledger, self.ledger.draws
        rate = led.feerate()
        joiners = list(self.waiting["wasabi2"])
        self.waiting["wasabi2"].clear()
        for w in self._recruit(users, d.between(15, 50), 20_000, (Kind.P2WPKH, Kind.P2TR)):
            take = w.take(min(w.balance, d.amount(2_000_000, 1.5, 20_000, 500 * COIN)), 4)
            if take:
                joiners.append(Joiner(w, take))
        if len(joiners) < 5:
            self._give_back(joiners)
            return None
        inputs: list[Utxo] = []
        outputs: list[Out] = []
        for j in joiners:
            total = sum(u[2] for u in j.inputs)
            left = total - self._fee(j.inputs, 1, rate)
            parts: list[int] = []
            for denom in _W2_DENOMS:
                while left >= denom + 31 * rate and len(parts) < 8:
                    parts.append(denom)
                    left -= denom + 31 * rate
            if not parts:
                j.wallet.utxos.extend(j.inputs)
                j.wallet.balance += total
                continue
            inputs.extend(j.inputs)
            for value in parts:
                outputs.append((j.wallet, led.new_address(j.wallet, "coinjoin_output"), value))
            if left >= 5000:
                outputs.append((j.wallet, led.new_address(j.wallet, "change"), left - 31 * rate))
        txid = self._finish(inputs, outputs)
        for j in joiners:
            if j.done is not None:
                j.done(txid)
        return txid

    def _give_back(self, joiners: list[Joiner]) -> None:
        for j in joiners:
            for u in j.inputs:
                j.wallet.add(u)

    # -- Whirlpool ----------------------------------------------------------------------
    def tx0(self, wallet: Wallet, pool: int) -> bool:
        """Premix: split a wallet's coins into pool-sized UTXOs plus the coordinator fee."""
        led, d = self.ledger, self.ledger.draws
        margin = 300 * 140
        n = d.between(1, 6)
        coord_w, coord_addr = self.coord["whirlpool"]
        payments: list[Out] = [(coord_w, coord_addr, pool // 20)]
        for _ in range(n):
            payments.append((self._hold, led.new_address(wallet, "premix"), pool + margin))
        done = led.pay(wallet, payments)
        if done is None:
            return False
        txid, vouts = done
        for v, (_, addr, value) in zip(vouts[1:], payments[1:], strict=True):
            utxo = (txid, v, value, addr)
            self._hold.utxos.remove(utxo)
            self._hold.balance -= value
            self.whirl_queue[pool].append((wallet, utxo))
        return True

    def whirlpool(self, pool: int) -> bytes | None:
        queue = self.whirl_queue[pool]
        if len(queue) < 5 or not any(u[2] > pool for _, u in queue):
            return None
        led, d = self.ledger, self.ledger.draws
        picked = [queue.popleft() for _ in range(5)]
        if all(u[2] == pool for _, u in picked):
            queue.extend(picked)
            return None
        outputs: list[Out] = []
        owners: dict[int, Wallet] = {}
        for wallet, _ in picked:
            addr = led.new_address(wallet, "coinjoin_output")
            owners[addr] = wallet
            # about half the postmix outputs stay in the pool for free remixes
            outputs.append((self._hold if d.chance(0.5) else wallet, addr, pool))
        txid = self._finish([u for _, u in picked], outputs)
        for utxo in [u for u in self._hold.utxos if u[0] == txid]:
            self._hold.utxos.remove(utxo)
            self._hold.balance -= utxo[2]
            queue.append((owners[utxo[3]], utxo))
        return txid

    # -- JoinMarket ---------------------------------------------------------------------
    def joinmarket(
        self, taker: Wallet, makers: list[Wallet], amount: int, dest: Out | None = None
    ) -> bytes | None:
        """Taker sends ``amount`` (to ``dest`` or a fresh own address) joined with n makers."""
        led, d = self.ledger, self.ledger.draws
        rate = led.feerate()
        joined = [Joiner(m, got) for m in makers if (got := m.take(amount + DUST, 3))]
        budget = amount + len(joined) * (amount // 5000 + 500) + 300 * rate * (3 * len(joined) + 4)
        taker_in = taker.take(budget, 5)
        if taker_in is None or len(joined) < 2:
            self._give_back(joined + ([Joiner(taker, taker_in)] if taker_in else []))
            return None
        inputs = list(taker_in)
        outputs: list[Out] = [dest or (taker, led.new_address(taker, "coinjoin_output"), amount)]
        maker_fees = 0
        for j in joined:
            fee = amount // 5000 + d.below(500)
            inputs.extend(j.inputs)
            outputs.append((j.wallet, led.new_address(j.wallet, "coinjoin_output"), amount))
            change = sum(u[2] for u in j.inputs) - amount + fee
            outputs.append((j.wallet, led.new_address(j.wallet, "change"), change))
            maker_fees += fee
        change = sum(u[2] for u in taker_in) - amount - maker_fees
        change -= self._fee(inputs, len(outputs) + 1, rate)
        if change >= DUST:
            outputs.append((taker, led.new_address(taker, "change"), change))
        return self._finish(inputs, outputs)
