"""Parsed blocks to chain-store rows: dense tx ids, address ids, inputs resolved in bulk.

Inputs spending outputs of the same batch are resolved from an in-memory outpoint map;
the rest are resolved once per batch with one DuckDB join over the stored ``txs`` and
``outputs`` tables (never one query per input). An input whose spent output is not in
the store (a chain that does not start at genesis) keeps ``spent_tx_id`` -1, no address
and value 0, and its tx's fee is left null rather than guessed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from fundtrail.chains.bitcoin.bulk import classify_many
from fundtrail.chains.bitcoin.parse import Block
from fundtrail.chains.bitcoin.script import Classified
from fundtrail.chainstore import AddressBook, ChainStore
from fundtrail.chainstore.schema import NO_ADDRESS, UTXO_SCHEMAS

SCRIPT_CACHE_MAX = 2_000_000


@dataclass(slots=True)
class BatchResult:
    tables: dict[str, pa.Table]
    blocks: int
    txs: int
    unresolved: int


class BatchBuilder:
    """Accumulates rows for one atomic commit; ``finish()`` resolves inputs and builds tables."""

    def __init__(self, store: ChainStore, book: AddressBook, next_tx_id: int) -> None:
        self.store = store
        self.book = book
        self.next_tx_id = next_tx_id
        self.scripts: dict[bytes, tuple[int, str]] = {}
        self.raw_bytes = 0
        self._reset()

    def _reset(self) -> None:
        self.first_tx_id = self.next_tx_id
        self.raw_bytes = 0
        self.b: dict[str, list] = {k: [] for k in UTXO_SCHEMAS["blocks"].names}
        self.t: dict[str, list] = {k: [] for k in UTXO_SCHEMAS["txs"].names if k != "fee"}
        self.out_sum: list[int] = []
        self.o: dict[str, list] = {k: [] for k in UTXO_SCHEMAS["outputs"].names}
        self.i: dict[str, list] = {k: [] for k in UTXO_SCHEMAS["inputs"].names}
        # txid (internal order) -> (tx_id, row of its first output in this batch, outputs)
        self.txmap: dict[bytes, tuple[int, int, int]] = {}
        self.misses: list[tuple[int, bytes, int]] = []  # (input row, prev hash, prev n)

    def __len__(self) -> int:
        return len(self.b["height"])

    def forget_addresses_from(self, first_id: int) -> None:
        """After a rollback: cached scripts may point at address ids that no longer exist."""
        self.scripts = {s: v for s, v in self.scripts.items() if v[0] < first_id}

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
        t, o, i = self.t, self.o, self.i
        o_tx, o_n, o_aid, o_val, o_type = (
            o["tx_id"],
            o["n"],
            o["address_id"],
            o["value"],
            o["script_type"],
        )
        i_tx, i_n, i_stx, i_sn, i_aid, i_val, i_seq = (
            i["tx_id"],
            i["n"],
            i["spent_tx_id"],
            i["spent_n"],
            i["address_id"],
            i["value"],
            i["sequence"],
        )
        txmap, misses = self.txmap, self.misses
        txs = block.txs
        first, n_txs = self.next_tx_id, len(txs)
        self.next_tx_id += n_txs
        tx_ids = range(first, first + n_txs)
        coinbase = [tx.is_coinbase for tx in txs]
        t["tx_id"].extend(tx_ids)
        t["txid"].extend([tx.txid for tx in txs])
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
        out_rows = len(o_val)
        for tx_id, tx in zip(tx_ids, txs, strict=True):
            outs = tx.outputs
            m = len(outs)
            txmap[tx.hash] = (tx_id, len(o_val), m)
            o_tx.extend([tx_id] * m)
            o_n.extend(range(m))
            values = [v for v, _ in outs]
            o_val.extend(values)
            self.out_sum.append(sum(values))
        hits = self._script_ids([s for tx in txs for _, s in tx.outputs], height, classes)
        o_aid.extend([x[0] for x in hits])
        o_type.extend([x[1] for x in hits])
        o["height"].extend([height] * (len(o_val) - out_rows))
        in_rows = len(i_tx)
        for tx_id, tx, cb in zip(tx_ids, txs, coinbase, strict=True):
            if cb:
                continue
            ins = tx.inputs
            m = len(ins)
            i_tx.extend([tx_id] * m)
            i_n.extend(range(m))
            i_sn.extend([x[1] for x in ins])
            i_seq.extend([x[3] for x in ins])
            for prev, index, _, _ in ins:
                rec = txmap.get(prev)
                if rec is None or index >= rec[2]:
                    misses.append((len(i_stx), prev, index))
                    i_stx.append(-1)
                    i_aid.append(NO_ADDRESS)
                    i_val.append(0)
                else:
                    row = rec[1] + index
                    i_stx.append(rec[0])
                    i_aid.append(o_aid[row])
                    i_val.append(o_val[row])
        i["height"].extend([height] * (len(i_tx) - in_rows))

    def _script_ids(
        self, block_scripts: list[bytes], height: int, classes: list[Classified] | None
    ) -> list[tuple[int, str]]:
        """(address id, script type) of each output script of one block, in order.

        Scripts not cached are classified together (base58 in bulk), and get address ids
        in order of first appearance: the same ids as classifying one output at a time.
        """
        scripts = self.scripts
        if len(scripts) + len(block_scripts) > SCRIPT_CACHE_MAX:
            scripts.clear()
        new = [s for s in block_scripts if s not in scripts]
        if new:
            if classes is None:
                new = list(dict.fromkeys(new))
                found = classify_many(new)
            else:
                known = dict(zip(block_scripts, classes, strict=True))
                new = list(dict.fromkeys(new))
                found = [known[s] for s in new]
            types = [c[0] for c in found]
            aids = self.book.ids_for([c[1] for c in found], types, height)
            scripts.update(zip(new, zip(aids, types, strict=True), strict=True))
        return [scripts[s] for s in block_scripts]

    def finish(self) -> BatchResult:
        """Resolve the inputs this batch could not, compute fees, build the Arrow tables."""
        unresolved = self._resolve_misses()
        n_tx = self.next_tx_id - self.first_tx_id
        in_sum = np.zeros(n_tx, dtype=np.int64)
        tx_ids = np.asarray(self.i["tx_id"], dtype=np.int64) - self.first_tx_id
        np.add.at(in_sum, tx_ids, np.asarray(self.i["value"], dtype=np.int64))
        fee = in_sum - np.asarray(self.out_sum, dtype=np.int64)
        coinbase = np.asarray(self.t["is_coinbase"], dtype=bool)
        fee[coinbase] = 0
        unknown = np.zeros(n_tx, dtype=bool)
        if unresolved:
            bad = np.asarray(self.i["spent_tx_id"], dtype=np.int64) < 0
            unknown[tx_ids[bad]] = True
        tables = {
            "blocks": pa.table(self.b, schema=UTXO_SCHEMAS["blocks"]),
            "txs": pa.table({**self.t, "fee": pa.array(fee, pa.int64(), mask=unknown)}).select(
                UTXO_SCHEMAS["txs"].names
            ),
            "outputs": pa.table(self.o, schema=UTXO_SCHEMAS["outputs"]),
            "inputs": pa.table(self.i, schema=UTXO_SCHEMAS["inputs"]),
            "addresses": self.book.take_new(),
        }
        result = BatchResult(tables, len(self), n_tx, unresolved)
        self._reset()
        return result

    def _resolve_misses(self) -> int:
        if not self.misses:
            return 0
        rows, prevs, ns = zip(*self.misses, strict=True)
        wanted = pa.table(
            {
                "row": pa.array(rows, pa.int64()),
                "txid": pa.array([p[::-1].hex() for p in prevs], pa.string()),
                "n": pa.array(ns, pa.int32()),
            }
        )
        con = self.store.connect()
        try:
            con.register("wanted", wanted)
            found = con.sql(
                """
                SELECT w.row, t.tx_id, o.address_id, o.value
                FROM wanted w
                JOIN txs t ON t.txid = w.txid
                JOIN outputs o ON o.tx_id = t.tx_id AND o.n = w.n
                QUALIFY row_number() OVER (PARTITION BY w.row ORDER BY t.tx_id DESC) = 1
                """
            ).fetchnumpy()
        finally:
            con.close()
        stx, aid, val = self.i["spent_tx_id"], self.i["address_id"], self.i["value"]
        for row, tx_id, a, v in zip(
            found["row"].tolist(),
            found["tx_id"].tolist(),
            found["address_id"].tolist(),
            found["value"].tolist(),
            strict=True,
        ):
            stx[row], aid[row], val[row] = tx_id, a, v
        self.misses = []
        return len(rows) - len(found["row"])
