"""Tiny hand-written chain stores for complaint checks (no ingest needed).

BTC: two txs. tx A pays 50_000 sat to ADDR1 (output 0) and 7_000 to ADDR2 (output 1);
tx B pays 120_000 sat to ADDR1 (output 0).
ETH: tx C moves 1 ETH natively to EADDR1 and 2_500_000 USDT units (log index 4) to EADDR2.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa

from fundtrail.chainstore.store import ChainStore
from fundtrail.model.encoding import b58check_encode, segwit_encode

ADDR1 = segwit_encode("bc", 0, bytes(range(20)))
ADDR2 = b58check_encode(b"\x00" + bytes(range(1, 21)))
ADDR3 = segwit_encode("bc", 1, bytes(range(32)))
TXA = "aa" * 32
TXB = "bb" * 32
TXC = "0x" + "cc" * 32
EADDR1 = "0x" + "11" * 20
EADDR2 = "0x" + "22" * 20
USDT = "0x" + "dd" * 20
T0 = 1_700_000_000


def build_btc(home: Path) -> None:
    store = ChainStore("BTC", home)
    s = store.schemas
    with store.writer() as w:
        w.commit(
            {
                "txs": pa.table(
                    {
                        "tx_id": [0, 1],
                        "txid": [TXA, TXB],
                        "height": [10, 11],
                        "time": [T0, T0 + 600],
                        "fee": [100, 100],
                        "is_coinbase": [False, False],
                        "size": [200, 200],
                        "vsize": [150, 150],
                        "n_inputs": [1, 1],
                        "n_outputs": [2, 1],
                        "version": [2, 2],
                        "locktime": [0, 0],
                    },
                    schema=s["txs"],
                ),
                "outputs": pa.table(
                    {
                        "tx_id": [0, 0, 1],
                        "n": [0, 1, 0],
                        "address_id": [0, 1, 0],
                        "value": [50_000, 7_000, 120_000],
                        "script_type": ["p2wpkh", "p2pkh", "p2wpkh"],
                        "height": [10, 10, 11],
                    },
                    schema=s["outputs"],
                ),
                "addresses": pa.table(
                    {
                        "address_id": [0, 1, 2],
                        "address": [ADDR1, ADDR2, ADDR3],
                        "script_type": ["p2wpkh", "p2pkh", "p2tr"],
                        "first_seen": [10, 10, 10],
                    },
                    schema=s["addresses"],
                ),
            }
        )


def build_eth(home: Path) -> None:
    store = ChainStore("ETH", home)
    s = store.schemas
    with store.writer() as w:
        w.commit(
            {
                "transfers": pa.table(
                    {
                        "tx_hash": [TXC, TXC],
                        "block": [5, 5],
                        "time": [T0, T0],
                        "tx_index": [0, 0],
                        "log_index": [-1, 4],
                        "trace_index": [-1, -1],
                        "from_id": [2, 2],
                        "to_id": [0, 1],
                        "asset_id": [0, 1],
                        "value": pa.array([10**18, 2_500_000], pa.decimal128(38, 0)),
                        "value_text": [None, None],
                        "kind": ["native", "token"],
                    },
                    schema=s["transfers"],
                ),
                "assets": pa.table(
                    {
                        "asset_id": [0, 1],
                        "contract": [None, USDT],
                        "symbol": [None, "USDT"],
                        "decimals": [18, 6],
                    },
                    schema=s["assets"],
                ),
                "addresses": pa.table(
                    {
                        "address_id": [0, 1, 2],
                        "address": [EADDR1, EADDR2, "0x" + "33" * 20],
                        "script_type": ["evm"] * 3,
                        "first_seen": [5, 5, 5],
                    },
                    schema=s["addresses"],
                ),
            }
        )
