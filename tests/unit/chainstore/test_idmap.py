"""The disk-backed id map against a plain dict: ids, exactness, crashes and rollbacks."""

from __future__ import annotations

from pathlib import Path
from unittest import mock

import numpy as np
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from fundtrail.chainstore import hashindex as hx
from fundtrail.chainstore import hashkernels as hk
from fundtrail.chainstore.idmap import IdMap, buffers


def test_ids_in_order_of_first_appearance_and_stable(tmp_path: Path) -> None:
    m = IdMap(tmp_path, "a")
    ids, new = m.get_or_add(pa.array(["x", "y", None, "x", "z"]))
    assert ids.tolist() == [0, 1, -1, 0, 2] and new.tolist() == [0, 1, 4]
    m.flush()
    again = IdMap(tmp_path, "a")
    assert again.get(pa.array(["z", "x", "nope"])).tolist() == [2, 0, -1]
    assert again.take(np.array([2, 0])) == ["z", "x"]


def test_a_matching_hash_with_other_text_is_not_a_match(tmp_path: Path) -> None:
    """Plant a slot that carries the hash of "b" but points at the id of "a" (what a hash
    collision or a crashed batch leaves): "b" is still unknown, then gets its own id."""
    m = IdMap(tmp_path, "a")
    m.get_or_add(pa.array(["a"]))
    data, offs, _ = buffers(pa.array(["b"]))
    h = hk._hash(data, int(offs[0]), int(offs[1]), m.table.seed)
    slots = m.table.slots
    j = int(h) & (slots.shape[0] - 1)
    while slots[j, 0] != 0:
        j = (j + 1) & (slots.shape[0] - 1)
    slots[j] = (h, 0)
    assert m.get(pa.array(["b"])).tolist() == [-1]
    ids, _ = m.get_or_add(pa.array(["b", "a"]))
    assert ids.tolist() == [1, 0]


def test_uncommitted_rows_are_cut_back_and_reassigned(tmp_path: Path) -> None:
    m = IdMap(tmp_path, "a")
    m.get_or_add(pa.array(["a", "b"]))
    m.flush()
    m.get_or_add(pa.array(["c", "d"]))  # a batch that never committed
    m.flush()
    reopened = IdMap(tmp_path, "a")
    assert reopened.sync(2) == 2
    ids, _ = reopened.get_or_add(pa.array(["d", "c", "a"]))  # another order this time
    assert ids.tolist() == [2, 3, 0]
    assert reopened.take(np.array([2, 3])) == ["d", "c"]


def test_growth_rebuilds_the_table(tmp_path: Path) -> None:
    m = IdMap(tmp_path, "a")
    texts = [f"bc1q{i:038d}" for i in range(20_000)]
    ids, _ = m.get_or_add(pa.array(texts))
    assert m.table.capacity >= 20_000 / hx.MAX_LOAD
    assert (ids == np.arange(20_000)).all()
    assert (m.get(pa.array(texts[::-1])) == np.arange(20_000)[::-1]).all()


def test_rebuilds_move_live_slots_and_drop_stale_ones(tmp_path: Path) -> None:
    """Growing in one run moves the old slots (all live); after ids were cut back (a crash,
    a rollback) the next rebuild reads the values instead, leaving no stale slot."""
    m = IdMap(tmp_path, "a")
    first = [f"1A{i:030d}" for i in range(3_000)]
    m.get_or_add(pa.array(first))
    m.flush()
    m.get_or_add(pa.array([f"3B{i:030d}" for i in range(2_000)]))  # never committed
    m.flush()
    assert m.table.exact
    reopened = IdMap(tmp_path, "a")
    reopened.sync(3_000)
    assert not reopened.table.exact
    later = [f"bc1q{i:036d}" for i in range(10_000)]  # grows the table past the cut ids
    ids, _ = reopened.get_or_add(pa.array(later))
    assert (ids == np.arange(3_000, 13_000)).all() and reopened.table.exact
    live = int((np.asarray(reopened.table.slots)[:, 0] != 0).sum())
    assert live == 13_000  # the 2,000 uncommitted ids left nothing behind
    more = [f"bc1p{i:036d}" for i in range(20_000)]
    ids, _ = reopened.get_or_add(pa.array(more))  # a rebuild from the old slots
    assert (ids == np.arange(13_000, 33_000)).all()
    assert int((np.asarray(reopened.table.slots)[:, 0] != 0).sum()) == 33_000
    everything = first + later + more
    assert (reopened.get(pa.array(everything)) == np.arange(33_000)).all()
    assert (reopened.get(pa.array(["3B" + "0" * 30])) == -1).all()


def test_added_twice_gives_the_later_id(tmp_path: Path) -> None:
    """Txids may repeat (BIP30's duplicate coinbases): the later tx is the one spent."""
    m = IdMap(tmp_path, "t")
    m.add(pa.array([b"\x01" * 32, b"\x02" * 32, b"\x01" * 32], pa.binary()))
    assert m.get(pa.array([b"\x01" * 32, b"\x03" * 32], pa.binary())).tolist() == [2, -1]


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(st.lists(st.text(max_size=6), max_size=30), st.booleans(), st.integers(0, 40))
    )
)
def test_matches_a_dict_through_commits_crashes_and_rollbacks(
    tmp_path_factory: object, steps: list[tuple[list[str], bool, int]]
) -> None:
    folder = tmp_path_factory.mktemp("m")  # type: ignore[attr-defined]
    m = IdMap(folder, "a")
    ref: dict[str, int] = {}
    committed: dict[str, int] = {}
    for texts, crash, cut in steps:
        ids, _ = m.get_or_add(pa.array(texts, pa.string()))
        for t, i in zip(texts, ids.tolist(), strict=True):
            assert ref.setdefault(t, len(ref)) == i
        m.flush()
        if crash:  # reopen at the last commit, or roll back below it
            keep = min(cut, len(committed))
            committed = {t: i for t, i in committed.items() if i < keep}
            m = IdMap(folder, "a")
            m.sync(len(committed))
            ref = dict(committed)
        else:
            committed = dict(ref)
    if ref:
        assert m.get(pa.array(list(ref))).tolist() == list(ref.values())


@settings(max_examples=30, deadline=None)
@given(st.lists(st.lists(st.text(max_size=4), max_size=40), max_size=12))
def test_a_tiny_table_grows_through_many_slot_moves(
    tmp_path_factory: object, batches: list[list[str]]
) -> None:
    """From 8 slots up, every growth moves the old slots: lookups still match a dict."""
    folder = tmp_path_factory.mktemp("g")  # type: ignore[attr-defined]
    ref: dict[str, int] = {}
    with mock.patch.object(hx, "MIN_CAPACITY", 8):
        m = IdMap(folder, "a")
        for texts in batches:
            ids, _ = m.get_or_add(pa.array(texts, pa.string()))
            assert ids.tolist() == [ref.setdefault(t, len(ref)) for t in texts]
            assert m.table.exact
        if ref:
            assert m.get(pa.array(list(ref))).tolist() == list(ref.values())
