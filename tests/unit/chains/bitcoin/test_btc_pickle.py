"""Parsed blocks survive pickling (how parser worker processes send them back) unchanged."""

from __future__ import annotations

import bz2
import pickle
from pathlib import Path

from fundtrail.chains.bitcoin.parse import parse_block

DATA = Path(__file__).resolve().parents[3] / "data/bitcoin"


def test_block_pickle_round_trip() -> None:
    block = parse_block(bz2.decompress((DATA / "574200.blk.bz2").read_bytes()))
    back = pickle.loads(pickle.dumps(block, protocol=pickle.HIGHEST_PROTOCOL))
    assert back == block
    assert back.txs[5].txid == block.txs[5].txid and back.header.hash == block.header.hash
    assert any(tx.witnesses for tx in back.txs)
