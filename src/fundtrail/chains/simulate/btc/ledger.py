"""Wallets, UTXOs and block assembly: the one place transactions are made and written.

Every transaction goes through ``Ledger.submit``: it is serialized at once,
appended to the block being built, and its outputs become spendable UTXOs of
the receiving wallets. A transaction only spends outputs made before it, so
block order is always valid. Blocks stream straight to blk*.dat files.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

from fundtrail.chains.simulate.btc.script import (
    INPUT_VSIZE,
    OUTPUT_VSIZE,
    Keyring,
    output_script,
)
from fundtrail.chains.simulate.btc.serialize import (
    GENESIS_HASH,
    SUBSIDY,
    BlockFileWriter,
    TxIn,
    coinbase_tx,
    merkle_root,
    mine_header,
    serialize_tx,
    txout,
    varint,
)
from fundtrail.chains.simulate.draws import Draws
from fundtrail.chains.simulate.registry import Registry

DUST = 546
# (txid, vout, value, address id)
Utxo = tuple[bytes, int, int, int]


class Wallet:
    """The spendable outputs of one owner; new addresses share its script kind."""

    __slots__ = ("balance", "entity", "kind", "utxos")

    def __init__(self, entity: int, kind: int) -> None:
        self.entity = entity
        self.kind = kind
        self.utxos: list[Utxo] = []
        self.balance = 0

    def add(self, utxo: Utxo) -> None:
        self.utxos.append(utxo)
        self.balance += utxo[2]

    def take(self, amount: int, max_inputs: int = 50) -> list[Utxo] | None:
        """Remove and return UTXOs worth at least ``amount`` (oldest first), or None."""
        if self.balance < amount:
            return None
        got: list[Utxo] = []
        total = 0
        utxos = self.utxos
        i = 0
        while total < amount and i < len(utxos):
            got.append(utxos[i])
            total += utxos[i][2]
            i += 1
        if total < amount or len(got) > max_inputs:
            biggest = sorted(utxos, key=lambda u: -u[2])
            got, total = [], 0
            for u in biggest[:max_inputs]:
                got.append(u)
                total += u[2]
                if total >= amount:
                    break
            if total < amount:
                return None
            chosen = set(got)
            self.utxos = [u for u in utxos if u not in chosen]
        else:
            del utxos[:i]
        self.balance -= total
        return got

    def take_all(self, limit: int = 200) -> list[Utxo]:
        got = self.utxos[:limit]
        del self.utxos[:limit]
        self.balance -= sum(u[2] for u in got)
        return got


# A payment: (receiving wallet, address id, value)
Out = tuple[Wallet, int, int]


@dataclass
class BlockStats:
    blocks: int = 0
    txs: int = 0
    coinbase_value: int = 0
    files: list[Path] = field(default_factory=list)


class Ledger:
    def __init__(
        self,
        registry: Registry,
        keys: Keyring,
        draws: Draws,
        writer: BlockFileWriter,
        start_time: int,
    ) -> None:
        self.registry = registry
        self.keys = keys
        self.draws = draws
        self.writer = writer
        self.height = 0
        self.time = start_time
        self.prev = GENESIS_HASH
        self.stats = BlockStats()
        self._block: list[bytes] = []
        self._txids: list[bytes] = []
        self._wtxids: list[bytes] = []
        self._segwit = False
        self._fees = 0
        self._scripts: dict[int, bytes] = {}
        self.feerate_median = 12.0

    # -- addresses --------------------------------------------------------------------------
    def new_address(self, wallet: Wallet, role: str) -> int:
        addr = self.registry.new_address(wallet.entity, role, wallet.kind)
        # most fresh addresses are paid within the block: keep their script until then
        self._scripts[addr] = output_script(wallet.kind, self.registry.last_program)
        return addr

    def script(self, addr: int) -> bytes:
        cached = self._scripts.pop(addr, None)
        if cached is not None:
            return cached
        kind = self.registry.kind_of[addr]
        return output_script(kind, self.keys.program(addr, kind))

    # -- transactions -----------------------------------------------------------------------
    def feerate(self) -> int:
        return max(1, int(self.draws.lognormal(self.feerate_median, 0.7)))

    def fee_for(self, inputs: list[Utxo], n_outputs: int, rate: int, out_kind: int = 2) -> int:
        kinds = self.registry.kind_of
        vsize = (
            11 + sum(INPUT_VSIZE[kinds[u[3]]] for u in inputs) + n_outputs * OUTPUT_VSIZE[out_kind]
        )
        return vsize * rate

    def submit(self, inputs: list[Utxo], outputs: list[Out], locktime: int = 0) -> bytes:
        """Serialize a transaction into the current block; its outputs join their wallets."""
        kinds = self.registry.kind_of
        spend = self.keys.spend
        seq = 0xFFFFFFFD if locktime else 0xFFFFFFFF
        txins: list[TxIn] = []
        total_in = 0
        for txid, n, value, addr in inputs:
            sig, wit = spend(addr, kinds[addr])
            txins.append((txid, n, sig, wit, seq))
            total_in += value
        total_out = 0
        raw_outs = []
        for _, addr, value in outputs:
            raw_outs.append(txout(value, self.script(addr)))
            total_out += value
        fee = total_in - total_out
        if fee < 0 or not inputs or not outputs:
            raise AssertionError(f"unbalanced simulated tx: in {total_in} out {total_out}")
        raw, txid, wtxid = serialize_tx(txins, raw_outs, locktime)
        self._block.append(raw)
        self._txids.append(txid)
        self._wtxids.append(wtxid)
        self._segwit = self._segwit or txid != wtxid
        self._fees += fee
        used = self.registry.used
        for n, (wallet, addr, value) in enumerate(outputs):
            wallet.add((txid, n, value, addr))
            used[addr] = 1
        return txid

    def pay(
        self,
        wallet: Wallet,
        payments: list[Out],
        *,
        change_role: str = "change",
        change_addr: int | None = None,
        rate: int | None = None,
        max_inputs: int = 50,
        shuffle: bool = True,
        anti_fee_sniping: bool = False,
    ) -> tuple[bytes, list[int]] | None:
        """Pay ``payments`` from ``wallet`` with change; returns (txid, vout of each payment).

        ``anti_fee_sniping`` sets nLockTime to the tip height as Bitcoin Core and
        Sparrow do: a wallet fingerprint real analysts use.
        """
        rate = rate or self.feerate()
        need = sum(p[2] for p in payments)
        inputs = wallet.take(need + self._fee_guess(len(payments) + 1, rate), max_inputs)
        if inputs is None:
            return None
        fee = self.fee_for(inputs, len(payments) + 1, rate, wallet.kind)
        change = sum(u[2] for u in inputs) - need - fee
        if change < 0:
            for u in inputs:
                wallet.add(u)
            return None
        outs = list(payments)
        if change >= DUST:
            if change_addr is None:
                change_addr = self.new_address(wallet, change_role)
            pos = self.draws.below(len(outs) + 1) if shuffle else len(outs)
            outs.insert(pos, (wallet, change_addr, change))
        else:
            pos = len(outs)
        txid = self.submit(inputs, outs, self.height - 1 if anti_fee_sniping else 0)
        vouts = [i if i < pos or change < DUST else i + 1 for i in range(len(payments))]
        return txid, vouts

    def _fee_guess(self, n_outputs: int, rate: int) -> int:
        return (11 + 2 * 100 + n_outputs * 34) * rate

    # -- blocks -----------------------------------------------------------------------------
    def begin_block(self) -> None:
        """Start the next block: its height and time hold for every tx made until it closes."""
        self.height += 1
        self.time += max(1, int(-600 * math.log1p(-self.draws.uniform())))

    def close_block(self, miner_addr: int, tag: bytes) -> Utxo:
        """Finish the block: coinbase to ``miner_addr``, mine the header, write it.

        Returns the coinbase output, which the caller holds until it matures.
        """
        value = SUBSIDY + self._fees
        wtxids = self._wtxids if self._segwit else None
        cb_raw, cb_txid = coinbase_tx(
            self.height, [txout(value, self.script(miner_addr))], wtxids, tag
        )
        txids = [cb_txid, *self._txids]
        header, block_hash = mine_header(self.prev, merkle_root(txids), self.time)
        block = header + varint(len(txids)) + cb_raw + b"".join(self._block)
        self.writer.write(block)
        self.prev = block_hash
        self.stats.blocks += 1
        self.stats.txs += len(txids)
        self.stats.coinbase_value += value
        self._block, self._txids, self._wtxids = [], [], []
        self._segwit = False
        self._fees = 0
        self._scripts.clear()
        self.registry.used[miner_addr] = 1
        return (cb_txid, 0, value, miner_addr)

    @property
    def pending(self) -> int:
        """Transactions in the block being built (coinbase excluded)."""
        return len(self._block)
