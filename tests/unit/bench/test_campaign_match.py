"""bench/campaign_match: how linked campaigns are judged against the simulator's truth.

A tiny hand-made world: a scam of three victims paying one address, a ransomware of
three victims paying one address each. The cases are the ones the sweeps meet: exact, a
victim whose ransom never moved standing alone, a split with evidence, two gangs merged.
"""

from __future__ import annotations

import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[3] / "bench"
if str(BENCH) not in sys.path:
    sys.path.insert(0, str(BENCH))

from campaign_match import Linked, evidence_islands, judge, unlinkable_complaints  # noqa: E402

TRUTH = [
    {"id": "scam-1", "complaint_ids": ["S1", "S2", "S3"], "total_loss": {"USDT": 600}},
    {"id": "ransomware-1", "complaint_ids": ["R1", "R2", "R3"], "total_loss": {"ETH": 3000}},
]
KEY = {"USDT": "ETH/USDT", "ETH": "ETH"}.__getitem__


def camp(cid: str, refs: str, **loss: int) -> Linked:
    return Linked(cid, frozenset(refs.split()), {k.replace("_", "/"): v for k, v in loss.items()})


def outcomes(linked: list[Linked], unlinkable: frozenset[str] = frozenset()) -> dict[str, tuple]:
    return {o.truth_id: (o.exact, o.exact_linkable, o.why)
            for o in judge(TRUTH, linked, set(unlinkable), key=KEY)}  # fmt: skip


def test_exact_needs_the_same_complaints_and_the_same_loss_per_asset() -> None:
    got = outcomes([camp("A", "S1 S2 S3", ETH_USDT=600), camp("B", "R1 R2 R3", ETH=3000)])
    assert got == {"scam-1": (True, True, "exact"), "ransomware-1": (True, True, "exact")}


def test_a_different_total_is_not_exact_even_with_the_right_complaints() -> None:
    got = outcomes([camp("A", "S1 S2 S3", ETH_USDT=599), camp("B", "R1 R2 R3", ETH=3000)])
    assert got["scam-1"][:2] == (False, False)
    assert "total loss" in got["scam-1"][2]


def test_a_lone_complaint_without_evidence_fails_exact_but_passes_linkable() -> None:
    linked = [camp("A", "S1 S2 S3", ETH_USDT=600), camp("B", "R1 R2", ETH=2000),
              camp("C", "R3", ETH=1000)]  # fmt: skip
    exact, linkable, why = outcomes(linked, frozenset({"R3"}))["ransomware-1"]
    assert (exact, linkable) == (False, True)
    assert why == "split into 2 campaigns (2 + 1); alone: R3 (1 with no evidence)"


def test_a_lone_complaint_that_had_evidence_fails_both() -> None:
    linked = [camp("A", "S1 S2 S3", ETH_USDT=600), camp("B", "R1 R2", ETH=2000),
              camp("C", "R3", ETH=1000)]  # fmt: skip
    assert outcomes(linked)["ransomware-1"][:2] == (False, False)


def test_a_split_into_two_larger_pieces_fails_both() -> None:
    linked = [camp("A", "S1 S2", ETH_USDT=400), camp("B", "S3", ETH_USDT=200),
              camp("C", "R1 R2 R3", ETH=3000)]  # fmt: skip
    # S3 had evidence (it is not in the unlinkable set): a linking fault
    assert outcomes(linked, frozenset({"R1"}))["scam-1"][:2] == (False, False)


def test_two_gangs_merged_fail_both_and_say_who_was_merged_in() -> None:
    linked = [camp("A", "S1 S2 S3 R1 R2 R3", ETH=3000, ETH_USDT=600)]
    got = outcomes(linked, frozenset({"R1", "R2", "R3"}))
    assert got["scam-1"] == (False, False, "merged with 3 of ransomware-1")
    assert got["ransomware-1"] == (False, False, "merged with 3 of scam-1")


def test_a_complaint_in_no_campaign_is_named() -> None:
    got = outcomes([camp("A", "S1 S2", ETH_USDT=400), camp("B", "R1 R2 R3", ETH=3000)])
    assert got["scam-1"] == (False, False, "1 complaint in no campaign (S3)")


def row(cid: str, to: str, **contact: str) -> dict[str, str]:
    return {"complaint_id": cid, "to_address": to} | {
        f"perpetrator_{k}": v for k, v in contact.items()
    }


def test_unlinkable_is_a_lone_unmoved_address_no_other_victim_fed_and_no_contact() -> None:
    rows = [
        row("S1", "shared"), row("S2", "shared"),   # two victims paid one address
        row("R1", "r1"),                            # moved on (it spent)
        row("R2", "r2"),                            # never moved, nothing else: no evidence
        row("R3", "r3", phone="+44 20 7946 0342"),  # never moved, but a contact reported
        row("R4", "r4"),                            # never moved, but R1's address paid it
        row("R5", "r5", email=" "),                 # a blank contact is no contact
    ]  # fmt: skip
    paid_by = {"r2": {"victim-2"}, "r4": {"victim-4", "r1"}, "r5": {"r5"}}
    assert unlinkable_complaints(rows, {"r1", "shared"}, paid_by) == {"R2", "R5"}


def test_an_unmoved_address_two_victims_paid_is_evidence() -> None:
    rows = [row("S1", "shared"), row("S2", "shared")]
    assert unlinkable_complaints(rows, set(), {}) == set()


# the ransomware of TRUTH with five victims: R1-R3 reported the gang's e-mail (one in
# other letters), R4 and R5 reported nothing; the gang consolidated R4's and R5's
# ransoms together and peeled them into deposits of their own
RANSOM = [{"id": "ransomware-1", "complaint_ids": ["R1", "R2", "R3", "R4", "R5"],
           "total_loss": {"ETH": 5000}}]  # fmt: skip
MAIL = "help@gang.example"


def ransom_rows() -> list[dict[str, str]]:
    return [row("R1", "r1", email=MAIL), row("R2", "r2", email=f" {MAIL.upper()} "),
            row("R3", "r3", email=MAIL), row("R4", "r4"), row("R5", "r5")]  # fmt: skip


def test_victims_linked_only_to_each_other_are_an_island_though_each_one_moved() -> None:
    met = [("ransomware-1", "r4", "c45"), ("ransomware-1", "r5", "c45"),
           ("ransomware-1", "c45", "deposit-9")]  # fmt: skip
    # one at a time, R4 and R5 had evidence: their addresses spent (to the consolidation)
    assert unlinkable_complaints(ransom_rows(), {"r4", "r5"}, {"c45": {"r4", "r5"}}) == set()
    assert evidence_islands(RANSOM, ransom_rows(), met) == {"R4", "R5"}


def test_money_meeting_the_rest_at_a_wallet_or_a_deposit_joins_the_island() -> None:
    at_wallet = [("ransomware-1", "r4", "c45"), ("ransomware-1", "r5", "c45"),
                 ("ransomware-1", "r1", "c45")]  # fmt: skip
    assert evidence_islands(RANSOM, ransom_rows(), at_wallet) == set()
    at_deposit = [
        ("ransomware-1", "r4", "c45"),
        ("ransomware-1", "r5", "c45"),
        ("ransomware-1", "c45", "deposit-9"),
        ("ransomware-1", "r2", "deposit-9"),
    ]
    assert evidence_islands(RANSOM, ransom_rows(), at_deposit) == set()


def test_another_campaigns_rows_join_nothing_here() -> None:
    met = [("ransomware-1", "r4", "r5"), ("scam-1", "r5", "r1")]
    assert evidence_islands(RANSOM, ransom_rows(), met) == {"R4", "R5"}


def test_an_island_is_named_in_the_split_but_changes_no_judgement() -> None:
    linked = [camp("A", "R1 R2 R3", ETH=3000), camp("B", "R4 R5", ETH=2000)]
    (o,) = judge(RANSOM, linked, set(), key=KEY, islanded={"R4", "R5"})
    assert (o.exact, o.exact_linkable) == (False, False)
    assert o.why == (
        "split into 2 campaigns (3 + 2); 1 of the pieces (2) an evidence island: their "
        "money never meets the rest's, no contact shared"
    )
