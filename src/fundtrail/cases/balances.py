"""What a wallet holds now, to tell a gang's wallet from a service's.

A downstream wallet where traced money rests links complaints only when that money
is most of what the wallet holds: an exchange's cold wallet also rests at the end
of many traces, but it is full of everyone else's funds.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path

import pyarrow as pa

from fundtrail.chainstore.store import ChainStore


def held_balances(
    wallets: Iterable[tuple[str, str, str]], home: Path | None = None
) -> dict[tuple[str, str, str], int]:
    """{(chain, address, asset): balance in base units} from the chain store."""
    by_chain: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for chain, address, asset in wallets:
        by_chain[chain].add((address, asset))
    out: dict[tuple[str, str, str], int] = {}
    for chain, items in by_chain.items():
        store = ChainStore(chain, home)
        con = store.connect()
        try:
            con.register("wanted", pa.table({"address": sorted({a for a, _ in items})}))
            if store.model == "utxo":
                rows = con.execute(
                    """SELECT a.address, sum(o.value) FROM outputs o
                       JOIN addresses a ON a.address_id = o.address_id
                       JOIN wanted w ON w.address = a.address
                       ANTI JOIN inputs i ON i.spent_tx_id = o.tx_id AND i.spent_n = o.n
                       GROUP BY 1"""
                ).fetchall()
                for address, value in rows:
                    out[(chain, address, store.chain.native_asset)] = int(value or 0)
            else:
                rows = con.execute(
                    """WITH moves AS (
                         SELECT to_id AS id, asset_id, value FROM transfers
                         UNION ALL SELECT from_id, asset_id, -value FROM transfers)
                       SELECT a.address, coalesce(s.symbol, ''), m.asset_id, sum(m.value)
                       FROM moves m JOIN addresses a ON a.address_id = m.id
                       JOIN wanted w ON w.address = a.address
                       LEFT JOIN assets s ON s.asset_id = m.asset_id
                       GROUP BY 1, 2, 3"""
                ).fetchall()
                for address, symbol, asset_id, value in rows:
                    asset = store.chain.native_asset if asset_id == 0 else str(symbol).upper()
                    out[(chain, address, asset)] = int(value or 0)
        finally:
            con.close()
    return out


def pure_wallets(
    reached: dict[tuple[str, str, str], int], min_purity: float, home: Path | None = None
) -> set[tuple[str, str, str]]:
    """Wallets where the traced money (``reached``: all complaints together) is at least
    ``min_purity`` of what they hold."""
    balances = held_balances(reached, home)
    return {
        key
        for key, taint in reached.items()
        if balances.get(key, 0) > 0 and taint >= min_purity * balances[key]
    }
