"""Which chains the workspace holds, and which read functions answer for each.

UTXO chains are read by ``chainstore.utxo_reads``, account chains by ``chains.evm.reads``;
both offer ``stats``, ``address_summary`` and ``tx_summary`` with the same signatures.
"""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

from fundtrail.chainstore.store import ChainStore
from fundtrail.workspace import workspace_home


def chain_stores(home: Path | None = None) -> list[ChainStore]:
    """Every chain store of the workspace that holds data, in name order."""
    root = workspace_home(home) / "chains"
    if not root.exists():
        return []
    stores = []
    for folder in sorted(root.iterdir()):
        if (folder / "manifest.json").exists():
            store = ChainStore(folder.name.upper(), home)
            if not store.is_empty():
                stores.append(store)
    return stores


def reads_for(store: ChainStore) -> ModuleType:
    """The module of read functions for the store's ledger model."""
    if store.model == "utxo":
        from fundtrail.chainstore import utxo_reads

        return utxo_reads
    from fundtrail.chains.evm import reads

    return reads
