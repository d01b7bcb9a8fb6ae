"""Hand-written UTXO chains for clustering tests, written straight into a ChainStore.

``Tx(inputs=[(addr, value)], outputs=[(addr, value)])``: inputs name the address and
value they spend (resolved as ingest does); each tx gets the next tx_id and block height.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa

from fundtrail.chainstore.store import ChainStore
from fundtrail.model.encoding import b58check_encode, segwit_encode


def addr(name: str, kind: str = "p2pkh") -> str:
    """A valid mainnet address derived from a name (p2pkh, p2sh or p2wpkh)."""
    h = hashlib.sha256(name.encode()).digest()[:20]
    if kind == "p2wpkh":
        return segwit_encode("bc", 0, h)
    return b58check_encode((b"\x05" if kind == "p2sh" else b"\x00") + h)


def kind_of(address: str) -> str:
    if address.startswith("bc1"):
        return "p2wpkh"
    return "p2sh" if address.startswith("3") else "p2pkh"


@dataclass
class Tx:
    inputs: list[tuple[str, int]] = field(default_factory=list)
    outputs: list[tuple[str, int]] = field(default_factory=list)


def write_chain(
    home: Path, txs: list[Tx], *, start_tx: int = 0, store: ChainStore | None = None
) -> ChainStore:
    """Append ``txs`` (one per block) to the BTC store of ``home``; returns the store."""
    store = store or ChainStore("BTC", home)
    existing = store.read_table("addresses", ["address_id", "address"])
    ids = dict(
        zip(
            existing.column("address").to_pylist(),
            existing.column("address_id").to_pylist(),
            strict=True,
        )
    )
    new_addr: list[tuple[int, str, str, int]] = []
    rows: dict[str, list[dict]] = {k: [] for k in ("blocks", "txs", "outputs", "inputs")}

    def aid(a: str, height: int) -> int:
        if a not in ids:
            ids[a] = len(ids)
            new_addr.append((ids[a], a, kind_of(a), height))
        return ids[a]

    for k, tx in enumerate(txs):
        tx_id = start_tx + k
        h = tx_id
        txid = hashlib.sha256(f"tx{tx_id}".encode()).hexdigest()
        rows["blocks"].append(
            dict(
                height=h,
                hash=f"{h:064x}",
                prev_hash=f"{max(h - 1, 0):064x}",
                time=1_600_000_000 + 600 * h,
                bits=0,
                tx_count=1,
                size=0,
                first_tx_id=tx_id,
            )
        )
        fee = sum(v for _, v in tx.inputs) - sum(v for _, v in tx.outputs) if tx.inputs else 0
        rows["txs"].append(
            dict(
                tx_id=tx_id,
                txid=txid,
                height=h,
                time=1_600_000_000 + 600 * h,
                fee=fee,
                is_coinbase=not tx.inputs,
                size=0,
                vsize=0,
                n_inputs=len(tx.inputs),
                n_outputs=len(tx.outputs),
                version=2,
                locktime=0,
            )
        )
        for n, (a, v) in enumerate(tx.outputs):
            rows["outputs"].append(
                dict(
                    tx_id=tx_id,
                    n=n,
                    address_id=aid(a, h),
                    value=v,
                    script_type=kind_of(a),
                    height=h,
                )
            )
        for n, (a, v) in enumerate(tx.inputs):
            rows["inputs"].append(
                dict(
                    tx_id=tx_id,
                    n=n,
                    spent_tx_id=-1,
                    spent_n=0,
                    address_id=aid(a, h),
                    value=v,
                    height=h,
                    sequence=0,
                )
            )
    addresses = pa.table(
        {
            "address_id": [r[0] for r in new_addr],
            "address": [r[1] for r in new_addr],
            "script_type": [r[2] for r in new_addr],
            "first_seen": [r[3] for r in new_addr],
        }
    )
    tables = {"addresses": addresses}
    for name, items in rows.items():
        schema = store.schemas[name]
        tables[name] = pa.Table.from_pylist(items, schema=schema)
    with store.writer() as w:
        w.commit(tables)
    return store
