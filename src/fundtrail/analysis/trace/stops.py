"""Where a trace stops: the statuses of the kernels, clusters, CoinJoins.

A trace never walks *through* a service (an exchange, a payment processor, or a deposit
cluster swept into one: see ``analysis.attribution``): money that reaches one has been
cashed out (forward) or came out of it (backward), and expanding an exchange's
supercluster would make the trace useless and slow.
"""

from __future__ import annotations

import numpy as np

from fundtrail.chainstore.store import ChainStore

# statuses in the kernels' arrays (int8); STOP: a service ended the walk
NONE, PASSED, HELD, STOP, LIMIT, COINJOIN, BURNED = 0, 1, 2, 3, 4, 5, 6
CASH_OUT = STOP
# the endpoint kind of each ending status, by direction (see ``result``)
ENDINGS = (STOP, HELD, LIMIT, COINJOIN)
KIND_NAMES = {
    "forward": {STOP: "cash-out", HELD: "held", LIMIT: "limit", COINJOIN: "coinjoin"},
    "backward": {STOP: "source", HELD: "origin", LIMIT: "limit", COINJOIN: "coinjoin"},
}


def read_clusters(store: ChainStore, n_addresses: int) -> np.ndarray:
    """cluster id per address id, as ``cluster.service.cluster_of`` gives it.

    Cluster ids are union-find roots (an address id of the cluster); an address without
    a row (ingested after the last clustering) is its own singleton, with its own id.
    """
    table = store.read_table("clusters", ["address_id", "cluster_id"])
    out = np.arange(n_addresses, dtype=np.int64)
    if table.num_rows == 0:
        return out
    addr = table.column("address_id").to_numpy()
    cid = table.column("cluster_id").to_numpy()
    keep = (addr >= 0) & (addr < n_addresses)
    out[addr[keep]] = cid[keep]
    return out


def read_coinjoins(store: ChainStore) -> np.ndarray | None:
    """tx_ids the CoinJoin detector marked, or None when it has not run on this store."""
    if "coinjoin" not in store.schemas or not store.parts("coinjoin"):
        return None
    table = store.read_table("coinjoin", ["tx_id", "is_coinjoin"])
    mask = table.column("is_coinjoin").fill_null(False).to_numpy(zero_copy_only=False)
    return np.asarray(table.column("tx_id").to_numpy()[mask], dtype=np.int64)


def equal_output_coinjoins(
    out_ptr: np.ndarray, out_val: np.ndarray, n_inputs: np.ndarray, min_equal: int = 3
) -> np.ndarray:
    """A minimal CoinJoin shape test, used only when the detector's table is absent.

    A tx is a CoinJoin when at least ``min_equal`` of its outputs share one value and it has
    at least as many inputs: the equal-output shape of Wasabi, Whirlpool and JoinMarket.
    Returns a bool per tx position.
    """
    n_tx = len(out_ptr) - 1
    counts = np.diff(out_ptr)
    tx_of = np.repeat(np.arange(n_tx, dtype=np.int64), counts)
    order = np.lexsort((out_val, tx_of))
    key_tx, key_val = tx_of[order], out_val[order]
    if len(order) == 0:
        return np.zeros(n_tx, dtype=bool)
    new_run = np.ones(len(order), dtype=bool)
    new_run[1:] = (key_tx[1:] != key_tx[:-1]) | (key_val[1:] != key_val[:-1])
    starts = np.flatnonzero(new_run)
    run_len = np.diff(np.append(starts, len(order)))
    best = np.zeros(n_tx, dtype=np.int64)
    np.maximum.at(best, key_tx[starts], run_len)
    return (best >= min_equal) & (n_inputs >= best)
