"""Read side of an account chain store (EVM and TRON): stats, balances, one transaction.

Addresses and transaction ids are parsed and shown by the chain's own rules (EIP-55 on
EVM chains, base58check ``T…`` on TRON), through ``fundtrail.model``; the tables are the
same for every account ledger.

Balances are computed, not stored: ``sum(in) - sum(out)`` per asset over the
``transfers`` table, exactly. Sums run in DuckDB split into a high and a low part
(``value // 10**18`` and ``value % 10**18``, each a 128-bit sum) so no total can
overflow, and the rare values beyond 38 digits (``value_text``) are added in Python.
"""

from __future__ import annotations

from typing import Any

import duckdb

from fundtrail.chains.pseudo import describe, is_pseudo, problem
from fundtrail.chainstore.schema import NATIVE_ASSET
from fundtrail.chainstore.store import ChainStore
from fundtrail.errors import InvalidInputError, NotFoundError
from fundtrail.model.addresses import format_address, parse_address
from fundtrail.model.assets import Asset
from fundtrail.model.display import amount, units
from fundtrail.model.txids import parse_txid

_SPLIT = 10**18


def display(address: str | None, chain: str = "ETH") -> str | None:
    """What people see for a stored address key (EIP-55, ``T…``); pseudo-addresses as
    they are."""
    if address is None or is_pseudo(address):
        return address
    return format_address(address, chain)


def _one(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None) -> Any:
    row = con.execute(sql, params or []).fetchone()
    return row[0] if row else None


def stats(store: ChainStore) -> dict[str, Any]:
    """Counts of blocks, txs, transfers (by kind), addresses and assets; block range."""
    con = store.connect()
    try:
        kinds = dict(
            con.execute(
                "SELECT kind, count(*) FROM transfers GROUP BY kind ORDER BY kind"
            ).fetchall()
        )
        low, high = con.execute("SELECT min(number), max(number) FROM blocks").fetchone() or (
            None,
            None,
        )
        out = {
            "chain": store.chain.code,
            "blocks": int(_one(con, "SELECT count(*) FROM blocks")),
            "txs": int(_one(con, "SELECT count(*) FROM txs")),
            "transfers": int(sum(kinds.values())),
            "transfers_by_kind": {k: int(v) for k, v in kinds.items()},
            "addresses": int(
                _one(con, "SELECT count(*) FROM addresses WHERE script_type <> 'pseudo'")
            ),
            "assets": int(_one(con, "SELECT count(*) FROM assets")),
            "tokens": int(_one(con, "SELECT count(*) FROM assets WHERE contract IS NOT NULL")),
            "first_block": low,
            "last_block": high,
        }
    finally:
        con.close()
    meta = store.meta
    out["next_block"] = meta.get("evm_next")
    out["internal_transfers_from"] = meta.get("evm_tracer")
    return out


def _address_id(con: duckdb.DuckDBPyConnection, store: ChainStore, text: str) -> tuple[int, str]:
    ledger = describe(text)
    if ledger is not None:  # a protocol ledger is looked up by its name
        found = _one(con, "SELECT address_id FROM addresses WHERE address = ?", [text])
        if found is None:
            raise NotFoundError(
                f"{text} ({ledger.label}) is a protocol ledger that does not appear in the "
                f"{store.chain.code} chain store",
                field="address",
            )
        return int(found), text
    if (wrong := problem(text)) is not None:
        raise InvalidInputError(wrong, field="address")
    parsed = parse_address(text, store.chain.code)
    found = _one(con, "SELECT address_id FROM addresses WHERE address = ?", [parsed.value])
    if found is None:
        raise NotFoundError(
            f"address {parsed.display} does not appear in the {store.chain.code} chain store",
            field="address",
        )
    return int(found), parsed.display


def _sums(con: duckdb.DuckDBPyConnection, where: str, params: list[Any]) -> dict[int, int]:
    rows = con.execute(
        f"""SELECT asset_id, sum(value::HUGEINT // {_SPLIT}), sum(value::HUGEINT % {_SPLIT})
            FROM transfers WHERE {where} AND value IS NOT NULL GROUP BY asset_id""",
        params,
    ).fetchall()
    out = {int(a): int(hi or 0) * _SPLIT + int(lo or 0) for a, hi, lo in rows}
    for a, text in con.execute(
        f"SELECT asset_id, value_text FROM transfers WHERE {where} AND value IS NULL", params
    ).fetchall():
        out[int(a)] = out.get(int(a), 0) + int(text)
    return out


def address_summary(store: ChainStore, address: str) -> dict[str, Any]:
    """Native balance (wei, exact), per-token balances, totals, tx count, first/last seen.

    A protocol ledger (``burn``, ``tron-dex:3``, ...) answers too, with ``protocol`` saying
    what it is: what flowed in and out of it in this store is what an investigator asks
    of it (its "balance" is what the pool holds, or what was burned; a source's is
    negative: it only ever paid out)."""
    store.require_data()
    con = store.connect()
    try:
        aid, shown = _address_id(con, store, address)
        received = _sums(con, "to_id = ?", [aid])
        sent = _sums(con, "from_id = ?", [aid])
        assets = {
            int(r[0]): r
            for r in con.execute(
                "SELECT asset_id, contract, symbol, decimals FROM assets"
            ).fetchall()
        }
        tx_count = _one(
            con,
            """SELECT count(DISTINCT tx_hash) FROM (
                 SELECT tx_hash FROM txs WHERE from_id = $1 OR to_id = $1
                 UNION ALL
                 SELECT tx_hash FROM transfers
                 WHERE (from_id = $1 OR to_id = $1) AND tx_hash IS NOT NULL)""",
            [aid],
        )
        seen = con.execute(
            """SELECT min(block), max(block), count(*) FROM transfers
               WHERE from_id = $1 OR to_id = $1""",
            [aid],
        ).fetchone()
        times = dict(
            con.execute(
                "SELECT number, time FROM blocks WHERE number IN (?, ?)", [seen[0], seen[1]]
            ).fetchall()
        ) if seen and seen[0] is not None else {}  # fmt: skip
    finally:
        con.close()
    chain = store.chain
    code = chain.code
    coin = Asset(chain.code, chain.native_asset, chain.decimals)
    tokens = []
    for asset_id in sorted((set(received) | set(sent)) - {NATIVE_ASSET}):
        _, contract, symbol, decimals = assets.get(asset_id, (asset_id, None, None, None))
        bal = received.get(asset_id, 0) - sent.get(asset_id, 0)
        tokens.append(
            {
                "asset_id": asset_id,
                "contract": display(contract, code),
                "symbol": symbol,
                "decimals": decimals,
                "balance": bal,
                "balance_display": units(bal, Asset(chain.code, "", decimals), group=False)
                if decimals is not None
                else None,
                "received": received.get(asset_id, 0),
                "sent": sent.get(asset_id, 0),
            }
        )
    native_in, native_out = received.get(NATIVE_ASSET, 0), sent.get(NATIVE_ASSET, 0)
    first, last, count = seen if seen else (None, None, 0)
    balance = native_in - native_out
    protocol = describe(shown)
    return {
        "chain": chain.code,
        "address": shown,
        "address_id": aid,
        **({"protocol": protocol.to_dict()} if protocol else {}),
        "balance": balance,
        "balance_display": amount(balance, coin, group=False),
        "received": native_in,
        "sent": native_out,
        "tokens": tokens,
        "tx_count": int(tx_count or 0),
        "transfer_count": int(count or 0),
        "first_seen": None if first is None else {"block": first, "time": times.get(first)},
        "last_seen": None if last is None else {"block": last, "time": times.get(last)},
    }


def tx_summary(store: ChainStore, tx_hash: str) -> dict[str, Any]:
    """One transaction: sender, receiver, value, gas fee, status and every transfer in it."""
    code = store.chain.code
    key = parse_txid(tx_hash, code)
    store.require_data()
    con = store.connect()
    try:
        cols = ["tx_hash", "block", "tx_index", "time", "from_id", "to_id", "value", "gas_used",
                "effective_gas_price", "fee", "status"]  # fmt: skip
        row = con.execute(f"SELECT {', '.join(cols)} FROM txs WHERE tx_hash = ?", [key]).fetchone()
        if row is None:
            raise NotFoundError(
                f"transaction {key} is not in the {store.chain.code} chain store", field="tx"
            )
        tx = dict(zip(cols, row, strict=True))
        transfers = con.execute(
            """SELECT t.kind, fa.address, ta.address, t.asset_id, a.contract, a.symbol, a.decimals,
                      t.value, t.value_text, t.log_index, t.trace_index
               FROM transfers t
               LEFT JOIN addresses fa ON fa.address_id = t.from_id
               LEFT JOIN addresses ta ON ta.address_id = t.to_id
               LEFT JOIN assets a ON a.asset_id = t.asset_id
               WHERE t.tx_hash = ? ORDER BY t.log_index, t.trace_index, t.kind""",
            [key],
        ).fetchall()
        names = dict(
            con.execute(
                "SELECT address_id, address FROM addresses WHERE address_id IN (?, ?)",
                [tx["from_id"], tx["to_id"]],
            ).fetchall()
        )
    finally:
        con.close()
    shown = {x for row in transfers for x in row[1:3]} | set(names.values())
    ledgers = {a: p.to_dict() for a in sorted(x for x in shown if x) if (p := describe(a))}
    return {
        "chain": store.chain.code,
        "tx_hash": key,
        "block": tx["block"],
        "tx_index": tx["tx_index"],
        "time": tx["time"],
        "from": display(names.get(tx["from_id"]), code),
        "to": display(names.get(tx["to_id"]), code),
        "value": int(tx["value"]),
        "fee": int(tx["fee"]),
        "gas_used": tx["gas_used"],
        "effective_gas_price": int(tx["effective_gas_price"]),
        "status": "success" if tx["status"] == 1 else "failed",
        "transfers": [
            {
                "kind": k,
                "from": display(f, code),
                "to": display(t, code),
                "asset_id": aid,
                "contract": display(c, code),
                "symbol": s,
                "decimals": d,
                "value": int(v) if v is not None else int(vt),
                "log_index": li,
                "trace_index": ti,
            }
            for k, f, t, aid, c, s, d, v, vt, li, ti in transfers
        ],
        **({"protocol": ledgers} if ledgers else {}),  # what each pseudo-address here is
    }


def activity(store: ChainStore, key: str) -> list[dict[str, Any]]:
    """Native coin received and sent per UTC day by the address with stored key ``key``."""
    con = store.connect()
    try:
        rows = con.execute(
            """WITH me AS (SELECT address_id FROM addresses WHERE address = $a)
               SELECT CAST(to_timestamp(time) AS DATE) AS day,
                 sum(CASE WHEN to_id = (SELECT * FROM me) THEN coalesce(value, 0) ELSE 0 END),
                 sum(CASE WHEN from_id = (SELECT * FROM me) THEN coalesce(value, 0) ELSE 0 END)
               FROM transfers WHERE asset_id = 0 AND (to_id = (SELECT * FROM me)
                                                      OR from_id = (SELECT * FROM me))
               GROUP BY 1 ORDER BY 1""",
            {"a": key},
        ).fetchall()
    finally:
        con.close()
    return [{"day": str(d), "received": int(r or 0), "sent": int(s or 0)} for d, r, s in rows]


def balances(
    store: ChainStore, keys: list[str]
) -> list[tuple[str, str | None, str | None, int | None, int]]:
    """(address key, contract, symbol, decimals, balance) for every asset the addresses hold."""
    import pyarrow as pa

    con = store.connect()
    try:
        con.register("wanted", pa.table({"address": pa.array(keys, pa.string())}))
        rows = con.execute(
            """WITH moves AS (
                 SELECT to_id AS id, asset_id, value FROM transfers WHERE value IS NOT NULL
                 UNION ALL SELECT from_id, asset_id, -value FROM transfers
                 WHERE value IS NOT NULL)
               SELECT a.address,
                 CASE WHEN m.asset_id = 0 THEN NULL
                      ELSE coalesce(s.contract, 'asset:' || m.asset_id) END,
                 s.symbol, s.decimals, sum(m.value::HUGEINT)
               FROM moves m JOIN addresses a ON a.address_id = m.id
               JOIN wanted w ON w.address = a.address
               LEFT JOIN assets s ON s.asset_id = m.asset_id
               GROUP BY ALL"""
        ).fetchall()
    finally:
        con.close()
    return [(a, c, s, d, int(v or 0)) for a, c, s, d, v in rows]


def received(
    store: ChainStore, keys: list[str]
) -> list[tuple[str, str | None, str | None, int | None, int]]:
    """(address key, contract, symbol, decimals, total ever received) per asset."""
    import pyarrow as pa

    con = store.connect()
    try:
        con.register("wanted", pa.table({"address": pa.array(keys, pa.string())}))
        rows = con.execute(
            """SELECT a.address,
                 CASE WHEN t.asset_id = 0 THEN NULL
                      ELSE coalesce(s.contract, 'asset:' || t.asset_id) END,
                 s.symbol, s.decimals, sum(t.value::HUGEINT)
               FROM transfers t JOIN addresses a ON a.address_id = t.to_id
               JOIN wanted w ON w.address = a.address
               LEFT JOIN assets s ON s.asset_id = t.asset_id
               WHERE t.value IS NOT NULL
               GROUP BY ALL"""
        ).fetchall()
    finally:
        con.close()
    return [(a, c, s, d, int(v or 0)) for a, c, s, d, v in rows]


def has_tx(store: ChainStore, key: str) -> bool:
    con = store.connect()
    try:
        return bool(con.execute("SELECT 1 FROM txs WHERE tx_hash = ? LIMIT 1", [key]).fetchall())
    finally:
        con.close()


def recent_transfers(store: ChainStore, key: str, limit: int = 50) -> list[dict[str, Any]]:
    """The latest transfers into and out of the address with stored key ``key`` (a protocol
    ledger's page lists the transactions that used it), newest first."""
    code = store.chain.code
    con = store.connect()
    try:
        rows = con.execute(
            """WITH me AS (SELECT address_id FROM addresses WHERE address = $a)
               SELECT t.tx_hash, t.block, t.time, t.kind, t.to_id = (SELECT * FROM me),
                      o.address, a.contract, a.symbol, a.decimals, t.value, t.value_text
               FROM transfers t
               LEFT JOIN addresses o ON o.address_id = CASE WHEN t.to_id = (SELECT * FROM me)
                                                       THEN t.from_id ELSE t.to_id END
               LEFT JOIN assets a ON a.asset_id = t.asset_id
               WHERE t.to_id = (SELECT * FROM me) OR t.from_id = (SELECT * FROM me)
               ORDER BY t.block DESC, t.tx_index DESC, t.log_index DESC, t.trace_index DESC
               LIMIT $n""",
            {"a": key, "n": int(limit)},
        ).fetchall()
    finally:
        con.close()
    return [
        {"tx_hash": tx, "block": block, "time": time, "kind": kind,
         "direction": "in" if into else "out", "counterparty": display(other, code),
         "contract": display(c, code), "symbol": s, "decimals": d,
         "value": int(v) if v is not None else int(vt)}
        for tx, block, time, kind, into, other, c, s, d, v, vt in rows
    ]  # fmt: skip
