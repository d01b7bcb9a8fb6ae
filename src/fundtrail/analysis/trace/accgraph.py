"""Compact arrays of an account chain's transfers for balance-based tracing.

Transfers are put in chain order (block, tx index, then native value before internal
calls before token logs) and numbered by *position*. ``hist_ptr``/``hist_pos`` list, per
address, the positions of every transfer it sent or received, in order, so a trace can
replay one address's balance of one asset without touching the rest of the chain.
Values are Python ints (wei exceed 64 bits).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field, replace
from decimal import Decimal

import duckdb
import numpy as np
import pyarrow as pa

from fundtrail.analysis.attribution.entity import Entity
from fundtrail.analysis.trace.graph import open_tables
from fundtrail.analysis.trace.stops import read_clusters
from fundtrail.chains import pseudo
from fundtrail.chainstore.store import ChainStore
from fundtrail.model.assets import result_name

SINK_KINDS = frozenset({"fee", "burn"})  # value leaves circulation: reported as fee
SOURCE_KINDS = frozenset({"reward", "genesis"})  # value enters circulation: an origin
_CACHE: dict[tuple[str, int], AccountGraph] = {}
_LOCK = threading.Lock()


@dataclass
class AccountGraph:
    frm: np.ndarray
    to: np.ndarray
    asset: np.ndarray
    time: np.ndarray
    log_index: np.ndarray
    kind: list[str]
    tx_hash: pa.Array
    values: list[int]
    hist_ptr: np.ndarray
    hist_pos: np.ndarray
    addr_cluster: np.ndarray
    addr_stop: np.ndarray  # set per trace from the attribution (``with_stops``)
    assets: dict[int, str] = field(default_factory=dict)
    addr_deposit: np.ndarray | None = None  # a service's customer deposit address (``with_stops``)
    # the protocol ledgers that end a trace though no tag names them (``chains.pseudo``:
    # TRON's Bancor pools ``tron-dex:N`` and order book, services by construction; the
    # shielded pool, a privacy pool); ``with_stops`` always adds them
    protocol_pools: np.ndarray | None = None
    protocol: dict[int, pseudo.ProtocolLedger] = field(default_factory=dict)  # id -> ledger

    def history(self, address: int) -> np.ndarray:
        if address < 0 or address + 1 >= len(self.hist_ptr):
            return np.zeros(0, dtype=np.int64)
        return self.hist_pos[self.hist_ptr[address] : self.hist_ptr[address + 1]]

    def txid(self, pos: int) -> str:
        return str(self.tx_hash[pos].as_py())

    def cluster(self, address: int) -> int:
        return int(self.addr_cluster[address]) if 0 <= address < len(self.addr_cluster) else -1

    def with_stops(
        self, addr_stop: np.ndarray, addr_deposit: np.ndarray | None = None
    ) -> AccountGraph:
        """This graph with the stop (and deposit) masks of one attribution (arrays shared).

        The protocol's own venues are stops whatever the attribution says: every walk over
        this graph (trace, campaign linking, screening exposure) gets them from here."""
        if self.protocol_pools is not None and len(self.protocol_pools) == len(addr_stop):
            addr_stop = addr_stop | self.protocol_pools
        return replace(self, addr_stop=addr_stop, addr_deposit=addr_deposit)

    def protocol_entity(self, address: int) -> Entity | None:
        """What a trace shows for a protocol ledger that ends it (no tag names it)."""
        ledger = self.protocol.get(address)
        if ledger is None or not ledger.stop:
            return None
        return Entity(self.cluster(address), ledger.label, str(ledger.category),
                      f"protocol: {ledger.about}", 100, "protocol")  # fmt: skip

    def is_deposit(self, address: int) -> bool:
        """Attributed as a service's deposit address (``deposit_address``): money entering
        it is a cash-out there, though it pays outside its own cluster (into the service)."""
        d = self.addr_deposit
        return d is not None and 0 <= address < len(d) and bool(d[address])

    def is_stop(self, address: int) -> bool:
        return 0 <= address < len(self.addr_stop) and bool(self.addr_stop[address])


def account_graph(store: ChainStore) -> AccountGraph:
    store.refresh()
    key = (str(store.root), store.version)
    with _LOCK:
        if key not in _CACHE:
            _CACHE.clear()
            _CACHE[key] = build_account_graph(store)
        return _CACHE[key]


def _value(v: object, text: object) -> int:
    if v is not None:
        return int(v) if isinstance(v, (int, Decimal)) else int(str(v))
    return int(str(text)) if text else 0


def build_account_graph(store: ChainStore) -> AccountGraph:
    con = open_tables(store, ("transfers", "assets", "addresses"))
    try:
        t = con.sql(
            "SELECT tx_hash, time, log_index, from_id, to_id, asset_id, value, value_text, kind "
            "FROM transfers ORDER BY block, tx_index, "
            "CASE kind WHEN 'native' THEN 0 WHEN 'internal' THEN 1 WHEN 'token' THEN 2 ELSE 3 END, "
            "trace_index, log_index"
        ).to_arrow_table()
        assets = con.execute("SELECT asset_id, contract, symbol FROM assets").fetchall()
        ledgers = protocol_ledgers(con)
        n_addr = con.execute("SELECT coalesce(max(address_id), -1) + 1 FROM addresses").fetchall()[
            0
        ]
    finally:
        con.close()
    frm = np.asarray(t.column("from_id").to_numpy(zero_copy_only=False), dtype=np.int64)
    to = np.asarray(t.column("to_id").to_numpy(zero_copy_only=False), dtype=np.int64)
    values = [
        _value(v, x)
        for v, x in zip(
            t.column("value").to_pylist(), t.column("value_text").to_pylist(), strict=True
        )
    ]
    n_addresses = max(
        int((n_addr or (0,))[0] or 0), int(max(frm.max(initial=-1), to.max(initial=-1))) + 1, 1
    )
    # per-address history: each transfer appears under its sender and its receiver
    pos = np.arange(len(frm), dtype=np.int64)
    who = np.concatenate([frm, to])
    at = np.concatenate([pos, pos])
    keep = who >= 0
    who, at = who[keep], at[keep]
    order = np.lexsort((at, who))
    who, at = who[order], at[order]
    dup = np.zeros(len(at), dtype=bool)
    dup[1:] = (who[1:] == who[:-1]) & (at[1:] == at[:-1])  # self-transfer listed once
    who, at = who[~dup], at[~dup]
    hist_ptr = np.zeros(n_addresses + 1, dtype=np.int64)
    np.cumsum(np.bincount(who, minlength=n_addresses), out=hist_ptr[1:])
    addr_cluster = read_clusters(store, n_addresses)
    code = store.chain.code
    names = {0: result_name(code, None, None)}
    for aid, contract, symbol in assets:  # model.assets decides; a copy-cat keeps its contract
        if contract:
            names[int(aid)] = result_name(code, str(contract), symbol)
        elif int(aid) != 0:
            names[int(aid)] = f"asset-{aid}"
    return AccountGraph(
        frm=frm,
        to=to,
        asset=np.asarray(t.column("asset_id").to_numpy(zero_copy_only=False), dtype=np.int64),
        time=np.asarray(t.column("time").to_numpy(zero_copy_only=False), dtype=np.int64),
        log_index=np.asarray(t.column("log_index").to_numpy(zero_copy_only=False), dtype=np.int64),
        kind=[str(k) for k in t.column("kind").to_pylist()],
        tx_hash=t.column("tx_hash").combine_chunks(),
        values=values,
        hist_ptr=hist_ptr,
        hist_pos=at,
        addr_cluster=addr_cluster,
        addr_stop=np.zeros(len(addr_cluster), dtype=bool),
        assets=names,
        protocol_pools=np.isin(
            np.arange(len(addr_cluster)), [a for a, p in ledgers.items() if p.stop]
        ),
        protocol=ledgers,
    )


def protocol_ledgers(con: duckdb.DuckDBPyConnection) -> dict[int, pseudo.ProtocolLedger]:
    """address id -> protocol ledger, for the store's pseudo-addresses (a handful)."""
    rows = con.execute("SELECT address_id, address FROM addresses WHERE script_type = 'pseudo'")
    found = ((int(a), pseudo.describe(str(text))) for a, text in rows.fetchall())
    return {a: p for a, p in found if p is not None}
