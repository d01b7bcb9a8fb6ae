"""One checked block as columns: what the ingest's main process needs, and nothing more.

Why: with parser worker processes, sending whole parsed blocks back (a Python tuple per
input and output) cost the main process as much to unpickle, and then to walk into
per-row lists, as the workers spent parsing; ingest on 2 cores was barely faster than
on one. A :class:`BlockColumns` is a few numpy arrays, two Arrow string arrays and two
byte strings: it pickles as buffers, and the batch concatenates them without touching a
row. The same function prepares blocks inline (no workers), so both paths give the same
rows by construction.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from fundtrail.chains.bitcoin.bulk import classify_many
from fundtrail.chains.bitcoin.parse import Block, BlockHeader
from fundtrail.chains.bitcoin.script import MAINNET_FORMAT, AddressFormat

_COINBASE_PREV = b"\0" * 32
_COINBASE_INDEX = 0xFFFFFFFF


@dataclass(slots=True)
class BlockColumns:
    """A block's transactions, outputs and (non-coinbase) inputs as columns, in order."""

    header: BlockHeader
    size: int
    txid: bytes  # 32 bytes per tx, internal order
    tx_size: np.ndarray  # int64 per tx
    tx_vsize: np.ndarray
    version: np.ndarray
    locktime: np.ndarray
    coinbase: np.ndarray  # bool per tx
    n_inputs: np.ndarray  # per tx, 0 for the coinbase
    n_outputs: np.ndarray
    out_value: np.ndarray  # int64 per output
    out_type: pa.Array  # script type per output
    out_address: pa.Array  # address text per output, null when none
    in_prev: bytes  # 32 bytes per input: the txid it spends (internal order)
    in_index: np.ndarray  # int64 per input: the output index it spends
    in_sequence: np.ndarray

    @property
    def n_txs(self) -> int:
        return len(self.coinbase)


def block_columns(block: Block, fmt: AddressFormat = MAINNET_FORMAT) -> BlockColumns:
    """Columns of a parsed (and checked) block, its output scripts classified in bulk."""
    txs = block.txs
    coinbase = [
        len(tx.inputs) == 1
        and tx.inputs[0][1] == _COINBASE_INDEX
        and tx.inputs[0][0] == _COINBASE_PREV
        for tx in txs
    ]
    scripts = [s for tx in txs for _, s in tx.outputs]
    classes = classify_many(scripts, fmt)
    ins = [x for tx, cb in zip(txs, coinbase, strict=True) if not cb for x in tx.inputs]
    return BlockColumns(
        header=block.header,
        size=block.size,
        txid=b"".join([tx.hash for tx in txs]),
        tx_size=np.array([tx.size for tx in txs], dtype=np.int64),
        tx_vsize=np.array([(tx.base_size * 3 + tx.size + 3) // 4 for tx in txs], np.int64),
        version=np.array([tx.version for tx in txs], dtype=np.int64),
        locktime=np.array([tx.locktime for tx in txs], dtype=np.int64),
        coinbase=np.array(coinbase, dtype=bool),
        n_inputs=np.array(
            [0 if cb else len(tx.inputs) for tx, cb in zip(txs, coinbase, strict=True)],
            dtype=np.int64,
        ),
        n_outputs=np.array([len(tx.outputs) for tx in txs], dtype=np.int64),
        out_value=np.array([v for tx in txs for v, _ in tx.outputs], dtype=np.int64),
        out_type=pa.array([c[0] for c in classes], pa.string()),
        out_address=pa.array([c[1] for c in classes], pa.string()),
        in_prev=b"".join([x[0] for x in ins]),
        in_index=np.array([x[1] for x in ins], dtype=np.int64),
        in_sequence=np.array([x[3] for x in ins], dtype=np.int64),
    )
