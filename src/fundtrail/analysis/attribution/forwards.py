"""Services recognised by what they do on an account chain (EVM, TRON), at read time.

``fundtrail cluster`` records every *forwarder*: an address that forwards (almost) all it
receives, soon, to one address (``counterparties`` rows, relation ``forwards``; see
``analysis.cluster.heuristics.deposit_address``). That record does not depend on any
tag. Which forwarders are deposit addresses is decided here, against the services known
*now*, so tags or intel imported after clustering count on the next read:

* ``deposit_address`` (Victor 2020): a forwarder into an exchange's own wallet (attributed
  directly with category ``exchange``, or recognised as a hot wallet below) is that
  exchange's customer deposit address (not a DEX pool's: swapping everything at a pool
  is forwarding too, to a service without deposit addresses): money entering it is a
  cash-out at that exchange, at that address.
* ``hot_wallet``: an unattributed address that receives the forwards of many distinct
  forwarders (``MIN_DEPOSITS_IN``) and pays many distinct others (``MIN_PAYEES``:
  customers' withdrawals, one by one or batched: a call to a disperse contract paying
  many customers in one tx counts each of them as paid by the caller), most of them not
  services or their deposits (``CUSTOMER_SHARE``), and whose payees are shown to be
  customers by either of two signs: some of them also paid into its forwarders
  (``MIN_ROUND_TRIPS``: people both withdraw from and deposit at an exchange), or a good
  part of them (``INDEPENDENT_SHARE``) have lives of their own: each is paid by at least
  ``OTHER_PAYERS`` other clusters too (other exchanges, people, the customer's other
  wallets). That behaves as a custodial service's hot wallet with deposit addresses.
  The guards are there for a gang's consolidation address, which is fed the same way
  (every ransom address forwards all to it) but pays fresh hop addresses of its own:
  none of them pays its ransom addresses, and each is fed by the gang alone (the
  consolidation, at most also the gang's gas wallet: one other payer). A small exchange
  seen over a short stretch of chain may show few round trips (2 of 82 payees in a
  5,000-tx simulated world) while half its payees are paid by others too; a gang's hop
  addresses show neither.

Both are evidence, not testimony: the confidence stays below a direct attribution and
each row names the tx that shows it (the forward, or one forward into the hot wallet).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from fundtrail.chainstore.store import ChainStore

MIN_DEPOSITS_IN = 5  # distinct forwarders into a hot wallet
MIN_PAYEES = 20  # distinct others a hot wallet has paid
MIN_ROUND_TRIPS = 3  # of them, customers who also paid one of its forwarders
INDEPENDENT_SHARE = 0.25  # or: this share of its payees paid by OTHER_PAYERS others too
OTHER_PAYERS = 2  # a gang's hop address: its consolidation and at most its gas wallet
CUSTOMER_SHARE = 0.5  # of its payees, at least this share not services or their deposits
HOT_WALLET_CONFIDENCE = 40
FORWARDS = "forwards"
_FLOWS = "kind IN ('native', 'internal', 'token') AND from_id >= 0 AND to_id >= 0"


@dataclass(frozen=True, slots=True)
class Forwards:
    """The stored forwarders, as cluster ids (rows whose two ends share a cluster dropped)."""

    address: np.ndarray  # forwarder address id
    target: np.ndarray  # the address it forwards to
    cluster: np.ndarray  # the forwarder's cluster
    target_cluster: np.ndarray
    tx_hash: list[str | None]
    share: np.ndarray


@dataclass(frozen=True, slots=True)
class Found:
    hot: np.ndarray  # clusters recognised as hot wallets
    hot_tx: list[str | None]  # one forward into each
    deposit: np.ndarray  # row index into Forwards of each deposit address found


def read_forwards(store: ChainStore, cluster: np.ndarray) -> Forwards:
    t = store.read_table("counterparties")
    if "share" not in t.column_names or not t.num_rows:
        z = np.zeros(0, dtype=np.int64)
        return Forwards(z, z, z, z, [], np.zeros(0))
    t = t.filter(pc.equal(t.column("relation"), FORWARDS))
    a = t.column("address_id").to_numpy().astype(np.int64)
    b = t.column("counterparty_id").to_numpy().astype(np.int64)
    n = len(cluster)
    ok = (a < n) & (b < n)
    ca = np.where(ok, cluster[np.minimum(a, n - 1)], -1)
    cb = np.where(ok, cluster[np.minimum(b, n - 1)], -1)
    keep = np.flatnonzero(ok & (ca != cb))
    hashes = t.column("tx_hash").to_pylist()
    return Forwards(a[keep], b[keep], ca[keep], cb[keep], [hashes[i] for i in keep],
                    t.column("share").to_numpy(zero_copy_only=False)[keep])  # fmt: skip


def find(
    store: ChainStore,
    cluster: np.ndarray,
    fw: Forwards,
    services: np.ndarray,
    attributed: np.ndarray,
    exchanges: np.ndarray,
) -> Found:
    """Hot wallets, then the deposit addresses of every exchange (attributed or hot).

    ``services``: clusters directly attributed to a service (not its deposits);
    ``attributed``: every directly attributed cluster (its own attribution wins);
    ``exchanges``: the services that keep customers' deposit addresses (category
    ``exchange``). Other services are left out on purpose: a user who swaps all they
    receive at a DEX pool forwards all of it to one service too, and is nobody's deposit.
    """
    hot, hot_tx = _hot_wallets(store, cluster, fw, services, attributed)
    wallets = np.union1d(exchanges, hot)
    dep = np.flatnonzero(np.isin(fw.target_cluster, wallets) & ~np.isin(fw.cluster, attributed)
                         & ~np.isin(fw.cluster, hot))  # fmt: skip
    return Found(hot, hot_tx, dep)


def _hot_wallets(
    store: ChainStore,
    cluster: np.ndarray,
    fw: Forwards,
    services: np.ndarray,
    attributed: np.ndarray,
) -> tuple[np.ndarray, list[str | None]]:
    if not len(fw.cluster):
        return np.zeros(0, dtype=np.int64), []
    pairs = np.unique(np.stack([fw.target_cluster, fw.cluster]), axis=1)
    targets, n_in = np.unique(pairs[0], return_counts=True)
    cand = targets[n_in >= MIN_DEPOSITS_IN]
    cand = np.setdiff1d(cand, np.union1d(attributed, fw.cluster))  # a forwarder is no wallet
    if not len(cand):
        return cand, []
    serviceish = np.union1d(
        np.union1d(services, cand),
        fw.cluster[np.isin(fw.target_cluster, np.union1d(services, cand))],
    )
    con = store.connect()
    try:
        con.register("cl", pa.table({"address_id": np.arange(len(cluster), dtype=np.int64),
                                     "cluster_id": cluster}))  # fmt: skip
        con.register("cand", pa.table({"c": cand}))
        con.register("svc", pa.table({"c": serviceish}))
        con.register("fwd", pa.table({"f": fw.cluster, "t": fw.target_cluster}))
        rows = con.sql(f"""
            WITH paid AS (
                SELECT DISTINCT a.cluster_id AS payer, b.cluster_id AS payee
                FROM transfers t JOIN cl a ON a.address_id = t.from_id
                JOIN cl b ON b.address_id = t.to_id
                WHERE {_FLOWS} AND t.value > 0 AND a.cluster_id <> b.cluster_id
                  AND a.cluster_id IN (SELECT c FROM cand)
                UNION  -- a batch: the contract it calls pays every customer of the tx
                SELECT DISTINCT a.cluster_id AS payer, b.cluster_id AS payee
                FROM transfers n JOIN cl a ON a.address_id = n.from_id
                JOIN transfers i ON i.tx_hash = n.tx_hash AND i.from_id = n.to_id
                JOIN cl b ON b.address_id = i.to_id
                WHERE n.kind = 'native' AND i.kind = 'internal' AND i.value > 0
                  AND i.to_id >= 0 AND a.cluster_id <> b.cluster_id
                  AND a.cluster_id IN (SELECT c FROM cand)
            ), customers AS (  -- who paid into each candidate's forwarders
                SELECT DISTINCT f.t AS wallet, a.cluster_id AS customer
                FROM transfers t JOIN cl a ON a.address_id = t.from_id
                JOIN cl b ON b.address_id = t.to_id JOIN fwd f ON f.f = b.cluster_id
                WHERE {_FLOWS} AND t.value > 0 AND f.t IN (SELECT c FROM cand)
            ), payers AS (  -- how many clusters paid each payee
                SELECT b.cluster_id AS payee, count(DISTINCT a.cluster_id) AS n
                FROM transfers t JOIN cl a ON a.address_id = t.from_id
                JOIN cl b ON b.address_id = t.to_id
                WHERE {_FLOWS} AND t.value > 0 AND a.cluster_id <> b.cluster_id
                  AND b.cluster_id IN (SELECT payee FROM paid)
                GROUP BY b.cluster_id
            )
            SELECT p.payer, count(*) AS payees,
                   count(*) FILTER (WHERE p.payee NOT IN (SELECT c FROM svc)) AS customers,
                   count(c.customer) AS round_trips,
                   count(*) FILTER (WHERE s.n > {OTHER_PAYERS}) AS independent
            FROM paid p LEFT JOIN customers c ON c.wallet = p.payer AND c.customer = p.payee
            LEFT JOIN payers s ON s.payee = p.payee
            GROUP BY p.payer ORDER BY p.payer
        """).fetchall()  # fmt: skip
    finally:
        con.close()
    hot = np.array(
        [int(c) for c, n, cust, rt, indep in rows
         if n >= MIN_PAYEES and cust >= CUSTOMER_SHARE * n
         and (rt >= MIN_ROUND_TRIPS or indep >= INDEPENDENT_SHARE * n)],
        dtype=np.int64,
    )  # fmt: skip
    first: dict[int, str | None] = {}
    for i in np.argsort(fw.address, kind="stable").tolist():
        c = int(fw.target_cluster[i])
        if c not in first:
            first[c] = fw.tx_hash[i]
    return hot, [first.get(int(c)) for c in hot.tolist()]


def deposit_confidence(service_confidence: int) -> int:
    from fundtrail.analysis.attribution.behaviour import deposit_confidence as below

    return below(service_confidence)
