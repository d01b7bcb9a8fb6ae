"""The traversal arrays of a UTXO chain as memory-mapped ``.npy`` files, built in tx ranges.

Why: built in RAM, the arrays of a 10M-tx chain took 2.3 GB and the whole-chain sorts
and copies that made them twice that, in every ``complaints import`` and ``trace``. Here
each array is a file under ``<chain>/cache/trace-utxo-v<version>/``, filled one tx range
at a time (:class:`budget.RangeReader`), the pages written released after each range,
and opened read-only (``mmap_mode="r"``): a walk pulls in the pages it reads, the OS
page cache keeps the rest, and a reader cannot change them.

A range's inputs spend outputs of earlier txs only (a spending tx always comes after the
tx that funded it), so resolving them needs the positions already written.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import uuid
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

from fundtrail.analysis.trace.stops import equal_output_coinjoins, read_coinjoins
from fundtrail.chainstore.budget import RangeReader, chunk_rows, iter_batches, release
from fundtrail.chainstore.csr import n_addresses, n_txs
from fundtrail.chainstore.store import ChainStore

TX_BYTES = 1024  # working memory per tx of a range (its rows, sorts and temporaries)
SHARE = 0.25
BOOL = ("coinjoin", "out_fresh")


def folder_for(store: ChainStore) -> Path:
    return store.root / "cache" / f"trace-utxo-v{store.version}"


def load(folder: Path, names: list[str]) -> dict[str, np.ndarray] | None:
    """The arrays of a finished folder, mapped read-only; None if absent, torn or
    written by older code without some of them."""
    if not (folder / "done").exists() or not _complete(folder, names):
        return None
    try:
        return {k: np.load(folder / f"{k}.npy", mmap_mode="r") for k in names}
    except (OSError, ValueError):
        return None


def build(store: ChainStore, names: list[str]) -> Path:
    """Write the arrays of ``store`` at its version into its folder (atomically: built
    beside it, then renamed into place); returns the folder."""
    final = folder_for(store)
    final.parent.mkdir(parents=True, exist_ok=True)
    for old in final.parent.glob("trace-utxo-v*"):
        if old != final:  # another version's arrays (a file in older stores)
            shutil.rmtree(old, ignore_errors=True) if old.is_dir() else old.unlink(True)
    if final.is_dir() and not _complete(final, names):  # older code's arrays: replaced
        stale = final.parent / f".trace-utxo-{uuid.uuid4().hex[:8]}.old"
        with contextlib.suppress(OSError):  # another process moved it first
            os.replace(final, stale)
        shutil.rmtree(stale, ignore_errors=True)
    tmp = final.parent / f".trace-utxo-{uuid.uuid4().hex[:8]}.tmp"
    tmp.mkdir()
    try:
        _fill(store, tmp)
        (tmp / "done").write_text(",".join(names))
        try:
            os.replace(tmp, final)
        except OSError:  # another process finished first: its arrays are the same
            shutil.rmtree(tmp, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return final


def _complete(folder: Path, names: list[str]) -> bool:
    try:
        return set(names) <= set((folder / "done").read_text().split(","))
    except OSError:
        return False


def _rows(store: ChainStore, table: str) -> int:
    return sum(pq.ParquetFile(p).metadata.num_rows for p in store.parts(table))


def _fill(store: ChainStore, folder: Path) -> None:
    n_tx, n_out, n_in = _rows(store, "txs"), _rows(store, "outputs"), _rows(store, "inputs")
    n_addr = max(n_addresses(store), 1)
    shapes = {"tx_ids": n_tx, "tx_time": n_tx, "out_ptr": n_tx + 1, "in_ptr": n_tx + 1,
              "tx_in_total": n_tx, "coinjoin": n_tx, "out_n": n_out, "out_addr": n_out,
              "out_val": n_out, "out_spent": n_out, "out_tx": n_out, "out_fresh": n_out,
              "in_src": n_in, "in_addr": n_in, "in_val": n_in, "addr_cluster": n_addr}  # fmt: skip
    a = {
        k: np.lib.format.open_memmap(
            folder / f"{k}.npy", mode="w+", dtype=bool if k in BOOL else np.int64, shape=(n,)
        )
        for k, n in shapes.items()
    }
    a["out_ptr"][0] = a["in_ptr"][0] = 0
    _fill_clusters(store, a["addr_cluster"])
    marked = read_coinjoins(store)
    coin_ids = None if marked is None else np.sort(marked)
    txs = RangeReader(store, "txs", ["time"])
    outs = RangeReader(store, "outputs", ["n", "address_id", "value"])
    ins = RangeReader(store, "inputs", ["n", "spent_tx_id", "spent_n", "address_id", "value"])
    step = chunk_rows(TX_BYTES, SHARE)
    p0 = o0 = i0 = 0  # positions, outputs and inputs written so far
    seen = np.int64(-1)  # the largest address id paid so far (ids follow first appearance)
    for lo in range(0, n_txs(store), step):
        hi = lo + step
        t = _sorted(txs.read(lo, hi), ["time"])
        ids, k = t["tx_id"], len(t["tx_id"])
        a["tx_ids"][p0 : p0 + k], a["tx_time"][p0 : p0 + k] = ids, t["time"]
        o = _sorted(outs.read(lo, hi), ["n", "address_id", "value"])
        m = len(o["tx_id"])
        o_pos = p0 + np.searchsorted(ids, o["tx_id"])
        for src, dst in (("n", "out_n"), ("address_id", "out_addr"), ("value", "out_val")):
            a[dst][o0 : o0 + m] = o[src]
        a["out_tx"][o0 : o0 + m] = o_pos
        a["out_fresh"][o0 : o0 + m], seen = _fresh(a["out_addr"][o0 : o0 + m], seen)
        a["out_spent"][o0 : o0 + m] = -1
        a["out_ptr"][p0 + 1 : p0 + k + 1] = o0 + np.cumsum(np.bincount(o_pos - p0, minlength=k))
        i = _sorted(ins.read(lo, hi), ["n", "spent_tx_id", "spent_n", "address_id", "value"])
        q = len(i["tx_id"])
        i_pos = p0 + np.searchsorted(ids, i["tx_id"])
        a["in_addr"][i0 : i0 + q], a["in_val"][i0 : i0 + q] = i["address_id"], i["value"]
        a["in_ptr"][p0 + 1 : p0 + k + 1] = i0 + np.cumsum(np.bincount(i_pos - p0, minlength=k))
        spent = _resolve_spent(
            a["tx_ids"][: p0 + k], a["out_ptr"][: p0 + k + 1], a["out_n"], i["spent_tx_id"],
            i["spent_n"],
        )  # fmt: skip
        a["in_src"][i0 : i0 + q] = spent
        known = spent >= 0
        a["out_spent"][spent[known]] = i_pos[known]
        total = np.zeros(k, dtype=np.int64)
        np.add.at(total, i_pos - p0, i["value"])
        a["tx_in_total"][p0 : p0 + k] = total
        if coin_ids is None:
            ptr = a["out_ptr"][p0 : p0 + k + 1] - o0
            coin = equal_output_coinjoins(ptr, o["value"], np.bincount(i_pos - p0, minlength=k))
        else:
            coin = np.zeros(k, dtype=bool)
            sel = coin_ids[np.searchsorted(coin_ids, lo) : np.searchsorted(coin_ids, hi)]
            pos = np.searchsorted(ids, sel)
            ok = pos < k
            ok[ok] = ids[pos[ok]] == sel[ok]
            coin[pos[ok]] = True
        a["coinjoin"][p0 : p0 + k] = coin
        p0, o0, i0 = p0 + k, o0 + m, i0 + q
        release(*a.values())
    for arr in a.values():
        arr.flush()


def _fresh(addr: np.ndarray, seen: np.int64) -> tuple[np.ndarray, np.int64]:
    """Which of these outputs (in chain order) are the first paid to their address, and
    the largest id paid after them. Address ids are dense in order of first appearance
    (an input spends an earlier output), so an output pays a new address exactly when
    its id is above every id paid before it."""
    if len(addr) == 0:
        return np.zeros(0, dtype=bool), seen
    upto = np.maximum.accumulate(np.maximum(addr, seen))
    before = np.concatenate(([seen], upto[:-1]))
    return addr > before, np.int64(upto[-1])


def _fill_clusters(store: ChainStore, out: np.ndarray) -> None:
    """cluster id per address id (an address without a row is its own singleton)."""
    n = len(out)
    step = 1 << 22
    for lo in range(0, n, step):
        out[lo : min(lo + step, n)] = np.arange(lo, min(lo + step, n), dtype=np.int64)
    if "clusters" in store.schemas and store.parts("clusters"):
        for b in iter_batches(store, "clusters", ["address_id", "cluster_id"]):
            addr = b.column(0).to_numpy()
            keep = (addr >= 0) & (addr < n)
            out[addr[keep]] = b.column(1).to_numpy()[keep]
            release(out)


def _sorted(t: object, columns: list[str]) -> dict[str, np.ndarray]:
    """A range's rows as int64 arrays, ordered by (tx_id, n) (by tx_id without ``n``)."""
    cols = {c: np.asarray(t.column(c).to_numpy(), dtype=np.int64)  # type: ignore[attr-defined]
            for c in ["tx_id", *columns]}  # fmt: skip
    keys = (cols["n"], cols["tx_id"]) if "n" in cols else (cols["tx_id"],)
    order = np.lexsort(keys)
    return {c: v[order] for c, v in cols.items()}


def _resolve_spent(
    tx_ids: np.ndarray,
    out_ptr: np.ndarray,
    out_n: np.ndarray,
    spent_tx: np.ndarray,
    spent_n: np.ndarray,
) -> np.ndarray:
    """Output index of each input's spent (tx_id, n); -1 for coinbase or unknown outputs."""
    n_tx = len(tx_ids)
    src = np.full(len(spent_tx), -1, dtype=np.int64)
    if n_tx == 0 or len(spent_tx) == 0:
        return src
    pos = np.searchsorted(tx_ids, spent_tx)
    ok = (spent_tx >= 0) & (pos < n_tx)
    ok[ok] &= tx_ids[pos[ok]] == spent_tx[ok]
    cand = out_ptr[pos[ok]] + spent_n[ok]
    inside = cand < out_ptr[pos[ok] + 1]
    good = inside.copy()
    good[inside] = out_n[cand[inside]] == spent_n[ok][inside]
    idx = np.flatnonzero(ok)
    src[idx[good]] = cand[good]
    return src
