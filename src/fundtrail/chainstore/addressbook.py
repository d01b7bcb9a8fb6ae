"""Dictionary encoding of addresses to dense 64-bit ids, the key of every analysis table.

The map lives on disk (:class:`~fundtrail.chainstore.idmap.IdMap`: a value column of
address text by id and a hash table checked against it), so ingest memory does not grow
with the number of addresses. Ids are assigned in order of first appearance and never
change: the map is a cache of the ``addresses`` table, cut back to it (a crash before a
commit, a rollback) or caught up from it (a store written before the map existed) when
a book is opened.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from fundtrail.chainstore.budget import iter_batches
from fundtrail.chainstore.idmap import IdMap
from fundtrail.chainstore.schema import NO_ADDRESS
from fundtrail.chainstore.store import ChainStore
from fundtrail.errors import StorageError


class AddressBook:
    """Maps address text to a dense id; new addresses get the next id and are staged.

    ``take_new()`` hands the staged rows to the batch that commits them (and makes the
    map durable first), so ids and the rows that use them land in the same atomic commit.
    """

    def __init__(self, store: ChainStore) -> None:
        self.store = store
        self.map = IdMap(store.index_dir, "addresses")
        committed = store.row_count("addresses")
        held = self.map.sync(committed)
        if held < committed:
            self._catch_up(held)
        self.next_id = len(self.map)
        self._staged: list[pa.Table] = []

    def _catch_up(self, held: int) -> None:
        for batch in iter_batches(self.store, "addresses", ["address_id", "address"]):
            ids = batch.column(0).to_numpy()
            keep = ids >= held
            if not keep.any():
                continue
            ids = ids[keep]
            if ids[0] != len(self.map) or (np.diff(ids) != 1).any():
                raise StorageError(
                    f"{self.store.root}: address ids are not dense and in order; "
                    "cannot build the address map"
                )
            self.map.add(pc.filter(batch.column(1), pa.array(keep)))
        self.map.flush()

    def __len__(self) -> int:
        return self.next_id

    def get(self, address: str) -> int | None:
        found = int(self.map.get(pa.array([address], pa.string()))[0])
        return None if found < 0 else found

    def id_for(self, address: str, script_type: str, seen: int) -> int:
        return self.ids_for([address], [script_type], seen)[0]

    def ids_for(self, addresses: list[str | None], script_types: list[str], seen: int) -> list[int]:
        """``id_for`` of each address in order (None gives NO_ADDRESS)."""
        seen_arr = np.full(len(addresses), seen, dtype=np.int64)
        ids = self.assign(pa.array(addresses, pa.string()), pa.array(script_types), seen_arr)
        return [int(x) for x in ids]

    def assign(self, addresses: pa.Array, script_types: pa.Array, seen: np.ndarray) -> np.ndarray:
        """Ids of a batch of addresses (nulls -> NO_ADDRESS), new ones in order of first
        appearance; ``seen`` is each row's height, kept as first_seen of new addresses."""
        ids, new, texts = self.map.get_or_add_values(addresses)
        ids[ids < 0] = NO_ADDRESS
        if len(new):
            take = pa.array(new)
            self._staged.append(
                pa.table(
                    {
                        "address_id": pa.array(np.arange(self.next_id, self.next_id + len(new))),
                        "address": texts.cast(pa.string()),
                        "script_type": script_types.take(take).cast(pa.string()),
                        "first_seen": pa.array(np.asarray(seen)[new], pa.int64()),
                    }
                )
            )
            self.next_id += len(new)
        return ids

    def texts(self, ids: np.ndarray) -> list[str]:
        """Address text of each id (0 <= id < len), from disk."""
        return self.map.take(ids)

    def take_new(self, later: list[Callable[[], None]] | None = None) -> pa.Table:
        """Rows for the addresses created since the last call (to commit with the batch).
        The map is made durable first: the commit may only name ids the map holds. With
        ``later``, the wait on the disk is appended there instead, for the committer to
        run before the commit (:meth:`IdMap.deferred_flush`)."""
        if later is None:
            self.map.flush()
        else:
            later.append(self.map.deferred_flush())
        staged, self._staged = self._staged, []
        if not staged:
            return pa.Table.from_batches([], schema=self.store.schemas["addresses"])
        return pa.concat_tables(staged)

    def forget_from(self, first_id: int) -> None:
        """Drop ids >= first_id (after a rollback removed them from the store)."""
        self.map.truncate(first_id)
        self.map.flush()
        self.next_id = len(self.map)
        self._staged = []
