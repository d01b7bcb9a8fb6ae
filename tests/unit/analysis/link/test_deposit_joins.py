"""The deposit rule on its own: components (by root, with their payments) and the
deposit addresses (ids) each reached, as the chain walk reports them."""

from __future__ import annotations

from fundtrail.analysis.link.deposits import DepositConflict, deposit_joins

from .linked import groups_of


def test_a_mule_shared_by_two_gangs_is_a_conflict_and_their_own_deposits_still_join() -> None:
    # 0: a scam of 40 payments (deposits 100-103); 1-6: a ransomware's batches of 2,
    # glued by its mules' deposits 200 and 201; deposit 103 is a mule both used
    size = {0: 40, **{c: 2 for c in range(1, 7)}}
    reached = {100: [0], 101: [0], 102: [0], 103: [0, 1, 4], 200: [1, 2, 3], 201: [3, 4, 5, 6]}
    joins, clashes = deposit_joins(reached, size)
    assert groups_of(7, joins) == [{0}, {1, 2, 3, 4, 5, 6}]
    assert clashes == [DepositConflict(103, ((0,), (1, 4)))]


def test_a_lone_batch_joins_the_one_campaign_its_deposit_reaches() -> None:
    # 2 (one payment) cashed out only at the scam's deposit 100: it joins the scam
    joins, clashes = deposit_joins({100: [0, 2], 101: [0]}, {0: 40, 2: 1})
    assert groups_of(3, joins) == [{0, 2}, {1}]
    assert [j.deposit for j in joins] == [100]
    assert clashes == []


def test_a_lone_batch_reaching_two_campaigns_joins_neither() -> None:
    # 0 and 1 are campaigns of their own (12 payments each, no deposit in common);
    # 2 cashed out at one deposit of each: no way to tell whose it is
    joins, clashes = deposit_joins({100: [0, 2], 101: [1, 2]}, {0: 12, 1: 12, 2: 1})
    assert joins == []
    assert [c.deposit for c in clashes] == [100, 101]


def test_campaigns_cashing_out_to_the_same_accounts_are_one() -> None:
    # 0 and 1 (12 payments each) share two of 1's three deposits: one gang's mules
    reached = {100: [0, 1], 101: [0, 1], 102: [1], 103: [0], 104: [0], 105: [0]}
    joins, clashes = deposit_joins(reached, {0: 12, 1: 12})
    assert groups_of(2, joins) == [{0, 1}]
    assert clashes == []


def test_two_gangs_sharing_a_mules_reused_deposit_stay_two_campaigns() -> None:
    # 0-2: a scam's fragments (12 payments each) at its own deposits 100 and 101; 3-8: a
    # ransomware's batches of 2, glued by its mules' deposits 200-203; 300 is a mule both
    # gangs pay. Fragment 2 reached only 100 and the mule: half its deposits either way
    size = {0: 12, 1: 12, 2: 12, **{c: 2 for c in range(3, 9)}}
    reached = {100: [0, 1, 2], 101: [0, 1], 300: [0, 2, 3, 5],
               200: [3, 4], 201: [4, 5], 202: [5, 6, 7], 203: [7, 8]}  # fmt: skip
    joins, clashes = deposit_joins(reached, size)
    assert groups_of(9, joins) == [{0, 1, 2}, {3, 4, 5, 6, 7, 8}]
    assert clashes == [DepositConflict(300, ((0, 2), (3, 5)))]


def test_fragments_of_one_gang_at_the_same_mules_still_join() -> None:
    # three fragments of one gang (12 each) cashing out at its mules 100-102, one of
    # them also at 103: one campaign, the share judged on the campaign merged so far
    reached = {100: [0, 1, 2], 101: [0, 1], 102: [1, 2], 103: [2]}
    joins, clashes = deposit_joins(reached, {0: 12, 1: 12, 2: 12})
    assert groups_of(3, joins) == [{0, 1, 2}]
    assert clashes == []
