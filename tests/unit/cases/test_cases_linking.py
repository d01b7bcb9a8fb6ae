"""Linking: explained unions, order-independent groups, stable ids across re-runs."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from fundtrail.cases.linking import (
    SAME_ADDRESS,
    SAME_CASHOUT,
    SAME_CLUSTER,
    Linker,
    assign_ids,
    new_campaign_id,
)


def test_rounds_join_with_reasons() -> None:
    # k1,k2 pay the same address; k3 pays another address of the same cluster;
    # k4 is unrelated until a trace shows its funds at k1's cash-out deposit.
    lk = Linker(["k1", "k2", "k3", "k4", "k5"])
    lk.join_on(SAME_ADDRESS, {"k1": ["a"], "k2": ["a"], "k3": ["b"], "k4": ["c"], "k5": ["d"]})
    lk.join_on(SAME_CLUSTER, {"k1": ["7"], "k2": ["7"], "k3": ["7"]})
    assert lk.groups() == [["k1", "k2", "k3"], ["k4"], ["k5"]]
    lk.join_on(SAME_CASHOUT, {"k1": ["dep1"], "k4": ["dep1"], "k5": ["dep2"]})
    assert lk.groups() == [["k1", "k2", "k3", "k4"], ["k5"]]
    reasons = {(x.b, x.reason, x.detail) for x in lk.links_of(["k1"])}
    assert reasons == {
        ("k2", SAME_ADDRESS, "a"),
        ("k3", SAME_CLUSTER, "7"),
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


def test_ids_stable_on_growth_and_merge() -> None:
    first, merged = assign_ids([["a", "b"], ["c"]], {})
    assert merged == {}
    id_ab = next(k for k, v in first.items() if v == ["a", "b"])
    id_c = next(k for k, v in first.items() if v == ["c"])
    assert id_ab == new_campaign_id("a")
    previous = {k: cid for cid, g in first.items() for k in g}
    # new complaint d joins a,b; then c links in too: the bigger campaign keeps its id
    second, merged = assign_ids([["a", "b", "c", "d"]], previous)
    assert list(second) == [id_ab] and merged == {id_c: id_ab}
    # same input again: nothing changes
    again, merged2 = assign_ids([["a", "b", "c", "d"]], {k: id_ab for k in "abcd"})
    assert again == second and merged2 == {}


def test_split_gives_the_smaller_part_a_new_id() -> None:
    prev = {"a": "CMP-X", "b": "CMP-X", "c": "CMP-X"}
    out, merged = assign_ids([["a", "b"], ["c"]], prev)
    assert out["CMP-X"] == ["a", "b"] and out[new_campaign_id("c")] == ["c"] and merged == {}
