"""CoinJoin detection by transaction shape, so that multi_input never merges strangers.

In a CoinJoin, several people sign one transaction; "all inputs share an owner" is false
there, and a single missed CoinJoin can fuse thousands of wallets into one cluster.
The detector looks at the shape every coordinator leaves (equal-value outputs, participant
counts, fixed denominations) and decides per transaction; the decision is stored in the
``coinjoin`` table so a user can see why a transaction was skipped.

Shapes (values in satoshi):

- ``whirlpool`` (Samourai): exactly 5 inputs and 5 outputs, every output one of the fixed
  pool sizes 0.001 / 0.01 / 0.05 / 0.5 BTC, every input at least the pool size and at most
  a mining fee above it.
- ``wasabi2`` (WabiSabi): at least half the outputs in Wasabi's standard denominations
  (powers of 2 and 3, 1-2-5 series), 5 or more input addresses, and either 20 or more
  inputs with two equal-value groups or 10 or more outputs with three; or, whatever the
  denominations, 10+ input addresses and 20+ outputs in five or more equal-value groups.
  (ZeroLink wins over it when there are at most four equal-value groups.)
- ``wasabi1`` (ZeroLink): 10 or more equal outputs near the 0.1 BTC base denomination
  (or its doublings), from at least a third as many input addresses (one participant
  may mix several levels).
- ``joinmarket``: k >= 3 equal outputs to distinct addresses, at least k distinct input
  addresses, and a change output for (almost) every participant: 2k - 1 <= n_out <= 2k + 1.
  (A payroll, k equal payments plus one change, is not a JoinMarket round.)
- ``generic``: 10 or more equal outputs from at least 5 distinct input addresses, and
  either at least half as many input addresses as equal outputs or three or more other
  outputs (several participants taking change back: one whale may register most of the
  equal outputs, as WabiSabi allows, so the input addresses can be far fewer than the
  equal outputs), none of the above: an equal-output mix of an unknown coordinator. A
  batch payout of equal amounts has one change output.
- ``whirlpool_tx0`` is recorded but is *not* a CoinJoin: a Whirlpool premix splits one
  wallet's coins into equal outputs of pool size plus the mix fee, with only the
  coordinator fee and change beside them. Its inputs have one owner.

False positives only cost recall (a tx is not used for merging); false negatives cost
precision, so the rules err towards "CoinJoin".
"""

from __future__ import annotations

from enum import StrEnum

import duckdb
import numpy as np
import pyarrow as pa

WHIRLPOOL_POOLS = (100_000, 1_000_000, 5_000_000, 50_000_000)
WHIRLPOOL_MAX_FEE = 1_000_000  # premix inputs carry the mining fee above the pool size
TX0_MAX_MARGIN = 100_000  # a premix output is the pool size plus the mix's mining fee
NOT_COINJOIN = ("", "whirlpool_tx0")
WASABI1_BASE = 10_000_000  # 0.1 BTC
MIN_WASABI2_INPUTS = 20
MIN_EQUAL_GENERIC = 10
MIN_CHANGES_GENERIC = 3  # other outputs beside the equal ones: several participants' change
MIN_EQUAL_JOINMARKET = 3  # taker + at least two makers; two equal outputs are common payments


class Kind(StrEnum):
    NONE = ""
    WHIRLPOOL = "whirlpool"
    WASABI1 = "wasabi1"
    WASABI2 = "wasabi2"
    JOINMARKET = "joinmarket"
    GENERIC = "generic"
    TX0 = "whirlpool_tx0"  # a Whirlpool premix: one owner, so *not* a CoinJoin


def wasabi2_denominations() -> np.ndarray:
    """Wasabi 2.0's standard output denominations from 5,000 sat to 1,000 BTC."""
    values: set[int] = set()
    for base in (2, 3):
        v = 1
        while v <= 10**11:
            values.update({v, 2 * v} if base == 3 else {v})
            v *= base
    for k in range(12):
        values.update({10**k, 2 * 10**k, 5 * 10**k})
    return np.array(sorted(v for v in values if 5_000 <= v <= 10**11), dtype=np.int64)


_FEATURES = """
WITH ins AS (
    SELECT tx_id, count(*) AS n_in, count(DISTINCT address_id) AS n_in_addr,
           min(value) AS min_in, max(value) AS max_in
    FROM inputs WHERE tx_id > {after}
    GROUP BY tx_id HAVING count(*) >= 2
), outs AS (
    SELECT o.tx_id, o.value, count(*) AS c, count(DISTINCT o.address_id) AS c_addr,
           bool_or(list_contains($denoms, o.value)) AS std
    FROM outputs o SEMI JOIN ins ON o.tx_id = ins.tx_id
    WHERE o.tx_id > {after} AND o.value > 0
    GROUP BY o.tx_id, o.value
), agg AS (
    -- ties in the count go to the larger value: arg_max(value, c) alone picked one at
    -- random (by scan order), so the same tx could be a premix in one run and not another
    SELECT tx_id, sum(c) AS n_out, max(c) AS max_eq, arg_max(value, (c, value)) AS eq_value,
           arg_max(c_addr, (c, value)) AS eq_addr,
           count(*) FILTER (WHERE c >= 2) AS n_groups,
           coalesce(sum(c) FILTER (WHERE std), 0) AS n_std
    FROM outs GROUP BY tx_id
)
SELECT ins.tx_id, n_in, n_in_addr, min_in, max_in,
       coalesce(n_out, 0) AS n_out, coalesce(max_eq, 0) AS max_eq,
       coalesce(eq_value, 0) AS eq_value, coalesce(eq_addr, 0) AS eq_addr,
       coalesce(n_groups, 0) AS n_groups, coalesce(n_std, 0) AS n_std
FROM ins LEFT JOIN agg USING (tx_id)
ORDER BY ins.tx_id
"""


def classify(f: dict[str, np.ndarray]) -> np.ndarray:
    """Kind of each tx from its shape features (arrays of equal length); "" = not a CoinJoin."""
    n_in, n_in_addr = f["n_in"], f["n_in_addr"]
    n_out, k, v = f["n_out"], f["max_eq"], f["eq_value"]
    kind = np.full(n_in.shape[0], Kind.NONE.value, dtype=object)
    distinct_eq = f["eq_addr"] == k  # equal outputs go to distinct addresses
    is_pool = np.isin(v, np.array(WHIRLPOOL_POOLS))
    whirl = (
        (n_in == 5)
        & (n_out == 5)
        & (k == 5)
        & is_pool
        & distinct_eq
        & (f["min_in"] >= v)
        & (f["max_in"] <= v + WHIRLPOOL_MAX_FEE)
    )
    groups = f["n_groups"]
    wasabi2 = (
        (n_in_addr >= 5)
        & (f["n_std"] * 2 >= n_out)
        & (k >= 2)
        & (((n_in >= MIN_WASABI2_INPUTS) & (groups >= 2)) | ((groups >= 3) & (n_out >= 10)))
    ) | ((n_in_addr >= 10) & (groups >= 5) & (n_out >= 20))  # many denominations, any set
    ratio = np.where(v > 0, v / WASABI1_BASE, 0.0)
    level = np.exp2(np.round(np.log2(np.where(ratio > 0, ratio, 1.0))))
    near_level = (ratio > 0) & (np.abs(ratio / level - 1.0) <= 0.15) & (level >= 1) & (level <= 8)
    # one participant may mix several 0.1 BTC levels: fewer inputs than equal outputs is normal
    wasabi1 = (
        (k >= 10)
        & (n_in_addr >= 5)
        & (n_in_addr * 3 >= k)
        & near_level
        & distinct_eq
        & (f["n_groups"] <= 4)
    )
    # every maker takes change back: a payroll (k equal payments + one change) is not one
    joinmarket = (
        (k >= MIN_EQUAL_JOINMARKET)
        & (n_in_addr >= k)
        & (n_out >= 2 * k - 1)
        & (n_out <= 2 * k + 1)
        & distinct_eq
    )
    many_owners = (n_in_addr * 2 >= k) | (n_out - k >= MIN_CHANGES_GENERIC)
    generic = (k >= MIN_EQUAL_GENERIC) & (n_in_addr >= 5) & many_owners & distinct_eq
    premix = np.zeros(v.shape[0], dtype=np.bool_)
    for pool in WHIRLPOOL_POOLS:
        premix |= (v > pool) & (v <= pool + TX0_MAX_MARGIN)
    tx0 = premix & (n_out - k <= 2) & (k <= 70)  # + coordinator fee and change only
    # first match wins: most specific shape first
    for mask, name in (
        (generic, Kind.GENERIC),
        (joinmarket, Kind.JOINMARKET),
        (tx0 & ~generic, Kind.TX0),
        (wasabi2, Kind.WASABI2),
        (wasabi1, Kind.WASABI1),
        (whirl, Kind.WHIRLPOOL),
    ):
        kind[mask] = name.value
    return kind


def detect(con: duckdb.DuckDBPyConnection, after_tx: int = -1) -> pa.Table:
    """The ``coinjoin`` rows (tx_id, is_coinjoin, kind) for every tx with >= 2 inputs.

    ``con`` has the chain store's views; only txs with ``tx_id > after_tx`` are looked at
    (incremental runs).
    """
    sql = _FEATURES.format(after=int(after_tx))
    rel = con.sql(sql, params={"denoms": wasabi2_denominations().tolist()}).to_arrow_table()
    feats = {name: rel.column(name).to_numpy(zero_copy_only=False) for name in rel.column_names}
    kinds = classify(feats) if rel.num_rows else np.zeros(0, dtype=object)
    return pa.table(
        {
            "tx_id": pa.array(feats["tx_id"] if rel.num_rows else [], pa.int64()),
            "is_coinjoin": pa.array(~np.isin(kinds, NOT_COINJOIN), pa.bool_()),
            "kind": pa.array(kinds.tolist(), pa.string()),
        }
    )
