"""The id maps' windowed paths against a plain dict: lookups, inserts and growth done a
few keys (or slots) at a time must give exactly the ids of one pass over the whole batch.

Windows are forced tiny (the real ones only start once the maps outgrow a share of the
memory budget), and the table starts at 8 slots so that it grows during batches.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from unittest import mock

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fundtrail.chainstore import budget
from fundtrail.chainstore import hashindex as hx
from fundtrail.chainstore.idmap import IdMap


def tiny(k: int):  # type: ignore[no-untyped-def]
    def windows(n: int, bytes_per_row: int, mapped_bytes: int) -> Iterator[tuple[int, int]]:
        for lo in range(0, n, k):
            yield lo, min(n, lo + k)

    return mock.patch.object(hx, "touch_windows", windows)


def small_table():  # type: ignore[no-untyped-def]
    return mock.patch.object(hx, "MIN_CAPACITY", 8)


texts = st.lists(st.sampled_from([f"a{i}" for i in range(60)]) | st.text(max_size=5), max_size=50)


@settings(max_examples=60, deadline=None)
@given(
    st.integers(1, 7),
    st.lists(st.tuples(texts, st.booleans(), st.integers(0, 80)), max_size=10),
)
def test_windowed_ids_match_a_dict_through_growth_crashes_and_rollbacks(
    tmp_path_factory: pytest.TempPathFactory, k: int, steps: list[tuple[list[str], bool, int]]
) -> None:
    """Duplicates, old and new keys mixed in each batch; a crash (reopen at the last
    commit) or a rollback below it leaves stale slots behind; the table grows mid-run."""
    folder = tmp_path_factory.mktemp("w")
    ref: dict[str, int] = {}
    committed: dict[str, int] = {}
    with tiny(k), small_table():
        m = IdMap(folder, "a")
        for batch, crash, cut in steps:
            ids, new = m.get_or_add(pa.array(batch, pa.string()))
            firsts = [p for p, t in enumerate(batch) if t not in ref and t not in batch[:p]]
            assert ids.tolist() == [ref.setdefault(t, len(ref)) for t in batch]
            assert new.tolist() == firsts  # new ids in order of first appearance
            m.flush()
            if crash:
                keep = min(cut, len(committed))
                committed = {t: i for t, i in committed.items() if i < keep}
                m = IdMap(folder, "a")
                m.sync(len(committed))
                ref = dict(committed)
            else:
                committed = dict(ref)
        probe = [*ref, "never-added"]
        assert m.get(pa.array(probe)).tolist() == [*ref.values(), -1]
        assert m.take(np.arange(len(ref))) == list(ref)


def test_a_batch_that_grows_the_table_twice_over(tmp_path: Path) -> None:
    """One batch of 5,000 keys (3 copies each, shuffled) into an 8-slot table with
    3-key windows: the rebuild moves slots window by window, ids follow first appearance."""
    keys = [f"bc1q{i:06d}" for i in range(5_000)]
    rng = np.random.default_rng(7)
    batch = [keys[i] for i in rng.permutation(np.repeat(np.arange(5_000), 3))]
    expect: dict[str, int] = {}
    for t in batch:
        expect.setdefault(t, len(expect))
    with tiny(3), small_table():
        m = IdMap(tmp_path, "a")
        m.get_or_add(pa.array(keys[:10]))  # a few old keys; a few rebuilds follow
        ref = {t: i for i, t in enumerate(keys[:10])}
        for t in batch:
            ref.setdefault(t, len(ref))
        ids, _ = m.get_or_add(pa.array(batch))
        assert ids.tolist() == [ref[t] for t in batch]
        live = int((np.asarray(m.table.slots)[:, 0] != 0).sum())
        assert live == 5_000 and m.table.exact
        assert m.get(pa.array(keys)).tolist() == [ref[t] for t in keys]


def test_windowed_rebuild_from_the_values_drops_stale_slots(tmp_path: Path) -> None:
    """After a rollback the next growth rebuilds from the value column (in hashed chunks,
    placed window by window): no slot of the cut ids is left, every kept id is found."""
    with tiny(2), small_table():
        m = IdMap(tmp_path, "a")
        m.get_or_add(pa.array([f"k{i}" for i in range(50)]))
        m.flush()
        m.sync(20)  # a rollback: ids 20.. go, their slots stay behind
        assert not m.table.exact
        ids, _ = m.get_or_add(pa.array([f"n{i}" for i in range(200)]))
        assert ids.tolist() == list(range(20, 220)) and m.table.exact
        assert int((np.asarray(m.table.slots)[:, 0] != 0).sum()) == 220
        assert m.get(pa.array(["k19", "k20", "n0"])).tolist() == [19, -1, 20]


def test_windowed_add_finds_the_later_of_repeated_values(tmp_path: Path) -> None:
    """Txids may repeat (BIP30): the latest id wins, also when the copies are probed in
    different windows."""
    with tiny(1), small_table():
        m = IdMap(tmp_path, "t")
        vals = [bytes([i % 7]) * 32 for i in range(30)]
        m.add(pa.array(vals, pa.binary()))
        got = m.get(pa.array([bytes([j]) * 32 for j in range(8)], pa.binary()))
        assert got.tolist() == [28, 29, 23, 24, 25, 26, 27, -1]


def test_home_order_sorts_by_slot_and_keeps_duplicates_in_order() -> None:
    h = np.array([0x13, 0x21, 0x13, 0x02, 0x11], dtype=np.uint64)
    order = hx.home_order(h, 16, np.array([True, True, True, True, False]))
    assert order.tolist() == [1, 3, 0, 2]  # homes 1, 2, 3, 3 (invalid 4 left out)


def test_touch_windows_bound_the_pages_a_window_touches() -> None:
    """Maps that fit in the window share take one window; bigger ones are cut so that a
    window's rows touch at most that share of the budget."""
    cap = budget.budget_bytes(budget.WINDOW_SHARE)
    assert list(budget.touch_windows(10_000, budget.PAGE, cap)) == [(0, 10_000)]
    windows = list(budget.touch_windows(100_000, 4 * budget.PAGE, 10 * cap))
    assert windows[0] == (0, cap // (4 * budget.PAGE)) and windows[-1][1] == 100_000
    assert all(hi - lo <= cap // (4 * budget.PAGE) for lo, hi in windows)
    assert list(budget.touch_windows(0, 1, 10 * cap)) == []


def test_stale_slots_count_toward_the_load(tmp_path: Path) -> None:
    """Rollbacks that cut every id leave their slots behind; without counting them an
    8-slot table filled up and the next probe never ended. Now the occupied slots stay
    under the load limit (a rebuild from the values drops the stale ones)."""
    with small_table():
        m = IdMap(tmp_path, "a")
        for round_ in range(40):
            ids, _ = m.get_or_add(pa.array([f"r{round_}-{i}" for i in range(3)]))
            assert ids.tolist() == [0, 1, 2]
            m.flush()
            m = IdMap(tmp_path, "a")  # a crash or a rollback of everything
            m.sync(0)
            occupied = int((np.asarray(m.table.slots)[:, 0] != 0).sum())
            assert occupied <= m.table.capacity * hx.MAX_LOAD
        assert m.table.capacity == 8
