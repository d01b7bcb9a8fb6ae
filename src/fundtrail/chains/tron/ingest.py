"""TRON ingest: a java-tron node's HTTP API into the account chain store.

Incremental and resumable like the EVM ingest (whose batcher it shares): every batch of
blocks lands in one atomic commit with the next block to read, so a crash loses at most
the batch in flight and a restart neither skips nor duplicates a block.

Reorg-safe: by default only *solidified* blocks are read (``/walletsolidity/getnowblock``,
irreversible once 2/3 of the super representatives confirmed them, about 19 blocks behind
the head). With ``confirmations=N`` blocks up to head - N are read instead (0 for a node
you trust to the head); then, before a batch is stored, its first block's parent must be
the stored tip, and if it is not, the stored blocks the node no longer has are rolled back
and read again.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from fundtrail.chains.evm.decode import abi_string, abi_uint8
from fundtrail.chains.evm.ingest import (
    IngestReport,
    Progress,
    _Batcher,
    _check_links,
    _first_block,
    _handle_reorg,
    _Prefetch,
)
from fundtrail.chains.evm.records import BlockRecord
from fundtrail.chains.evm.rows import AssetInfo
from fundtrail.chains.tron import legacy
from fundtrail.chains.tron.api import TronClient
from fundtrail.chains.tron.decode import block_number, decode_block
from fundtrail.chains.tron.rows import TronRowBuilder
from fundtrail.chainstore.store import ChainStore
from fundtrail.errors import InvalidInputError, SourceError
from fundtrail.model import assets
from fundtrail.model.chains import get_chain
from fundtrail.model.encoding import b58check_decode


class TronSource:
    """Blocks of one node as :class:`BlockRecord` objects (block + its transaction infos)."""

    def __init__(self, client: TronClient) -> None:
        self.client = client
        self.records = legacy.Records()  # chain records looked up once, kept for the run

    def head(self, confirmations: int | None) -> int:
        """The newest block to read: the solidified one (None) or head - confirmations."""
        block = self.client.now_block(solidified=confirmations is None)
        return block_number(block) - (confirmations or 0)

    def blocks(self, numbers: Sequence[int]) -> list[BlockRecord]:
        raw = self.client.blocks(numbers)
        with_txs = [block_number(b) for b in raw if b.get("transactions")]
        infos = dict(zip(with_txs, self.client.map(self.client.tx_infos, with_txs), strict=True))
        for b in raw:
            self._look_up(legacy.needs(b, infos.get(block_number(b), [])))
        out: list[BlockRecord] = []
        for b in raw:
            n = block_number(b)
            try:
                out.append(decode_block(b, infos.get(n, []), self.records))
            except (KeyError, TypeError, AttributeError, ValueError) as exc:
                raise SourceError(f"block {n}: the node's answer does not decode: {exc}") from exc
        return out

    def _look_up(self, need: legacy.Needs) -> None:
        """Fetch the token issues, exchanges and orders the legacy contracts of a batch
        name and the run has not fetched yet (all chain records that never change for
        the fields read: a sale's price, an exchange's pair, an order's owner and what it
        returned once closed)."""
        got = self.records
        issues = sorted(need.issues - set(got.issues))
        for token, issue in zip(issues, self.client.map(self._issue, issues), strict=True):
            got.issues[token] = issue
        pools = sorted(need.exchanges - set(got.exchanges))
        got.exchanges.update(zip(pools, self.client.map(self.client.exchange, pools), strict=True))
        orders = sorted(need.orders - set(got.orders))
        found = self.client.map(self.client.market_order, orders)
        got.orders.update(zip(orders, found, strict=True))

    def _issue(self, token: str) -> dict[str, Any]:
        if token.isdigit():
            return self.client.asset_issue(token)
        return self.client.asset_issue_by_name(token.encode().hex())

    def hashes(self, numbers: Sequence[int]) -> dict[int, str]:
        return {block_number(b): str(b.get("blockID")) for b in self.client.blocks(numbers)}

    def token_info(self, contracts: Sequence[str]) -> list[AssetInfo]:
        """Symbol and decimals of tokens new to the store (asked once: the store keeps them).

        The asset table's entry wins for the tokens it lists (USDT, USDC); otherwise a
        TRC-20's ``symbol()`` and ``decimals()`` (``triggerconstantcontract``) and a TRC-10's
        abbreviation and ``precision`` (``getassetissuebyid``). What the node does not
        answer stays unknown (amounts then shown in base units, never with guessed
        decimals)."""
        return self.client.map(self._token_info, list(contracts))

    def _token_info(self, contract: str) -> AssetInfo:
        known = assets.token("TRX", contract) if contract.startswith("T") else None
        if known is not None and known.decimals is not None and known.standard:
            return AssetInfo(contract, known.symbol, known.decimals)
        try:
            if contract.startswith("T"):
                word = b58check_decode(contract).hex()
                symbol = abi_string(self.client.constant_call(word, "symbol()"))
                decimals = abi_uint8(self.client.constant_call(word, "decimals()"))
                return AssetInfo(contract, symbol, decimals)
            issue = self.client.asset_issue(contract)
        except SourceError:
            return AssetInfo(contract, None, None)  # a node refusing the call: unknown
        if not issue:
            return AssetInfo(contract, None, None)
        precision = issue.get("precision", 0)  # the node leaves out a precision of 0
        label = _hex_text(issue.get("abbr")) or _hex_text(issue.get("name"))
        ok = isinstance(precision, int) and 0 <= precision <= 18
        return AssetInfo(contract, label, precision if ok else None)


def _hex_text(value: Any) -> str | None:
    """A TRC-10 name or abbreviation as the node writes it (hex of UTF-8), shown as text."""
    if not isinstance(value, str) or not value:
        return None
    try:
        text = bytes.fromhex(value).decode("utf-8").strip()
    except ValueError:
        text = value.strip()
    return text if text and text.isprintable() and len(text) <= 32 else None


def ingest_rpc(
    url: str,
    *,
    start: int | None = None,
    stop: int | None = None,
    confirmations: int | None = None,
    api_key: str | None = None,
    home: Path | None = None,
    batch_blocks: int = 100,
    concurrency: int = 4,
    client: TronClient | None = None,
    on_progress: Progress | None = None,
) -> IngestReport:
    """Ingest blocks ``start..stop`` (default: resume .. solidified head) from a node."""
    if confirmations is not None and confirmations < 0:
        raise InvalidInputError("confirmations must be >= 0", field="confirmations")
    store = ChainStore(get_chain("TRX"), home)
    report = IngestReport(store.chain.code, url)
    started = time.perf_counter()
    own = client is None
    api = client or TronClient(url, api_key=api_key, concurrency=concurrency)
    source = TronSource(api)
    ahead = _Prefetch(source)
    try:
        with store.writer() as writer:
            b = _Batcher(store, writer, report)
            last_ok = ahead.timed(source.head, confirmations)
            report.head = last_ok
            first = _first_block(b, start)
            last = last_ok if stop is None else min(stop, last_ok)
            if stop is not None and stop > last_ok:
                depth = "solidified" if confirmations is None else f"{confirmations} deep"
                report.notes.append(f"stopped at block {last}: blocks above are not {depth} yet")
            n = first
            while n <= last:
                numbers = list(range(n, min(n + batch_blocks, last + 1)))
                blocks = ahead.get(numbers)
                if b.last_hash is not None and blocks[0].parent_hash != b.last_hash:
                    ahead.drop()
                    n = _handle_reorg(b, source, blocks[0].number, chunk_size=100)
                    continue
                _check_links(blocks)
                if numbers[-1] < last:  # the node works on the next batch while we store this one
                    nxt = numbers[-1] + 1
                    ahead.prepare(list(range(nxt, min(nxt + batch_blocks, last + 1))))
                _store(b, source, ahead, blocks)
                n = numbers[-1] + 1
                if on_progress:
                    on_progress(n - first, last - first + 1)
    finally:
        ahead.close()
        report.node_seconds = ahead.waited
        if own:
            api.close()
        report.seconds = time.perf_counter() - started
    return report


def _store(b: _Batcher, source: TronSource, ahead: _Prefetch, blocks: list[BlockRecord]) -> None:
    builder = TronRowBuilder(b.book, b.assets)
    new = sorted({c for x in blocks for c in x.token_contracts()} - b.assets.known_set())
    for info in ahead.timed(source.token_info, new) if new else []:
        b.assets.add(info)
    builder.add_all(blocks)
    meta: dict[str, Any] = {"evm_source": "tron-http", "evm_tracer": "tron"}
    b.commit(blocks, builder, meta)
