"""Read side of a UTXO chain store: stats, one tx, one address. DuckDB over the Parquet parts.

Every function takes a :class:`ChainStore` and returns plain dicts (the CLI prints them as
JSON or tables; the API serialises them). Amounts are integer satoshi.
"""

from __future__ import annotations

from typing import Any

import duckdb

from fundtrail.chainstore.store import ChainStore
from fundtrail.errors import NotFoundError
from fundtrail.model.addresses import parse_address
from fundtrail.model.txids import parse_txid


def _one(con: duckdb.DuckDBPyConnection, sql: str, *params: Any) -> dict[str, Any] | None:
    cur = con.execute(sql, list(params))
    row = cur.fetchone()
    if row is None:
        return None
    return dict(zip([d[0] for d in cur.description], row, strict=True))


def _all(con: duckdb.DuckDBPyConnection, sql: str, *params: Any) -> list[dict[str, Any]]:
    cur = con.execute(sql, list(params))
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def stats(store: ChainStore) -> dict[str, Any]:
    """Counts and the height range of what the store holds."""
    con = store.connect()
    try:
        out = _one(
            con,
            """
            SELECT (SELECT count(*) FROM blocks) AS blocks,
                   (SELECT count(*) FROM txs) AS txs,
                   (SELECT count(*) FROM addresses) AS addresses,
                   (SELECT count(*) FROM outputs) AS outputs,
                   (SELECT count(*) FROM inputs) AS inputs,
                   (SELECT min(height) FROM blocks) AS min_height,
                   (SELECT max(height) FROM blocks) AS max_height,
                   (SELECT min(time) FROM blocks) AS first_block_time,
                   (SELECT max(time) FROM blocks) AS last_block_time,
                   (SELECT hash FROM blocks ORDER BY height DESC LIMIT 1) AS tip_hash,
                   (SELECT coalesce(sum(value), 0) FROM outputs) AS value_created,
                   (SELECT coalesce(sum(value), 0) FROM inputs) AS value_spent
            """,
        )
    finally:
        con.close()
    assert out is not None
    out["unspent_value"] = int(out.pop("value_created")) - int(out.pop("value_spent"))
    return {"chain": store.chain.code, **out}


def tx_summary(store: ChainStore, txid: str) -> dict[str, Any]:
    """One transaction: block, time, fee, inputs (what they spend) and outputs (who spent them)."""
    key = parse_txid(txid, store.chain.code, field="txid")
    store.require_data()
    con = store.connect()
    try:
        tx = _one(
            con,
            """SELECT t.*, b.hash AS block_hash FROM txs t JOIN blocks b USING (height)
               WHERE t.txid = ? ORDER BY t.tx_id DESC LIMIT 1""",
            key,
        )
        if tx is None:
            raise NotFoundError(f"tx {key} is not in the {store.chain.code} chain store")
        tx_id = tx["tx_id"]
        inputs = _all(
            con,
            """SELECT i.n, st.txid AS spent_txid, i.spent_n, a.address, i.value
               FROM inputs i LEFT JOIN txs st ON st.tx_id = i.spent_tx_id
               LEFT JOIN addresses a ON a.address_id = i.address_id AND i.address_id >= 0
               WHERE i.tx_id = ? ORDER BY i.n""",
            tx_id,
        )
        outputs = _all(
            con,
            """SELECT o.n, a.address, o.value, o.script_type,
                      st.txid AS spent_by_txid, i.n AS spent_by_n
               FROM outputs o
               LEFT JOIN addresses a ON a.address_id = o.address_id AND o.address_id >= 0
               LEFT JOIN inputs i ON i.spent_tx_id = o.tx_id AND i.spent_n = o.n
               LEFT JOIN txs st ON st.tx_id = i.tx_id
               WHERE o.tx_id = ? ORDER BY o.n""",
            tx_id,
        )
    finally:
        con.close()
    total_out = sum(o["value"] for o in outputs)
    return {
        "chain": store.chain.code,
        "txid": key,
        "block_height": tx["height"],
        "block_hash": tx["block_hash"],
        "time": tx["time"],
        "is_coinbase": tx["is_coinbase"],
        "fee": tx["fee"],
        "size": tx["size"],
        "vsize": tx["vsize"],
        "version": tx["version"],
        "locktime": tx["locktime"],
        "total_in": sum(i["value"] for i in inputs),
        "total_out": total_out,
        "inputs": inputs,
        "outputs": outputs,
    }


def address_summary(store: ChainStore, address: str) -> dict[str, Any]:
    """Balance, totals received and sent, tx count, first and last seen of one address."""
    parsed = parse_address(address, store.chain.code)
    store.require_data()
    con = store.connect()
    try:
        row = _one(
            con, "SELECT address_id, script_type FROM addresses WHERE address = ?", parsed.value
        )
        if row is None:
            raise NotFoundError(
                f"address {parsed.display} has no transactions in the {store.chain.code} "
                "chain store"
            )
        aid = row["address_id"]
        out = _one(
            con,
            """
            WITH touches AS (
                SELECT 'o' AS kind, tx_id, height, value AS received, 0 AS sent FROM outputs
                WHERE address_id = $1
                UNION ALL
                SELECT 'i', tx_id, height, 0, value FROM inputs WHERE address_id = $1
            )
            SELECT coalesce(sum(received), 0) AS total_received,
                   coalesce(sum(sent), 0) AS total_sent,
                   count(*) FILTER (WHERE kind = 'o') AS outputs_received,
                   count(*) FILTER (WHERE kind = 'i') AS outputs_spent,
                   count(DISTINCT tx_id) AS tx_count,
                   min(height) AS first_seen_height, max(height) AS last_seen_height
            FROM touches
            """,
            aid,
        )
        assert out is not None
        times = _one(
            con,
            "SELECT (SELECT time FROM blocks WHERE height = $1) AS first_seen_time, "
            "(SELECT time FROM blocks WHERE height = $2) AS last_seen_time",
            out["first_seen_height"],
            out["last_seen_height"],
        )
    finally:
        con.close()
    received, sent = int(out["total_received"]), int(out["total_sent"])
    return {
        "chain": store.chain.code,
        "address": parsed.display,
        "script_type": row["script_type"],
        "balance": received - sent,
        "total_received": received,
        "total_sent": sent,
        "tx_count": out["tx_count"],
        "outputs_received": out["outputs_received"],
        "outputs_spent": out["outputs_spent"],
        "first_seen_height": out["first_seen_height"],
        "first_seen_time": (times or {}).get("first_seen_time"),
        "last_seen_height": out["last_seen_height"],
        "last_seen_time": (times or {}).get("last_seen_time"),
    }


def activity(store: ChainStore, key: str) -> list[dict[str, Any]]:
    """Value received and sent per UTC day by the address with stored key ``key``."""
    con = store.connect()
    try:
        rows = con.execute(
            """WITH me AS (SELECT address_id FROM addresses WHERE address = $a),
               t AS (SELECT o.height, o.value AS recv, 0 AS sent FROM outputs o, me
                     WHERE o.address_id = me.address_id
                     UNION ALL
                     SELECT i.height, 0, i.value FROM inputs i, me
                     WHERE i.address_id = me.address_id)
               SELECT CAST(to_timestamp(b.time) AS DATE) AS day, sum(recv)::HUGEINT,
                      sum(sent)::HUGEINT
               FROM t JOIN blocks b USING (height) GROUP BY 1 ORDER BY 1""",
            {"a": key},
        ).fetchall()
    finally:
        con.close()
    return [{"day": str(d), "received": int(r or 0), "sent": int(s or 0)} for d, r, s in rows]


def balances(
    store: ChainStore, keys: list[str]
) -> list[tuple[str, str | None, str | None, int | None, int]]:
    """(address key, None, None, None, unspent value) of each address: UTXO chains hold
    only their native coin, so the asset columns are empty."""
    import pyarrow as pa

    con = store.connect()
    try:
        con.register("wanted", pa.table({"address": pa.array(keys, pa.string())}))
        rows = con.execute(
            """SELECT a.address, sum(o.value) FROM outputs o
               JOIN addresses a ON a.address_id = o.address_id
               JOIN wanted w ON w.address = a.address
               ANTI JOIN inputs i ON i.spent_tx_id = o.tx_id AND i.spent_n = o.n
               GROUP BY 1"""
        ).fetchall()
    finally:
        con.close()
    return [(a, None, None, None, int(v or 0)) for a, v in rows]


def received(
    store: ChainStore, keys: list[str]
) -> list[tuple[str, str | None, str | None, int | None, int]]:
    """(address key, None, None, None, total ever received) of each address."""
    import pyarrow as pa

    con = store.connect()
    try:
        con.register("wanted", pa.table({"address": pa.array(keys, pa.string())}))
        rows = con.execute(
            """SELECT a.address, sum(o.value) FROM outputs o
               JOIN addresses a ON a.address_id = o.address_id
               JOIN wanted w ON w.address = a.address
               GROUP BY 1"""
        ).fetchall()
    finally:
        con.close()
    return [(a, None, None, None, int(v or 0)) for a, v in rows]


def has_tx(store: ChainStore, key: str) -> bool:
    con = store.connect()
    try:
        return bool(con.execute("SELECT 1 FROM txs WHERE txid = ? LIMIT 1", [key]).fetchall())
    finally:
        con.close()
