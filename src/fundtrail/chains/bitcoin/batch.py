"""Parsed blocks to chain-store rows: dense tx ids, address ids, inputs resolved in bulk.

``add()`` only collects a block's fields; ``finish()`` does the work for the whole batch
at once, against disk-backed maps whose cost does not grow with the chain: address ids
(:class:`~fundtrail.chainstore.AddressBook`, new ones in order of first appearance) and
the outputs each input spends (:class:`~fundtrail.chainstore.outpoints.OutpointMap`,
which already holds this batch's own outputs when inputs are resolved). An input whose
spent output is not in the store (a chain that does not start at genesis) keeps
``spent_tx_id`` -1, no address and value 0, and its tx's fee is left null rather than
guessed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from fundtrail.chains.bitcoin.bulk import classify_many
from fundtrail.chains.bitcoin.parse import Block
from fundtrail.chains.bitcoin.script import MAINNET_FORMAT, AddressFormat, Classified
from fundtrail.chainstore import AddressBook, ChainStore
from fundtrail.chainstore.budget import chunk_rows
from fundtrail.chainstore.outpoints import OutpointMap
from fundtrail.chainstore.schema import UTXO_SCHEMAS

SCRIPT_CACHE_BYTES_PER_ENTRY = 200  # a script, its type and address text, dict overhead


@dataclass(slots=True)
class BatchResult:
    tables: dict[str, pa.Table]
    blocks: int
    txs: int
    unresolved: int


class BatchBuilder:
    """Accumulates rows for one atomic commit; ``finish()`` resolves ids and builds tables."""

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
        # inline classification only (workers classify themselves): reused scripts
        self.scripts: dict[bytes, Classified] = {}
        self.script_cache_max = chunk_rows(SCRIPT_CACHE_BYTES_PER_ENTRY, 0.1)
        self.raw_bytes = 0
        self._reset()

    def _reset(self) -> None:
        self.first_tx_id = self.next_tx_id
        self.raw_bytes = 0
        self.b: dict[str, list] = {k: [] for k in UTXO_SCHEMAS["blocks"].names}
        self.t: dict[str, list] = {k: [] for k in UTXO_SCHEMAS["txs"].names if k != "fee"}
        self.txid_raw: list[bytes] = []
        self.out_sum: list[int] = []
        self.o_tx: list[int] = []
        self.o_n: list[int] = []
        self.o_val: list[int] = []
        self.o_height: list[int] = []
        self.o_class: list[Classified] = []
        self.i: dict[str, list] = {k: [] for k in ("tx_id", "n", "spent_n", "height", "sequence")}
        self.i_prev: list[bytes] = []

    def __len__(self) -> int:
        return len(self.b["height"])

    def rolled_back(self, n_txs: int, n_outputs: int) -> None:
        """After a rollback commit: the outpoint map follows the store's shorter tables."""
        self.outpoints.truncate(n_txs, n_outputs)
        self.outpoints.flush()
        self.next_tx_id = self.first_tx_id = n_txs

    def add(self, block: Block, height: int, classes: list[Classified] | None = None) -> None:
        h = block.header
        b = self.b
        b["height"].append(height)
        b["hash"].append(h.block_hash)
        b["prev_hash"].append(h.prev_block_hash)
        b["time"].append(h.time)
        b["bits"].append(h.bits)
        b["tx_count"].append(len(block.txs))
        b["size"].append(block.size)
        b["first_tx_id"].append(self.next_tx_id)
        self.raw_bytes += block.size
        t, i = self.t, self.i
        txs = block.txs
        first, n_txs = self.next_tx_id, len(txs)
        self.next_tx_id += n_txs
        tx_ids = range(first, first + n_txs)
        coinbase = [tx.is_coinbase for tx in txs]
        t["tx_id"].extend(tx_ids)
        t["txid"].extend([tx.txid for tx in txs])
        self.txid_raw.extend([tx.hash for tx in txs])
        t["height"].extend([height] * n_txs)
        t["time"].extend([h.time] * n_txs)
        t["is_coinbase"].extend(coinbase)
        t["size"].extend([tx.size for tx in txs])
        t["vsize"].extend([tx.vsize for tx in txs])
        t["n_inputs"].extend(
            [0 if cb else len(tx.inputs) for tx, cb in zip(txs, coinbase, strict=True)]
        )
        t["n_outputs"].extend([len(tx.outputs) for tx in txs])
        t["version"].extend([tx.version for tx in txs])
        t["locktime"].extend([tx.locktime for tx in txs])
        out_rows = len(self.o_val)
        for tx_id, tx in zip(tx_ids, txs, strict=True):
            outs = tx.outputs
            m = len(outs)
            self.o_tx.extend([tx_id] * m)
            self.o_n.extend(range(m))
            values = [v for v, _ in outs]
            self.o_val.extend(values)
            self.out_sum.append(sum(values))
        self.o_class.extend(classes if classes is not None else self._classify(txs))
        self.o_height.extend([height] * (len(self.o_val) - out_rows))
        in_rows = len(i["tx_id"])
        for tx_id, tx, cb in zip(tx_ids, txs, coinbase, strict=True):
            if cb:
                continue
            ins = tx.inputs
            m = len(ins)
            i["tx_id"].extend([tx_id] * m)
            i["n"].extend(range(m))
            i["spent_n"].extend([x[1] for x in ins])
            i["sequence"].extend([x[3] for x in ins])
            self.i_prev.extend([x[0] for x in ins])
        i["height"].extend([height] * (len(i["tx_id"]) - in_rows))

    def _classify(self, txs: list) -> list[Classified]:
        """Classify a block's output scripts here (no workers), reusing recent results."""
        scripts = self.scripts
        block_scripts = [s for tx in txs for _, s in tx.outputs]
        if len(scripts) + len(block_scripts) > self.script_cache_max:
            scripts.clear()
        new = list(dict.fromkeys(s for s in block_scripts if s not in scripts))
        if new:
            scripts.update(zip(new, classify_many(new, self.fmt), strict=True))
        return [scripts[s] for s in block_scripts]

    def finish(self) -> BatchResult:
        """Assign address ids, resolve every input, compute fees, build the Arrow tables."""
        o_types = pa.array([c[0] for c in self.o_class], pa.string())
        o_text = pa.array([c[1] for c in self.o_class], pa.string())
        o_aid = self.book.assign(o_text, o_types, np.asarray(self.o_height, dtype=np.int64))
        o_val = np.asarray(self.o_val, dtype=np.int64)
        self.outpoints.add_batch(
            b"".join(self.txid_raw), np.asarray(self.t["n_outputs"]), o_aid, o_val
        )
        i_tx = np.asarray(self.i["tx_id"], dtype=np.int64)
        spent = self.outpoints.resolve(
            b"".join(self.i_prev), np.asarray(self.i["spent_n"], dtype=np.int64), i_tx
        )
        unresolved = spent.unresolved
        n_tx = self.next_tx_id - self.first_tx_id
        rel = i_tx - self.first_tx_id
        in_sum = np.zeros(n_tx, dtype=np.int64)
        np.add.at(in_sum, rel, spent.value)
        fee = in_sum - np.asarray(self.out_sum, dtype=np.int64)
        coinbase = np.asarray(self.t["is_coinbase"], dtype=bool)
        fee[coinbase] = 0
        unknown = np.zeros(n_tx, dtype=bool)
        if unresolved:
            unknown[rel[spent.tx_id < 0]] = True
        inputs = {
            "tx_id": i_tx,
            "n": pa.array(self.i["n"], pa.int32()),
            "spent_tx_id": spent.tx_id,
            "spent_n": pa.array(self.i["spent_n"], pa.int32()),
            "address_id": spent.address_id,
            "value": spent.value,
            "height": pa.array(self.i["height"], pa.int64()),
            "sequence": pa.array(self.i["sequence"], pa.uint32()),
        }
        outputs = {
            "tx_id": pa.array(self.o_tx, pa.int64()),
            "n": pa.array(self.o_n, pa.int32()),
            "address_id": o_aid,
            "value": o_val,
            "script_type": o_types,
            "height": pa.array(self.o_height, pa.int64()),
        }
        tables = {
            "blocks": pa.table(self.b, schema=UTXO_SCHEMAS["blocks"]),
            "txs": pa.table({**self.t, "fee": pa.array(fee, pa.int64(), mask=unknown)}).select(
                UTXO_SCHEMAS["txs"].names
            ),
            "outputs": pa.table(outputs, schema=UTXO_SCHEMAS["outputs"]),
            "inputs": pa.table(inputs, schema=UTXO_SCHEMAS["inputs"]),
            "addresses": self.book.take_new(),
        }
        self.outpoints.flush()
        result = BatchResult(tables, len(self), n_tx, unresolved)
        self._reset()
        return result
