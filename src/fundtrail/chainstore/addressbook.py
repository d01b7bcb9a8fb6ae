"""Dictionary encoding of addresses to dense 64-bit ids, the key of every analysis table."""

from __future__ import annotations

import pyarrow as pa

from fundtrail.chainstore.schema import NO_ADDRESS
from fundtrail.chainstore.store import ChainStore


class AddressBook:
    """Maps address text to a dense id; new addresses get the next id and are staged.

    Loaded once per ingest run; ``take_new()`` hands the staged rows to the batch that
    commits them, so ids and the rows that use them land in the same atomic commit.
    """

    def __init__(self, store: ChainStore) -> None:
        table = store.read_table("addresses", ["address_id", "address"])
        ids = table.column("address_id").to_pylist()
        texts = table.column("address").to_pylist()
        self._ids: dict[str, int] = dict(zip(texts, ids, strict=True))
        self.next_id = (max(ids) + 1) if ids else 0
        self._new_addr: list[str] = []
        self._new_type: list[str] = []
        self._new_seen: list[int] = []

    def __len__(self) -> int:
        return len(self._ids)

    def get(self, address: str) -> int | None:
        return self._ids.get(address)

    def id_for(self, address: str, script_type: str, seen: int) -> int:
        found = self._ids.get(address)
        if found is not None:
            return found
        new = self.next_id
        self.next_id += 1
        self._ids[address] = new
        self._new_addr.append(address)
        self._new_type.append(script_type)
        self._new_seen.append(seen)
        return new

    def ids_for(self, addresses: list[str | None], script_types: list[str], seen: int) -> list[int]:
        """``id_for`` of each address in order (None gives NO_ADDRESS), in one loop for ingest."""
        ids = self._ids
        out: list[int] = []
        append = out.append
        for address, script_type in zip(addresses, script_types, strict=True):
            if address is None:
                append(NO_ADDRESS)
                continue
            found = ids.get(address)
            if found is None:
                found = ids[address] = self.next_id
                self.next_id += 1
                self._new_addr.append(address)
                self._new_type.append(script_type)
                self._new_seen.append(seen)
            append(found)
        return out

    def take_new(self) -> pa.Table:
        """Rows for the addresses created since the last call (to commit with the batch)."""
        first = self.next_id - len(self._new_addr)
        table = pa.table(
            {
                "address_id": pa.array(range(first, self.next_id), pa.int64()),
                "address": pa.array(self._new_addr, pa.string()),
                "script_type": pa.array(self._new_type, pa.string()),
                "first_seen": pa.array(self._new_seen, pa.int64()),
            }
        )
        self._new_addr, self._new_type, self._new_seen = [], [], []
        return table

    def forget_from(self, first_id: int) -> None:
        """Drop ids >= first_id (after a rollback removed them from the store)."""
        self._ids = {a: i for a, i in self._ids.items() if i < first_id}
        self.next_id = first_id
        self._new_addr, self._new_type, self._new_seen = [], [], []
