"""Clustering heuristics, each under its literature name, each producing evidence edges.

An edge (a, b, tx) says "the heuristic believes a and b have one owner because of tx".
Union-find turns edges into clusters; the edges that actually joined two clusters are
kept as the answer to ``cluster why``.

- ``multi_input`` (common-input ownership; Meiklejohn et al. 2013): all inputs of a
  transaction are spent by one wallet. Skips CoinJoins (see ``coinjoin``).
- ``change_address`` (Meiklejohn et al. 2013; Nick 2015 "optimal change"): the one output
  that is a fresh address, of the inputs' script type, with a non-round amount, smaller
  than every input; only where *every* output is a fresh address (Meiklejohn's guard: a
  reused output, an input address or an older one of the wallet, may well be the change,
  and then the fresh output is the payment). Off by default: it is the heuristic that
  errs most.
- ``deposit_address`` (Victor 2020, account chains): an address that forwards (almost)
  all it receives, within a short window, to one exchange hot wallet is that exchange's
  deposit address. Receipts after its last forward are money still waiting for the next
  sweep when the first of them is at most the window older than the chain's last
  transfer (a reused deposit address with a customer's fresh deposit pending is still
  one); an address that forwarded once and has kept what came in since is not.
  Which addresses are exchanges is knowledge that changes (tags, intel,
  behaviour), so clustering records only the tag-independent half: every *forwarder*
  (address -> the one address it forwards to, its forwarding share, the forwarding tx)
  as a ``counterparties`` row. Nothing is merged: "forwards everything to one address"
  also describes a victim paying a scammer. Attribution (``analysis.attribution``)
  decides at read time which forwarders feed a service and names them its deposits.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import numpy as np
import pyarrow as pa
from numpy.typing import NDArray

from fundtrail.chains.ledger import Ledger
from fundtrail.chainstore.csr import CSR
from fundtrail.errors import InvalidInputError

IntArray = NDArray[np.int64]

# the heuristics implemented here; which of them apply to a chain is its ledger's
# (``Ledger.heuristics``, ``Ledger.default_heuristics``)
UTXO_HEURISTICS = ("multi_input", "change_address")
ACCOUNT_HEURISTICS = ("deposit_address",)

ROUND_UNIT = 10_000  # an amount that is a multiple of 0.0001 BTC looks typed by a person
DEPOSIT_FORWARD_SHARE = 0.95  # "almost all" of what a deposit address receives
DEPOSIT_WINDOW_S = 3 * 86_400  # forwarded within three days of the last receipt


@dataclass(frozen=True)
class Edges:
    """Evidence edges of one heuristic."""

    heuristic: str
    a: IntArray
    b: IntArray
    tx_id: IntArray
    tx_hash: list[str] | None = None  # account chains

    def __len__(self) -> int:
        return int(self.a.shape[0])


def parse_heuristics(
    text: str | list[str] | tuple[str, ...] | None, ledger: Ledger
) -> tuple[str, ...]:
    """Validate a heuristic list (comma text or list) for the chain of ``ledger``."""
    if text is None:
        return ledger.default_heuristics
    items = text.split(",") if isinstance(text, str) else list(text)
    names = tuple(dict.fromkeys(i.strip() for i in items if i.strip()))
    allowed = ledger.heuristics
    for name in names:
        if name not in allowed:
            raise InvalidInputError(
                f"heuristic {name!r} does not apply to {ledger.shape} chains "
                f"({ledger.chain.code}); choose from "
                f"{', '.join(allowed)}",
                field="heuristics",
            )
    if not names:
        raise InvalidInputError("no heuristic selected", field="heuristics")
    return names


def multi_input(inputs: CSR, skip_tx: NDArray[np.bool_], first_tx: int = 0) -> Edges:
    """Star edges from each tx's largest input address id to its other input addresses.

    ``inputs`` is the tx -> input address CSR (rows numbered from ``first_tx``);
    ``skip_tx[r]`` marks CoinJoins. Vectorised: no Python loop per tx or edge.
    """
    deg = inputs.degree()
    rows = np.flatnonzero((deg >= 2) & ~skip_tx[: deg.shape[0]])
    if rows.size == 0:
        empty = np.zeros(0, np.int64)
        return Edges("multi_input", empty, empty, empty)
    nonempty = np.flatnonzero(deg > 0)
    rep_all = np.maximum.reduceat(inputs.indices, inputs.indptr[nonempty])
    rep_of_row = np.full(deg.shape[0], -1, dtype=np.int64)
    rep_of_row[nonempty] = rep_all
    row_of = inputs.row_of_entry()
    keep_row = np.zeros(deg.shape[0], dtype=np.bool_)
    keep_row[rows] = True
    addr = inputs.indices
    rep = rep_of_row[row_of]
    mask = keep_row[row_of] & (addr >= 0) & (addr != rep)
    # an address spending several outputs repeats an edge: union-find ignores repeats
    return Edges("multi_input", rep[mask], addr[mask], row_of[mask] + first_tx)


_CHANGE = """
WITH txin AS (
    SELECT i.tx_id, max(i.address_id) AS rep, min(i.value) AS min_in,
           count(DISTINCT a.script_type) AS n_types, any_value(a.script_type) AS in_type
    FROM inputs i JOIN addr_now a ON a.address_id = i.address_id
    WHERE i.tx_id > {after} AND i.address_id >= 0
    GROUP BY i.tx_id
), cand AS (
    SELECT o.tx_id, o.address_id, t.rep,
           (a.first_tx = o.tx_id
            AND a.script_type = t.in_type
            AND o.value % {round_unit} <> 0
            AND o.value < t.min_in
           ) AS ok,
           a.first_tx < o.tx_id AS reused
    FROM outputs o
    JOIN txin t ON t.tx_id = o.tx_id
    JOIN addr_now a ON a.address_id = o.address_id
    JOIN txs x ON x.tx_id = o.tx_id
    WHERE o.tx_id > {after} AND t.n_types = 1 AND NOT x.is_coinbase AND x.n_outputs >= 2
      AND o.tx_id NOT IN (SELECT tx_id FROM coinjoin_now WHERE is_coinjoin)
)
SELECT tx_id, any_value(rep) AS rep, any_value(address_id) FILTER (WHERE ok) AS change
FROM cand GROUP BY tx_id
HAVING count(*) FILTER (WHERE ok) = 1 AND NOT bool_or(reused)
ORDER BY tx_id
"""


def change_address(con: duckdb.DuckDBPyConnection, coinjoin: pa.Table, after_tx: int = -1) -> Edges:
    """Edges (input wallet, its one change output) for txs after ``after_tx``.

    ``con`` holds ``inputs``, ``outputs`` and ``txs`` (a tx range of the chain, or all of
    it) and ``addr_now``: (address_id, script_type, first_tx) of every address they name,
    ``first_tx`` being the tx of the address's first output anywhere in the chain (so a
    range sees reuse of an address first paid long before it)."""
    con.register("coinjoin_now", coinjoin)
    try:
        t = con.sql(_CHANGE.format(after=int(after_tx), round_unit=ROUND_UNIT)).to_arrow_table()
    finally:
        con.unregister("coinjoin_now")
    rep = t.column("rep").to_numpy()
    change = t.column("change").to_numpy()
    keep = rep != change
    return Edges("change_address", rep[keep], change[keep], t.column("tx_id").to_numpy()[keep])


_FORWARDERS = """
WITH flows AS (
    SELECT from_id, to_id, asset_id, CAST(value AS DOUBLE) AS v, time, tx_hash
    FROM transfers
    WHERE kind IN ('native', 'internal', 'token') AND value IS NOT NULL AND value > 0
      AND from_id >= 0 AND to_id >= 0 AND from_id <> to_id
), outs AS (
    SELECT from_id AS addr, asset_id, count(DISTINCT to_id) AS n_dst, any_value(to_id) AS dst,
           sum(v) AS v_out, max(time) AS last_out, arg_max(tx_hash, time) AS fwd_tx
    FROM flows GROUP BY from_id, asset_id
), ins AS (  -- receipts up to the last forward, and the first one still waiting after it
    SELECT f.to_id AS addr, f.asset_id,
           sum(f.v) FILTER (WHERE f.time <= o.last_out) AS v_in,
           max(f.time) FILTER (WHERE f.time <= o.last_out) AS last_in,
           min(f.time) FILTER (WHERE f.time > o.last_out) AS waiting
    FROM flows f JOIN outs o ON o.addr = f.to_id AND o.asset_id = f.asset_id
    GROUP BY f.to_id, f.asset_id
), fwd AS (
    SELECT o.addr, o.asset_id, o.dst, o.fwd_tx, o.v_out / i.v_in AS share
    FROM outs o JOIN ins i USING (addr, asset_id)
    WHERE o.n_dst = 1 AND i.v_in > 0
      AND o.v_out >= {share} * i.v_in AND o.v_out <= i.v_in * 1.000001
      AND o.last_out - i.last_in <= {window}
      AND (i.waiting IS NULL
           OR (SELECT max(time) FROM transfers) - i.waiting <= {window})
)  -- one destination for every asset the address forwards
SELECT addr, any_value(dst) AS dst, min(fwd_tx) AS fwd_tx, min(share) AS share
FROM fwd GROUP BY addr HAVING count(DISTINCT dst) = 1
ORDER BY addr
"""


def deposit_address(con: duckdb.DuckDBPyConnection) -> tuple[Edges, pa.Table]:
    """Every forwarder of the chain, as ``counterparties`` rows (relation ``forwards``).

    No evidence edge is returned (nothing is merged): whether a forwarder is a deposit
    address depends on whether what it forwards to is a service, which is read when
    asked (``analysis.attribution.forwards``), so tags imported after clustering count.
    """
    sql = _FORWARDERS.format(share=DEPOSIT_FORWARD_SHARE, window=DEPOSIT_WINDOW_S)
    fwd = con.sql(sql).to_arrow_table()
    empty = np.zeros(0, dtype=np.int64)
    counterparties = pa.table(
        {
            "address_id": fwd.column("addr").cast(pa.int64()),
            "counterparty_id": fwd.column("dst").cast(pa.int64()),
            "relation": pa.array(["forwards"] * fwd.num_rows, pa.string()),
            "tx_hash": fwd.column("fwd_tx").cast(pa.string()),
            "share": fwd.column("share").cast(pa.float64()),
        }
    )
    return Edges("deposit_address", empty, empty, empty, []), counterparties
