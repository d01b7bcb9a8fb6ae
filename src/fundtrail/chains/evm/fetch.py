"""Read blocks from a node: block + receipts + internal transfers, in batched round trips.

Nodes offer different methods, so each family is probed once and the answer kept:

* receipts: ``eth_getBlockReceipts`` (one call per block), else ``eth_getTransactionReceipt``
  per transaction;
* internal transfers: ``debug_traceBlockByNumber`` with the ``callTracer``, else
  ``trace_block`` (parity/erigon/reth style, which also reports block rewards), else none:
  the ingest then still records native, token, fee and burn transfers and says that
  internal transfers were not available.

Any answer that does not decode raises a :class:`SourceError` naming the block.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fundtrail.chains.evm import decode
from fundtrail.chains.evm.records import GENESIS, BlockRecord, Move
from fundtrail.chains.evm.rewards import MAINNET_GENESIS, base_reward, reward_moves
from fundtrail.chains.evm.rows import AssetInfo
from fundtrail.chains.evm.rpc import RpcClient, RpcError
from fundtrail.errors import SourceError

SYMBOL = "0x95d89b41"  # symbol()
DECIMALS = "0x313ce567"  # decimals()
TRACERS = ("debug", "parity", "none")


class RpcSource:
    """Blocks of one node as :class:`BlockRecord` objects."""

    def __init__(self, client: RpcClient, *, tracer: str | None = None) -> None:
        self.client = client
        self.receipts_mode: str | None = None  # "block" | "tx"
        self.tracer: str | None = tracer  # one of TRACERS once known
        self.mainnet: bool | None = None  # PoW rewards are computed on mainnet only

    def head(self) -> int:
        raw = self.client.call("eth_blockNumber")
        try:
            return decode.qty(raw, "eth_blockNumber")
        except decode.DecodeError as exc:
            raise SourceError(f"node at {self.client.url}: {exc}") from exc

    def chain_id(self) -> int | None:
        try:
            return decode.qty(self.client.call("eth_chainId"), "eth_chainId")
        except SourceError:
            return None

    def hashes(self, numbers: Sequence[int]) -> dict[int, str]:
        """Block hashes the node has now at ``numbers`` (for reorg checks)."""
        answers = self.client.batch([("eth_getBlockByNumber", [hex(n), False]) for n in numbers])
        out: dict[int, str] = {}
        for n, raw in zip(numbers, answers, strict=True):
            if raw is None:
                continue
            out[n] = _at(n, lambda raw=raw: decode.hash32(raw.get("hash"), "block.hash"))
        return out

    def blocks(self, numbers: Sequence[int]) -> list[BlockRecord]:
        calls = [("eth_getBlockByNumber", [hex(n), True]) for n in numbers]
        answers = self.client.batch(calls, allow_errors=True)
        blocks: list[BlockRecord] = []
        for n, raw in zip(numbers, answers, strict=True):
            if isinstance(raw, RpcError):
                raise SourceError(f"block {n}: {raw}") from raw
            if raw is None:
                raise SourceError(f"block {n}: the node does not have it (null answer)")
            block = _at(n, lambda raw=raw: decode.decode_block(raw))
            if block.number != n:
                raise SourceError(f"block {n}: the node answered with block {block.number}")
            blocks.append(block)
        self._receipts(blocks)
        self._traces(blocks)
        if self.tracer != "parity":  # trace_block reports rewards itself
            self._rewards(blocks)
        return blocks

    # ---- receipts -------------------------------------------------------------------
    def _receipts(self, blocks: list[BlockRecord]) -> None:
        todo = [b for b in blocks if b.txs]
        if not todo:
            return
        if self.receipts_mode in (None, "block"):
            calls = [("eth_getBlockReceipts", [hex(b.number)]) for b in todo]
            answers = self.client.batch(calls, allow_errors=True)
            missing = [a for a in answers if isinstance(a, RpcError) and a.method_missing]
            if not missing:
                self.receipts_mode = "block"
                for b, a in zip(todo, answers, strict=True):
                    if isinstance(a, RpcError):
                        raise SourceError(f"block {b.number}: {a}") from a
                    _at(b.number, lambda b=b, a=a: decode.apply_receipts(b, a))
                return
            self.receipts_mode = "tx"
        calls = [("eth_getTransactionReceipt", [tx.hash]) for b in todo for tx in b.txs]
        answers = self.client.batch(calls, allow_errors=True)
        pos = 0
        for b in todo:
            mine = answers[pos : pos + len(b.txs)]
            pos += len(b.txs)
            for a in mine:
                if isinstance(a, RpcError):
                    raise SourceError(f"block {b.number}: {a}") from a
            _at(b.number, lambda b=b, mine=mine: decode.apply_receipts(b, mine))

    # ---- traces ---------------------------------------------------------------------
    def _traces(self, blocks: list[BlockRecord]) -> None:
        for mode in [self.tracer] if self.tracer else ["debug", "parity"]:
            if mode == "none":
                return
            # geth cannot trace the genesis block, and empty blocks have no internal
            # transfers; trace_block is still asked for them (it reports block rewards).
            todo = blocks if mode == "parity" else [b for b in blocks if b.txs]
            if not todo:
                return
            if mode == "debug":
                tracer = {"tracer": "callTracer"}
                calls = [("debug_traceBlockByNumber", [hex(b.number), tracer]) for b in todo]
            else:
                calls = [("trace_block", [hex(b.number)]) for b in todo]
            answers = self.client.batch(calls, allow_errors=True)
            if any(isinstance(a, RpcError) and a.method_missing for a in answers):
                if self.tracer is not None:  # remembered from another node: probe again
                    self.tracer = None
                    return self._traces(blocks)
                continue  # the node lacks this family: try the next one
            self.tracer = mode
            for b, a in zip(todo, answers, strict=True):
                if isinstance(a, RpcError):
                    raise SourceError(f"block {b.number}: traces unavailable: {a}") from a
                fn = decode.calltracer_moves if mode == "debug" else decode.parity_moves
                b.moves.extend(_at(b.number, lambda b=b, a=a, fn=fn: fn(b, a)))
            return
        self.tracer = "none"

    # ---- proof-of-work rewards (mainnet, when the node does not report them) -----------
    def _rewards(self, blocks: list[BlockRecord]) -> None:
        todo = [b for b in blocks if base_reward(b.number)]
        if not todo:
            return
        if self.mainnet is None:
            try:
                genesis = self.client.call("eth_getBlockByNumber", "0x0", False)
                self.mainnet = isinstance(genesis, dict) and genesis.get("hash") == MAINNET_GENESIS
            except SourceError:
                self.mainnet = False
        if not self.mainnet:
            return
        calls = [("eth_getUncleByBlockNumberAndIndex", [hex(b.number), hex(i)])
                 for b in todo for i in range(b.uncles)]  # fmt: skip
        answers = iter(self.client.batch(calls))
        for b in todo:
            uncles = []
            for i in range(b.uncles):
                u = next(answers)
                uncles.append(_at(b.number, lambda u=u, i=i: (
                    decode.qty(u.get("number"), f"uncle {i} number"),
                    decode.address(u.get("miner"), f"uncle {i} miner"),
                )))  # fmt: skip
            b.moves.extend(reward_moves(b, uncles))

    # ---- token metadata and genesis balances ------------------------------------------
    def token_info(self, contracts: Sequence[str]) -> list[AssetInfo]:
        """``symbol()`` and ``decimals()`` of each contract; None where it does not answer."""
        calls = []
        for c in contracts:
            calls.append(("eth_call", [{"to": c, "data": SYMBOL}, "latest"]))
            calls.append(("eth_call", [{"to": c, "data": DECIMALS}, "latest"]))
        answers = self.client.batch(calls, allow_errors=True)
        out = []
        for i, c in enumerate(contracts):
            sym, dec = answers[2 * i], answers[2 * i + 1]
            out.append(
                AssetInfo(
                    c,
                    None if isinstance(sym, RpcError) else decode.abi_string(sym),
                    None if isinstance(dec, RpcError) else decode.abi_uint8(dec),
                )
            )
        return out

    def genesis_moves(self, addresses: Sequence[str]) -> list[Move]:
        """Genesis allocations: each address's balance at block 0 (before any transaction)."""
        answers = self.client.batch([("eth_getBalance", [a, "0x0"]) for a in addresses])
        moves = []
        for a, raw in zip(addresses, answers, strict=True):
            value = _at(0, lambda raw=raw, a=a: decode.qty(raw, f"eth_getBalance({a}, 0)"))
            if value:
                moves.append(Move("genesis", GENESIS, a, value))
        return moves


def _at(number: int, fn: Any) -> Any:
    """Run a decode step; a bad answer becomes a SourceError naming the block."""
    try:
        return fn()
    except decode.DecodeError as exc:
        raise SourceError(f"block {number}: the node's answer is malformed: {exc}") from exc
    except (AttributeError, TypeError, KeyError, ValueError) as exc:
        raise SourceError(f"block {number}: the node's answer is malformed: {exc!r}") from exc
