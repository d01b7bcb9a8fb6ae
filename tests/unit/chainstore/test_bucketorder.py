"""The linear-time near-sort the id maps walk their files in (chainstore.bucketorder)."""

from __future__ import annotations

import numpy as np

from fundtrail.chainstore.bucketorder import MAX_BITS, bucket_order


def test_small_key_ranges_sort_exactly_and_stably() -> None:
    rng = np.random.default_rng(3)
    keys = rng.integers(0, 1000, 5000).astype(np.uint64)
    assert bucket_order(keys, 1000).tolist() == np.argsort(keys, kind="stable").tolist()


def test_power_of_two_limit_orders_by_the_low_bits_like_a_home_slot() -> None:
    keys = np.array([0x13, 0x21, 0x13, 0x02, 0x11], dtype=np.uint64)
    assert bucket_order(keys, 16).tolist() == [1, 4, 3, 0, 2]  # homes 1, 1, 2, 3, 3


def test_wide_keys_come_out_in_bucket_order_with_equal_keys_in_position_order() -> None:
    rng = np.random.default_rng(5)
    limit = 1 << 40
    keys = rng.integers(0, limit, 200_000).astype(np.uint64)
    keys[1000:1010] = keys[7]  # a repeated value, spread over the batch
    idx = np.flatnonzero(rng.random(len(keys)) < 0.9)
    idx = np.union1d(idx, [7, *range(1000, 1010)])
    order = bucket_order(keys, limit, idx)
    assert sorted(order.tolist()) == idx.tolist()  # a permutation of the rows asked for
    bucket = keys[order] >> np.uint64(40 - MAX_BITS)
    assert (np.diff(bucket.astype(np.int64)) >= 0).all()
    repeats = [int(i) for i in order if keys[i] == keys[7]]
    assert repeats == [7, *range(1000, 1010)]


def test_signed_ids_are_ordered_too() -> None:
    ids = np.array([5, 0, 3, 3, 1], dtype=np.int64)
    assert bucket_order(ids, 6).tolist() == [1, 4, 2, 3, 0]
