"""Which chains the workspace holds. Reads themselves are the ledger adapter's
(``fundtrail.chains.ledger.ledger_for(store).stats(store)`` and friends)."""

from __future__ import annotations

from pathlib import Path

from fundtrail.chains.ledger import Ledger, ledger_for
from fundtrail.chainstore.store import ChainStore
from fundtrail.model.chains import find_chain
from fundtrail.workspace import workspace_home


def chain_stores(home: Path | None = None) -> list[ChainStore]:
    """Every chain store of the workspace that holds data, in name order.

    Folders that are not a registry chain with a ledger (left by older versions, which
    accepted any name) are skipped rather than failing every read of the workspace.
    """
    root = workspace_home(home) / "chains"
    if not root.exists():
        return []
    stores = []
    for folder in sorted(root.iterdir()):
        chain = find_chain(folder.name)
        if chain is None or not chain.has_ledger or not (folder / "manifest.json").exists():
            continue
        store = ChainStore(chain, home)
        if not store.is_empty():
            stores.append(store)
    return stores


def reads_for(store: ChainStore) -> Ledger:
    """The ledger adapter of the store, which answers ``stats``, ``address_summary``,
    ``tx_summary`` (kept for callers of the older name; use ``ledger_for``)."""
    return ledger_for(store)
