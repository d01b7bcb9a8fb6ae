"""CSR arrays from the chain store: content, cache reuse and extension on append."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from fundtrail.chainstore import csr
from fundtrail.chainstore.store import ChainStore

from .builder import Tx, addr, write_chain

A, B, C = addr("A"), addr("B"), addr("C")


def test_tx_inputs_rows_cache_and_extension(home: Path) -> None:
    store = write_chain(
        home, [Tx([], [(A, 10)]), Tx([], [(B, 20)]), Tx([(A, 10), (B, 20)], [(C, 29)])]
    )
    store.refresh()
    m = csr.tx_inputs(store)
    assert m.n_rows == 3 and m.degree().tolist() == [0, 0, 2]
    assert m.row(2).tolist() == [0, 1] and m.row_data("value", 2).tolist() == [10, 20]
    cache = next((store.root / "cache" / "csr").glob("inputs-*.npz"))
    stamp = cache.stat().st_mtime_ns
    assert csr.tx_inputs(store).row(2).tolist() == [0, 1]
    assert cache.stat().st_mtime_ns == stamp  # served from the cache
    write_chain(home, [Tx([(C, 29)], [(A, 28)])], start_tx=3, store=store)
    store.refresh()
    grown = csr.tx_inputs(store)
    assert grown.n_rows == 4 and grown.row(3).tolist() == [2] and grown.row(2).tolist() == [0, 1]
    full = csr.build_csr(np.array([2, 2, 3]), np.array([0, 1, 2]), 4)
    assert np.array_equal(grown.indptr, full.indptr) and np.array_equal(grown.indices, full.indices)


def test_build_csr_sorts_rows_stably() -> None:
    m = csr.build_csr(np.array([2, 0, 2, 1]), np.array([7, 8, 9, 6]), 3, w=np.array([1, 2, 3, 4]))
    assert m.row(2).tolist() == [7, 9] and m.row_data("w", 2).tolist() == [1, 3]
    assert m.tail(1).row(1).tolist() == [7, 9]


def test_damaged_cache_is_rebuilt(home: Path) -> None:
    store = write_chain(home, [Tx([], [(A, 10)]), Tx([(A, 10)], [(B, 9)])])
    store.refresh()
    csr.tx_outputs(store)
    for f in (store.root / "cache" / "csr").glob("outputs-*.npz"):
        f.write_bytes(b"not a zip")
    assert csr.tx_outputs(ChainStore("BTC", home)).row(1).tolist() == [1]
