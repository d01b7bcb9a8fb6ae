"""Account-model ledger of the simulated EVM chain: balances, nonces, gas, blocks, rows.

Every transaction is EIP-1559 (type 2): the sender pays gas_used x
effective_gas_price, the base fee part is burned, the tip goes to the block's
fee recipient. Native ETH only enters through genesis allocations in block 0,
the token only through Transfer events from the zero address, so exact
balances can be recomputed from the files alone.
"""

from __future__ import annotations

import hashlib

from fundtrail.chains.simulate.draws import Draws
from fundtrail.chains.simulate.evm.writer import EtlWriter
from fundtrail.chains.simulate.registry import Registry

GWEI = 10**9
ETHER = 10**18
TRANSFER_TOPIC = "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef"
ZERO = "0x" + "00" * 20
EMPTY_UNCLES = "0x1dcc4de8dec75d7aab85b567b6ccd41ad312451b948a7413f0a142fd40d49347"
EMPTY_TRIE = "0x56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421"
EMPTY_BLOOM = "0x" + "00" * 256
TOTAL_DIFFICULTY = 58_750_003_716_598_352_816_469  # mainnet's terminal total difficulty
GAS_LIMIT = 30_000_000
NATIVE_GAS = 21_000


class InsufficientFunds(Exception):
    """The simulated sender cannot pay; the caller skips the action."""


class EvmChain:
    def __init__(self, registry: Registry, draws: Draws, writer: EtlWriter, start: int) -> None:
        self.registry = registry
        self.draws = draws
        self.writer = writer
        self.eth: list[int] = []
        self.token: list[int] = []
        self.nonce: list[int] = []
        self.hex: list[str] = []
        self.number = 0
        self.time = start
        self.base_fee = 20 * GWEI
        self.parent = "0x" + "00" * 32
        self.block_hash = ""
        self.miner = 0
        self.token_addr = 0
        self._tx_index = 0
        self._log_index = 0
        self._gas = 0
        self._counter = 0
        self.txs = 0
        self.burned = 0
        self.minted = 0
        self.minted_token = 0

    # -- addresses ----------------------------------------------------------------------
    def new_address(self, entity: int, role: str) -> int:
        addr = self.registry.new_address(entity, role, 0)
        self.eth.append(0)
        self.token.append(0)
        self.nonce.append(0)
        self.hex.append("0x" + self.registry.last_program.hex())
        return addr

    def _hash(self, tag: bytes) -> str:
        self._counter += 1
        return "0x" + hashlib.sha256(tag + self._counter.to_bytes(8, "little")).hexdigest()

    # -- blocks -------------------------------------------------------------------------
    def genesis(self, allocations: list[tuple[int, int]]) -> None:
        """Block 0: native coins allocated by 'genesis' traces, as ethereum-etl exports them."""
        self.block_hash = self._hash(b"block")
        for i, (addr, value) in enumerate(allocations):
            self.registry.used[addr] = 1
            self.eth[addr] += value
            self.minted += value
            self.writer.row(
                "traces",
                [0, "", "", "", self.hex[addr], value, "", "", "genesis", "", "", "", "",
                 0, "", "", 1, f"genesis_0_{i}"],
            )  # fmt: skip
        self._write_block(0, 5000)

    def begin_block(self, miner: int) -> None:
        d = self.draws
        self.number += 1
        self.time += 12 if d.uniform() > 0.01 else 24  # a missed slot now and then
        step = max(-1.0, min(1.0, 0.4 * d.normal()))
        self.base_fee = max(3 * GWEI, min(150 * GWEI, int(self.base_fee * (1 + 0.125 * step))))
        self.parent = self.block_hash
        self.block_hash = self._hash(b"block")
        self.miner = miner
        self._tx_index = self._log_index = self._gas = 0

    def close_block(self) -> None:
        self._write_block(self._tx_index, self.base_fee)

    def _write_block(self, n_txs: int, base_fee: int) -> None:
        h = self._hash
        self.writer.row(
            "blocks",
            [self.number, self.block_hash, self.parent, "0x0000000000000000", EMPTY_UNCLES,
             EMPTY_BLOOM, h(b"txroot"), h(b"state"), h(b"receipts"), self.hex[self.miner], 0,
             TOTAL_DIFFICULTY, 620 + 150 * n_txs, "0x6275696c6465722d73696d", GAS_LIMIT,
             self._gas, self.time, n_txs, base_fee, EMPTY_TRIE, ""],
        )  # fmt: skip

    # -- transactions -------------------------------------------------------------------
    def fees(self, gas: int) -> tuple[int, int, int]:
        """(priority fee, max fee, worst-case cost) for ``gas`` units in this block."""
        tip = max(10**7, int(self.draws.lognormal(1.5 * GWEI, 0.6)))
        max_fee = 2 * self.base_fee + tip
        return tip, max_fee, gas * max_fee

    def can_pay(self, sender: int, value: int, gas: int = NATIVE_GAS) -> bool:
        return self.eth[sender] >= value + gas * (2 * self.base_fee + 10 * GWEI)

    def send(self, sender: int, to: int, value: int, gas_used: int = NATIVE_GAS) -> str:
        """A native transfer (or contract call with value); returns the tx hash."""
        return self._tx(sender, to, value, "0x", gas_used, gas_used, [])

    def transfer_token(self, sender: int, to: int, amount: int) -> tuple[str, int]:
        """ERC-20 ``transfer(to, amount)``; returns (tx hash, log index of the Transfer)."""
        if self.token[sender] < amount:
            raise InsufficientFunds
        data = "0xa9059cbb" + self.hex[to][2:].rjust(64, "0") + f"{amount:064x}"
        gas_used = 34_000 + (17_100 if self.token[to] == 0 else 0) + self.draws.below(300)
        log = self._log_index
        h = self._tx(sender, self.token_addr, 0, data, gas_used, gas_used + 20_000,
                     [(sender, to, amount)])  # fmt: skip
        return h, log

    def swap_token_for_native(
        self, sender: int, pool: int, amount: int, out: int
    ) -> tuple[str, int]:
        """A swap pool's ``tokenToEthSwapInput``: ``amount`` of the token from ``sender`` into
        the pool (a Transfer log) and ``out`` native coins from the pool back to ``sender``
        (an internal transfer), in one transaction. Returns (tx hash, the log's index)."""
        if self.token[sender] < amount or self.eth[pool] < out:
            raise InsufficientFunds
        log = self._log_index
        data = "0x95e3c50b" + f"{amount:064x}" + f"{1:064x}" + f"{self.time + 600:064x}"
        h = self._tx(sender, pool, 0, data, 65_000, 90_000, [(sender, pool, amount)],
                     [(pool, sender, out)])  # fmt: skip
        return h, log

    def swap_native_for_token(self, sender: int, pool: int, value: int, out: int) -> str:
        """``ethToTokenSwapInput``: ``value`` native coins in, ``out`` tokens paid back."""
        if self.token[pool] < out:
            raise InsufficientFunds
        data = "0xf39b5b9b" + f"{1:064x}" + f"{self.time + 600:064x}"
        return self._tx(sender, pool, value, data, 60_000, 90_000, [(pool, sender, out)])

    def mint_token(self, issuer: int, to: int, amount: int) -> str:
        data = "0x40c10f19" + self.hex[to][2:].rjust(64, "0") + f"{amount:064x}"
        return self._tx(issuer, self.token_addr, 0, data, 52_000, 80_000, [(-1, to, amount)])

    def _tx(
        self,
        sender: int,
        to: int,
        value: int,
        data: str,
        gas_used: int,
        gas_limit: int,
        transfers: list[tuple[int, int, int]],
        internal: list[tuple[int, int, int]] | None = None,
    ) -> str:
        tip, max_fee, worst = self.fees(gas_limit)
        if self.eth[sender] < value + worst:
            raise InsufficientFunds
        price = self.base_fee + tip
        fee = gas_used * price
        self.eth[sender] -= value + fee
        self.eth[to] += value
        self.eth[self.miner] += gas_used * tip
        self.burned += gas_used * self.base_fee
        txh = self._hash(b"tx")
        idx = self._tx_index
        used = self.registry.used
        used[sender] = used[to] = used[self.miner] = 1
        for _, dst, _ in transfers:
            used[dst] = 1
        for _, dst, _ in internal or ():
            used[dst] = 1
        self._gas += gas_used
        w, hx, n, bh = self.writer, self.hex, self.number, self.block_hash
        w.row(
            "transactions",
            [txh, self.nonce[sender], bh, n, idx, hx[sender], hx[to], value, gas_limit, price,
             data, self.time, max_fee, tip, 2, self._gas, gas_used, "", "", 1, price],
        )  # fmt: skip
        self.nonce[sender] += 1
        internal = internal or []
        w.row(
            "traces",
            [n, txh, idx, hx[sender], hx[to], value, data,
             "0x" + "0" * 63 + "1" if transfers else "0x", "call", "call", "", gas_limit - 21_000,
             gas_used - 21_000 if gas_used > 21_000 else 0, len(internal), "", "", 1,
             f"call_{txh}_"],
        )  # fmt: skip
        for k, (src, dst, v) in enumerate(internal):
            self.eth[src] -= v
            self.eth[dst] += v
            w.row(
                "traces",
                [n, txh, idx, hx[src], hx[dst], v, "0x", "0x", "call", "call", "", 2300, 0, 0,
                 str(k), "", 1, f"call_{txh}_{k}"],
            )  # fmt: skip
        token_hex = hx[self.token_addr]
        for src, dst, amount in transfers:
            if src >= 0:
                self.token[src] -= amount
                frm = hx[src]
            else:
                frm = ZERO
                self.minted_token += amount
            self.token[dst] += amount
            li = self._log_index
            self._log_index += 1
            topics = f"{TRANSFER_TOPIC},0x{frm[2:].rjust(64, '0')},0x{hx[dst][2:].rjust(64, '0')}"
            w.row("logs", [li, txh, idx, bh, n, token_hex, f"0x{amount:064x}", topics])
            w.row("token_transfers", [token_hex, frm, hx[dst], amount, txh, li, n])
        self._tx_index += 1
        self.txs += 1
        return txh

    def call_with_internal(
        self, sender: int, to: int, value: int, internal: list[tuple[int, int, int]]
    ) -> str:
        """A contract call whose execution moves native coins (internal transfers)."""
        return self._tx(sender, to, value, "0x21a0adb6", 95_000, 140_000, [], internal)
