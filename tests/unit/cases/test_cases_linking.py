"""Linking: explained unions, order-independent groups, ids that depend on content only."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from fundtrail.cases.linking import (
    SAME_ADDRESS,
    SAME_CASHOUT,
    SPENT_TOGETHER,
    Linker,
    assign_ids,
    new_campaign_id,
)


def test_rounds_join_with_reasons() -> None:
    # k1,k2 pay the same address; k3's money was spent together with theirs;
    # k4 is unrelated until the walk finds its funds at k1's cash-out deposit.
    lk = Linker(["k1", "k2", "k3", "k4", "k5"])
    lk.join_on(SAME_ADDRESS, {"k1": ["a"], "k2": ["a"], "k3": ["b"], "k4": ["c"], "k5": ["d"]})
    lk.join_on(SPENT_TOGETHER, {"k1": ["tx7"], "k2": ["tx7"], "k3": ["tx7"]})
    assert lk.groups() == [["k1", "k2", "k3"], ["k4"], ["k5"]]
    lk.join_on(SAME_CASHOUT, {"k1": ["dep1"], "k4": ["dep1"], "k5": ["dep2"]})
    assert lk.groups() == [["k1", "k2", "k3", "k4"], ["k5"]]
    reasons = {(x.b, x.reason, x.detail) for x in lk.links_of(["k1"])}
    assert reasons == {
        ("k2", SAME_ADDRESS, "a"),
        ("k3", SPENT_TOGETHER, "tx7"),
        ("k4", SAME_CASHOUT, "dep1"),
    }
    assert len(lk.links) == 3  # only unions that joined groups are recorded


@given(st.lists(st.tuples(st.integers(0, 9), st.integers(0, 4)), max_size=30), st.randoms())
def test_groups_do_not_depend_on_order(pairs: list[tuple[int, int]], rnd) -> None:
    keys = [f"k{i}" for i in range(10)]
    values = {f"k{k}": [f"v{v}"] for k, v in pairs}
    a = Linker(keys)
    a.join_on(SAME_ADDRESS, values)
    shuffled = list(values.items())
    rnd.shuffle(shuffled)
    b = Linker(reversed(keys))
    b.join_on(SAME_ADDRESS, dict(shuffled))
    assert a.groups() == b.groups()


def test_ids_come_from_the_earliest_payment_and_merges_point_on() -> None:
    order = {"a": (5, "a"), "b": (3, "b"), "c": (9, "c"), "d": (1, "d")}.__getitem__
    first, merged = assign_ids([["a", "b"], ["c"]], {}, order)
    assert first == {new_campaign_id("b"): ["a", "b"], new_campaign_id("c"): ["c"]}
    assert merged == {}
    previous = {k: cid for cid, g in first.items() for k in g}
    # c links in: the campaign with the earliest payment (b) keeps its id, c's merges into it
    second, merged = assign_ids([["a", "b", "c"]], previous, order)
    assert list(second) == [new_campaign_id("b")]
    assert merged == {new_campaign_id("c"): new_campaign_id("b")}
    # d, paid earlier than everyone, joins: the campaign is named after d from now on
    third, merged = assign_ids(
        [["a", "b", "c", "d"]], {k: new_campaign_id("b") for k in "abc"}, order
    )
    assert list(third) == [new_campaign_id("d")] and merged == {
        new_campaign_id("b"): new_campaign_id("d")
    }


@given(st.permutations(["a", "b", "c", "d", "e"]), st.integers(1, 4))
def test_ids_do_not_depend_on_history(keys: list[str], cut: int) -> None:
    # The same final groups get the same ids whether they were built in one run or grew.
    final = [sorted(keys[:cut]), sorted(keys[cut:])]
    direct, _ = assign_ids(final, {})
    grown, _ = assign_ids([[k] for k in keys], {})
    previous = {k: cid for cid, g in grown.items() for k in g}
    again, _ = assign_ids(final, previous)
    assert again == direct


def test_split_gives_each_part_its_own_id() -> None:
    prev = {"a": "CMP-X", "b": "CMP-X", "c": "CMP-X"}
    out, merged = assign_ids([["a", "b"], ["c"]], prev)
    assert out == {new_campaign_id("a"): ["a", "b"], new_campaign_id("c"): ["c"]}
    assert merged == {"CMP-X": new_campaign_id("a")}
