"""Blocks' columns to chain-store rows: dense tx ids, address ids, inputs resolved in bulk.

``add()`` only keeps a block's columns (:mod:`.columns`); ``finish()`` does the work for
the whole batch at once, with whole-array operations, against disk-backed maps whose cost
does not grow with the chain: address ids (:class:`~fundtrail.chainstore.AddressBook`,
new ones in order of first appearance) and the outputs each input spends
(:class:`~fundtrail.chainstore.outpoints.OutpointMap`, which already holds this batch's
own outputs when inputs are resolved). An input whose spent output is not in the store
(a chain that does not start at genesis) keeps ``spent_tx_id`` -1, no address and value
0, and its tx's fee is left null rather than guessed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from fundtrail.chains.bitcoin.columns import BlockColumns
from fundtrail.chains.bitcoin.script import MAINNET_FORMAT, AddressFormat
from fundtrail.chainstore import AddressBook, ChainStore
from fundtrail.chainstore.outpoints import OutpointMap, Spent
from fundtrail.chainstore.schema import UTXO_SCHEMAS


@dataclass(slots=True)
class BatchResult:
    """A batch whose ids are assigned and inputs resolved; :meth:`tables` builds its rows.

    Why two steps: the ids must be assigned one batch after another, in the ingest's main
    thread, but the Arrow tables are a pure function of what that step found. Building
    them (fees, ranks, display txids, a dozen column copies) was a fifth of the main
    thread's work; the committer thread now does it while the next batch is resolved."""

    blocks: int
    txs: int
    unresolved: int
    block_rows: dict[str, list]
    cols: list[BlockColumns]
    first_tx_id: int
    height: np.ndarray  # per tx
    n_in: np.ndarray
    n_out: np.ndarray
    coinbase: np.ndarray
    txid_raw: bytes
    o_val: np.ndarray
    o_types: pa.Array
    o_aid: np.ndarray
    spent_n: np.ndarray
    spent: Spent
    addresses: pa.Table
    durable: list[Callable[[], None]]  # fsync/msync of the maps: run before the commit

    def make_durable(self) -> None:
        """Wait until the maps' rows of this batch are on disk (the commit may only name
        ids the maps hold durably)."""
        for sync in self.durable:
            sync()

    def tables(self) -> dict[str, pa.Table]:
        """The batch's rows of blocks, txs, outputs, inputs and new addresses."""
        cols, n_tx = self.cols, self.txs
        tx_id = np.arange(self.first_tx_id, self.first_tx_id + n_tx, dtype=np.int64)
        per_block = np.array([c.n_txs for c in cols], dtype=np.int64)
        when = np.repeat(np.asarray(self.block_rows["time"], dtype=np.int64), per_block)
        o_rel = np.repeat(np.arange(n_tx), self.n_out)
        i_rel = np.repeat(np.arange(n_tx), self.n_in)
        spent, height = self.spent, self.height
        out_sum = np.zeros(n_tx, dtype=np.int64)
        np.add.at(out_sum, o_rel, self.o_val)
        in_sum = np.zeros(n_tx, dtype=np.int64)
        np.add.at(in_sum, i_rel, spent.value)
        fee = in_sum - out_sum
        fee[self.coinbase] = 0
        unknown = np.zeros(n_tx, dtype=bool)
        if self.unresolved:
            unknown[i_rel[spent.tx_id < 0]] = True
        inputs = {
            "tx_id": tx_id[i_rel],
            "n": pa.array(_ranks(self.n_in), pa.int32()),
            "spent_tx_id": spent.tx_id,
            "spent_n": pa.array(self.spent_n, pa.int32()),
            "address_id": spent.address_id,
            "value": spent.value,
            "height": height[i_rel],
            "sequence": pa.array(_cat([c.in_sequence for c in cols]), pa.uint32()),
        }
        outputs = {
            "tx_id": tx_id[o_rel],
            "n": pa.array(_ranks(self.n_out), pa.int32()),
            "address_id": self.o_aid,
            "value": self.o_val,
            "script_type": self.o_types,
            "height": height[o_rel],
        }
        txs = {
            "tx_id": tx_id,
            "txid": _display_hex(self.txid_raw, n_tx),
            "height": height,
            "time": when,
            "fee": pa.array(fee, pa.int64(), mask=unknown),
            "is_coinbase": self.coinbase,
            "size": pa.array(_cat([c.tx_size for c in cols]), pa.int32()),
            "vsize": pa.array(_cat([c.tx_vsize for c in cols]), pa.int32()),
            "n_inputs": pa.array(self.n_in, pa.int32()),
            "n_outputs": pa.array(self.n_out, pa.int32()),
            "version": pa.array(_cat([c.version for c in cols]), pa.int32()),
            "locktime": pa.array(_cat([c.locktime for c in cols]), pa.uint32()),
        }
        return {
            "blocks": pa.table(self.block_rows, schema=UTXO_SCHEMAS["blocks"]),
            "txs": pa.table(txs, schema=UTXO_SCHEMAS["txs"]),
            "outputs": pa.table(outputs, schema=UTXO_SCHEMAS["outputs"]),
            "inputs": pa.table(inputs, schema=UTXO_SCHEMAS["inputs"]),
            "addresses": self.addresses,
        }


class BatchBuilder:
    """Accumulates blocks' columns for one atomic commit; ``finish()`` resolves ids and
    builds the tables with whole-array operations (no per-row Python work)."""

    def __init__(
        self,
        store: ChainStore,
        book: AddressBook,
        next_tx_id: int,
        fmt: AddressFormat = MAINNET_FORMAT,
    ) -> None:
        self.store = store
        self.fmt = fmt
        self.book = book
        self.outpoints = OutpointMap(store)
        self.next_tx_id = next_tx_id
        self.raw_bytes = 0
        self._reset()

    def _reset(self) -> None:
        self.first_tx_id = self.next_tx_id
        self.raw_bytes = 0
        self.b: dict[str, list] = {k: [] for k in UTXO_SCHEMAS["blocks"].names}
        self.cols: list[BlockColumns] = []

    def __len__(self) -> int:
        return len(self.b["height"])

    def rolled_back(self, n_txs: int, n_outputs: int) -> None:
        """After a rollback commit: the outpoint map follows the store's shorter tables."""
        self.outpoints.truncate(n_txs, n_outputs)
        self.outpoints.flush()
        self.next_tx_id = self.first_tx_id = n_txs

    def add(self, block: BlockColumns, height: int) -> None:
        h = block.header
        b = self.b
        b["height"].append(height)
        b["hash"].append(h.block_hash)
        b["prev_hash"].append(h.prev_block_hash)
        b["time"].append(h.time)
        b["bits"].append(h.bits)
        b["tx_count"].append(block.n_txs)
        b["size"].append(block.size)
        b["first_tx_id"].append(self.next_tx_id)
        self.raw_bytes += block.size
        self.next_tx_id += block.n_txs
        self.cols.append(block)

    def finish(self) -> BatchResult:
        """Assign address ids and resolve every input against the maps; the result makes
        the maps durable (:meth:`BatchResult.make_durable`, before the commit) and builds
        the Arrow tables (:meth:`BatchResult.tables`), in any thread."""
        cols = self.cols
        n_tx = self.next_tx_id - self.first_tx_id
        tx_id = np.arange(self.first_tx_id, self.next_tx_id, dtype=np.int64)
        per_block = np.array([c.n_txs for c in cols], dtype=np.int64)
        height = np.repeat(np.asarray(self.b["height"], dtype=np.int64), per_block)
        n_in = _cat([c.n_inputs for c in cols])
        n_out = _cat([c.n_outputs for c in cols])
        txid_raw = b"".join([c.txid for c in cols])
        # outputs
        o_val = _cat([c.out_value for c in cols])
        o_types = pa.concat_arrays([c.out_type for c in cols])
        o_text = pa.concat_arrays([c.out_address for c in cols])
        o_aid = self.book.assign(o_text, o_types, np.repeat(height, n_out))
        self.outpoints.add_batch(txid_raw, n_out, o_aid, o_val)
        # inputs: what each one spends
        spent_n = _cat([c.in_index for c in cols])
        spender = np.repeat(tx_id, n_in)
        spent = self.outpoints.resolve(b"".join([c.in_prev for c in cols]), spent_n, spender)
        durable: list[Callable[[], None]] = []
        addresses = self.book.take_new(durable)
        self.outpoints.flush(durable)
        result = BatchResult(
            blocks=len(self),
            txs=n_tx,
            unresolved=spent.unresolved,
            block_rows=self.b,
            cols=cols,
            first_tx_id=self.first_tx_id,
            height=height,
            n_in=n_in,
            n_out=n_out,
            coinbase=np.concatenate([c.coinbase for c in cols]),
            txid_raw=txid_raw,
            o_val=o_val,
            o_types=o_types,
            o_aid=o_aid,
            spent_n=spent_n,
            spent=spent,
            addresses=addresses,
            durable=durable,
        )
        self._reset()
        return result


def _cat(parts: list[np.ndarray]) -> np.ndarray:
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)


def _ranks(counts: np.ndarray) -> np.ndarray:
    """0, 1, .., k-1 for each group of size k, back to back: an input's or output's n."""
    total = int(counts.sum())
    starts = np.zeros(len(counts), dtype=np.int64)
    np.cumsum(counts[:-1], out=starts[1:])
    return np.arange(total, dtype=np.int64) - np.repeat(starts, counts)


def _display_hex(raw: bytes, n: int) -> pa.Array:
    """Display hex (byte-reversed) of ``n`` 32-byte hashes, as an Arrow string array."""
    flipped = np.frombuffer(raw, dtype=np.uint8).reshape(n, 32)[:, ::-1].tobytes()
    data = flipped.hex().encode("ascii")
    offsets = np.arange(0, 64 * n + 1, 64, dtype=np.int32)
    return pa.Array.from_buffers(
        pa.string(), n, [None, pa.py_buffer(offsets.tobytes()), pa.py_buffer(data)]
    )
