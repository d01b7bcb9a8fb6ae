"""Hand-written chains for tests, examples and docs: write a few txs straight into a store.

    chain = UtxoChain()
    chain.tx("c0", [], [("victim", 1000)])                    # coinbase
    chain.tx("pay", [("c0", 0)], [("scam1", 900), ("victim", 90)])
    chain.cluster("scam", ["scam1", "scam2"])
    chain.entity("scam", "Binance", "exchange")   # a tag in the workspace's tag store
    store = chain.commit(home)

Labels become real, checksummed addresses (P2WPKH on Bitcoin, EIP-55 on EVM) derived
from the label, and txids the sha256 of the tx label, so a test can name them.
Input values are resolved from the outputs they spend, as real ingest does.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa

from fundtrail.chainstore.schema import NO_ADDRESS
from fundtrail.chainstore.store import ChainStore
from fundtrail.chainstore.tags import Tag, TagStore, tags_table
from fundtrail.model.encoding import segwit_encode
from fundtrail.model.txids import parse_txid


def txid_of(label: str) -> str:
    return hashlib.sha256(label.encode()).hexdigest()


def btc_address(label: str) -> str:
    return segwit_encode("bc", 0, hashlib.sha256(b"addr:" + label.encode()).digest()[:20])


def evm_address(label: str) -> str:
    return "0x" + hashlib.sha256(b"evm:" + label.encode()).hexdigest()[:40]


@dataclass
class _Labels:
    """Address labels -> dense ids, cluster and entity declarations (shared by both models)."""

    ids: dict[str, int] = field(default_factory=dict)
    clusters: dict[str, list[str]] = field(default_factory=dict)
    entities: dict[str, tuple[str, str]] = field(default_factory=dict)

    def id(self, label: str | None) -> int:
        if label is None:
            return NO_ADDRESS
        return self.ids.setdefault(label, len(self.ids))

    def derived(self) -> dict[str, pa.Table]:
        """clusters (declared ones; every other address is a singleton)."""
        addr, cid, heur = [], [], []
        for name, members in self.clusters.items():
            for label in members:
                addr.append(self.id(label))
                cid.append(self.cluster_id(name))
                heur.append("multi_input")
        return {"clusters": pa.table({"address_id": addr, "cluster_id": cid, "heuristic": heur})}

    def write_tags(self, chain: str, address: Callable[[str], str], home: Path | None) -> None:
        """Entities are attribution, read from the tag store: one tag per declared entity,
        on its cluster's first member (replacing this chain's earlier test tags)."""
        rows = [
            Tag(chain, address(self.clusters[c][0]), label, category, "test", 100,
                tagpack=f"testing:{chain}")
            for c, (label, category) in self.entities.items()
        ]  # fmt: skip
        TagStore(home).replace(f"testing:{chain}", tags_table(rows))

    def cluster_id(self, name: str) -> int:
        """Like union-find: a cluster is named by its first member's address id."""
        return self.id(self.clusters[name][0])


class UtxoChain:
    """A Bitcoin chain written tx by tx; one tx per block, times 1000, 2000, ..."""

    def __init__(self) -> None:
        self.labels = _Labels()
        self.txs: list[tuple[str, list[tuple[str, int]], list[tuple[str | None, int]]]] = []
        self.coinjoins: set[str] = set()

    def tx(
        self, label: str, inputs: list[tuple[str, int]], outputs: list[tuple[str | None, int]]
    ) -> str:
        """Add a tx spending (tx label, vout) pairs into (address label, value) outputs."""
        self.txs.append((label, inputs, outputs))
        for address, _ in outputs:
            self.labels.id(address)
        return txid_of(label)

    def cluster(self, name: str, members: list[str]) -> None:
        self.labels.clusters[name] = members

    def entity(self, cluster: str, label: str, category: str) -> None:
        self.labels.entities[cluster] = (label, category)

    def address(self, label: str) -> str:
        return btc_address(label)

    def tables(self) -> dict[str, pa.Table]:
        index = {label: i for i, (label, _, _) in enumerate(self.txs)}
        outs: dict[tuple[str, int], tuple[int, int]] = {}
        cols: dict[str, dict[str, list[object]]] = {
            t: {} for t in ("txs", "outputs", "inputs", "blocks", "addresses")
        }

        def add(table: str, **row: object) -> None:
            for k, v in row.items():
                cols[table].setdefault(k, []).append(v)

        for i, (label, inputs, outputs) in enumerate(self.txs):
            t = 1000 * (i + 1)
            for n, (address, value) in enumerate(outputs):
                aid = self.labels.id(address)
                outs[(label, n)] = (aid, value)
                add(
                    "outputs",
                    tx_id=i,
                    n=n,
                    address_id=aid,
                    value=value,
                    script_type="p2wpkh" if address else "nulldata",
                    height=i,
                )
            total_in = 0
            for n, (src, vout) in enumerate(inputs):
                aid, value = outs[(src, vout)]
                total_in += value
                add(
                    "inputs",
                    tx_id=i,
                    n=n,
                    spent_tx_id=index[src],
                    spent_n=vout,
                    address_id=aid,
                    value=value,
                    height=i,
                    sequence=0xFFFFFFFF,
                )
            total_out = sum(v for _, v in outputs)
            add(
                "txs",
                tx_id=i,
                txid=txid_of(label),
                height=i,
                time=t,
                fee=max(total_in - total_out, 0) if inputs else 0,
                is_coinbase=not inputs,
                size=200,
                vsize=150,
                n_inputs=len(inputs),
                n_outputs=len(outputs),
                version=2,
                locktime=0,
            )
            add(
                "blocks",
                height=i,
                hash=txid_of(f"block{i}"),
                prev_hash=txid_of(f"block{i - 1}"),
                time=t,
                bits=0,
                tx_count=1,
                size=300,
                first_tx_id=i,
            )
        for label, aid in self.labels.ids.items():
            add(
                "addresses",
                address_id=aid,
                address=btc_address(label),
                script_type="p2wpkh",
                first_seen=0,
            )
        tables = {k: pa.table(v) for k, v in cols.items() if v}
        tables.update(self.labels.derived())
        if self.coinjoins:
            tables["coinjoin"] = pa.table(
                {
                    "tx_id": [index[c] for c in sorted(self.coinjoins)],
                    "is_coinjoin": [True] * len(self.coinjoins),
                    "kind": ["wasabi2"] * len(self.coinjoins),
                }
            )
        return tables

    def commit(self, home: Path | None = None, chain: str = "BTC") -> ChainStore:
        store = ChainStore(chain, home)
        with store.writer() as w:
            w.commit(self.tables())
        self.labels.write_tags(store.chain.code, btc_address, home)
        return store


class AccountChain:
    """An EVM chain written transfer by transfer; one tx per block, times 1000, 2000, ..."""

    def __init__(self) -> None:
        self.labels = _Labels()
        self.rows: list[dict[str, object]] = []
        self.assets: dict[str, int] = {"ETH": 0}

    def transfer(
        self,
        label: str,
        frm: str | None,
        to: str | None,
        value: int,
        *,
        asset: str = "ETH",
        kind: str | None = None,
        log_index: int = -1,
    ) -> str:
        """Add one transfer in its own tx (``label`` names the tx; reuse it for one tx)."""
        asset_id = self.assets.setdefault(asset, len(self.assets))
        known = [r for r in self.rows if r["label"] == label]
        block = int(known[0]["block"]) if known else len(self.rows) + 1  # type: ignore[call-overload]
        kind = kind or ("native" if asset_id == 0 else "token")
        if kind == "token" and log_index < 0:
            log_index = len(known)
        self.rows.append(
            {
                "label": label,
                "block": block,
                "time": 1000 * block,
                "from_id": self.labels.id(frm),
                "to_id": self.labels.id(to),
                "asset_id": asset_id,
                "value": value,
                "kind": kind,
                "log_index": log_index,
                "trace_index": -1 if kind != "internal" else len(known),
            }
        )
        return "0x" + txid_of(label)

    def cluster(self, name: str, members: list[str]) -> None:
        self.labels.clusters[name] = members

    def entity(self, cluster: str, label: str, category: str) -> None:
        self.labels.entities[cluster] = (label, category)

    def address(self, label: str) -> str:
        return evm_address(label)

    def tables(self, chain: str = "ETH") -> dict[str, pa.Table]:
        """The store's tables; tx keys as ``chain`` stores them (0x on EVM, bare on TRON)."""
        rows = self.rows
        transfers = pa.table(
            {
                "tx_hash": [parse_txid(txid_of(str(r["label"])), chain) for r in rows],
                "block": [r["block"] for r in rows],
                "time": [r["time"] for r in rows],
                "tx_index": [0] * len(rows),
                "log_index": [r["log_index"] for r in rows],
                "trace_index": [r["trace_index"] for r in rows],
                "from_id": [r["from_id"] for r in rows],
                "to_id": [r["to_id"] for r in rows],
                "asset_id": [r["asset_id"] for r in rows],
                "value": pa.array([r["value"] for r in rows], pa.decimal128(38, 0)),
                "value_text": [None] * len(rows),
                "kind": [r["kind"] for r in rows],
            }
        )
        assets = pa.table(
            {
                "asset_id": list(self.assets.values()),
                "contract": [
                    None if a == "ETH" else evm_address("token:" + a) for a in self.assets
                ],
                "symbol": list(self.assets),
                "decimals": [18 if a == "ETH" else 6 for a in self.assets],
            }
        )
        addresses = pa.table(
            {
                "address_id": list(self.labels.ids.values()),
                "address": [evm_address(k) for k in self.labels.ids],
                "script_type": ["evm"] * len(self.labels.ids),
                "first_seen": [0] * len(self.labels.ids),
            }
        )
        return {
            "transfers": transfers,
            "assets": assets,
            "addresses": addresses,
            **self.labels.derived(),
        }

    def commit(self, home: Path | None = None, chain: str = "ETH") -> ChainStore:
        store = ChainStore(chain, home)
        with store.writer() as w:
            w.commit(self.tables(chain))
        self.labels.write_tags(store.chain.code, evm_address, home)
        return store
