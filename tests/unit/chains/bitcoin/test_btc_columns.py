"""A block's columns (what parser workers send back) hold exactly the parsed block's rows."""

from __future__ import annotations

import bz2
import pickle
from pathlib import Path

import numpy as np

from fundtrail.chains.bitcoin.columns import block_columns
from fundtrail.chains.bitcoin.parse import parse_block
from fundtrail.chains.bitcoin.script import classify

DATA = Path(__file__).resolve().parents[3] / "data/bitcoin"


def test_real_block_columns_match_its_transactions_and_survive_pickling() -> None:
    block = parse_block(bz2.decompress((DATA / "574200.blk.bz2").read_bytes()))
    cols = pickle.loads(pickle.dumps(block_columns(block), protocol=pickle.HIGHEST_PROTOCOL))
    txs = block.txs
    assert cols.n_txs == len(txs) and cols.header == block.header
    assert cols.txid == b"".join(tx.hash for tx in txs)
    assert cols.coinbase.tolist() == [tx.is_coinbase for tx in txs]
    assert cols.coinbase.sum() == 1
    assert cols.tx_vsize.tolist() == [tx.vsize for tx in txs]
    assert cols.n_inputs.tolist() == [0 if tx.is_coinbase else len(tx.inputs) for tx in txs]
    outs = [o for tx in txs for o in tx.outputs]
    assert cols.out_value.tolist() == [v for v, _ in outs]
    assert list(zip(cols.out_type.to_pylist(), cols.out_address.to_pylist(), strict=True)) == [
        classify(s) for _, s in outs
    ]
    ins = [x for tx in txs if not tx.is_coinbase for x in tx.inputs]
    assert cols.in_prev == b"".join(x[0] for x in ins)
    assert np.array_equal(cols.in_index, [x[1] for x in ins])
    assert np.array_equal(cols.in_sequence, [x[3] for x in ins])
