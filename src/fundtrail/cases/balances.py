"""What a wallet holds now, to tell a gang's wallet from a service's.

A downstream wallet where traced money rests links complaints only when that money
is most of what the wallet holds: an exchange's cold wallet also rests at the end
of many traces, but it is full of everyone else's funds.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path

from fundtrail.chains.ledger import ledger_for
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
        held = ledger_for(store).balances(store, {a for a, _ in items})
        for (address, held_asset), value in held.items():
            out[(chain, address, held_asset.symbol.upper())] = value
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
