"""Linking on reported contacts: lone victims join their gang, established campaigns never
merge on a shared contact (a conflict instead), strongest evidence first, any order."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from fundtrail.cases.contactlink import (
    ESTABLISHED,
    SAME_CONTACT,
    conflicts,
    link_contacts,
)
from fundtrail.cases.linking import SPENT_TOGETHER, Linker


def _world(chain: dict[str, list[str]], keys: list[str]) -> Linker:
    """A linker whose groups the chain already made: {group name: its payment keys}."""
    lk = Linker(keys)
    lk.join_on(SPENT_TOGETHER, {k: [g] for g, ks in chain.items() for k in ks})
    return lk


GANG_A = [f"a{i:02d}" for i in range(12)]
GANG_B = [f"b{i:02d}" for i in range(10)]
KEYS = [*GANG_A, *GANG_B, "lone1", "lone2", "lone3"]
CHAIN = {"A": GANG_A, "B": GANG_B}


def test_a_victim_whose_ransom_never_moved_joins_on_the_gang_e_mail() -> None:
    lk = _world(CHAIN, KEYS)
    contacts = {"a00": [("email", "E1")], "a03": [("email", "E1")], "lone1": [("email", "E1")]}
    link_contacts(lk, contacts)
    assert [*GANG_A, "lone1"] == sorted(lk.groups()[0])
    joined = [x for x in lk.links if x.reason == SAME_CONTACT]
    assert [(x.a, x.b, x.detail) for x in joined] == [("a00", "lone1", "email:E1")]
    assert conflicts(lk, contacts) == []


def test_two_established_campaigns_sharing_a_contact_stay_apart_as_a_conflict() -> None:
    assert min(len(GANG_A), len(GANG_B)) >= max(ESTABLISHED.values())
    lk = _world(CHAIN, KEYS)
    contacts = {
        "a01": [("phone", "BANK")],
        "b02": [("phone", "BANK")],
        "lone2": [("phone", "BANK")],
    }
    link_contacts(lk, contacts)
    assert sorted(map(len, lk.groups())) == [1, 1, 1, 10, 12]  # nothing merged
    (c,) = conflicts(lk, contacts)
    assert c.kind == "phone" and sorted(c.groups) == [("a01",), ("b02",), ("lone2",)]


def test_a_lone_complaint_reaching_two_campaigns_joins_neither() -> None:
    lk = _world(CHAIN, KEYS)
    contacts = {
        "a00": [("email", "EA")],
        "b00": [("email", "EB")],
        "lone1": [("email", "EA"), ("email", "EB")],  # a bridge: no way to tell which
        "lone2": [("email", "EA")],  # reaches A only: joins it
    }
    link_contacts(lk, contacts)
    groups = sorted(lk.groups(), key=len)
    assert ["lone1"] in groups and sorted([*GANG_A, "lone2"]) in groups
    assert {c.index for c in conflicts(lk, contacts)} == {"EA", "EB"}


def test_lone_victims_sharing_a_contact_form_their_own_campaign() -> None:
    lk = _world(CHAIN, KEYS)
    contacts = {"lone1": [("handle", "@x")], "lone2": [("handle", "@x")], "lone3": [("site", "s")]}
    link_contacts(lk, contacts)
    assert ["lone1", "lone2"] in lk.groups() and ["lone3"] in lk.groups()


def test_strong_evidence_first_so_a_bank_phone_does_not_decide() -> None:
    # lone1 reports gang B's e-mail and the bank phone many of A's victims give: the
    # e-mail (stronger) joins it to B first; the phone is then shared by A and B
    lk = _world(CHAIN, KEYS)
    contacts = {
        "a00": [("phone", "BANK")],
        "a02": [("phone", "BANK")],
        "b01": [("email", "EB")],
        "lone1": [("email", "EB"), ("phone", "BANK")],
    }
    link_contacts(lk, contacts)
    assert sorted([*GANG_B, "lone1"]) in lk.groups() and GANG_A in lk.groups()
    (c,) = conflicts(lk, contacts)
    assert c.index == "BANK"


def test_fragments_of_a_gang_the_chain_has_not_joined_yet_meet_on_its_e_mail() -> None:
    # three, four and two victims whose money has not met yet: not campaigns on their own
    frags = {"F1": ["f1", "f2", "f3"], "F2": ["g1", "g2", "g3", "g4"], "F3": ["h1", "h2"]}
    lk = _world({**CHAIN, **frags}, [*KEYS, *(k for ks in frags.values() for k in ks)])
    contacts = {"a00": [("email", "E")], "f2": [("email", "E")], "g4": [("email", "E")],
                "h1": [("handle", "@gang")], "f1": [("handle", "@gang")]}  # fmt: skip
    link_contacts(lk, contacts)
    assert sorted([*GANG_A, "f1", "f2", "f3", "g1", "g2", "g3", "g4", "h1", "h2"]) in lk.groups()


def test_a_phone_joins_lone_complaints_only() -> None:
    # two payments the chain linked stand on their own against a phone (the weakest kind)
    lk = _world({**CHAIN, "C": ["lone1", "lone2"]}, KEYS)
    contacts = {"a00": [("phone", "P")], "lone2": [("phone", "P")],
                "a01": [("phone", "Q")], "lone3": [("phone", "Q")]}  # fmt: skip
    link_contacts(lk, contacts)
    assert ["lone1", "lone2"] in lk.groups() and sorted([*GANG_A, "lone3"]) in lk.groups()
    (c,) = conflicts(lk, contacts)
    assert c.index == "P"


contact_sets = st.dictionaries(
    st.sampled_from(KEYS),
    st.lists(
        st.tuples(st.sampled_from(["email", "handle", "site", "phone"]), st.sampled_from("PQRS"))
    ),
    max_size=12,
)


@settings(deadline=None)  # a rule, not a timing: a loaded CI box must not fail it
@given(contact_sets, st.randoms())
def test_the_result_does_not_depend_on_order(contacts: dict, rnd) -> None:
    a = _world(CHAIN, KEYS)
    link_contacts(a, contacts)
    items = [(k, list(v)) for k, v in contacts.items()]
    rnd.shuffle(items)
    for _, v in items:
        rnd.shuffle(v)
    keys = list(KEYS)
    rnd.shuffle(keys)
    b = _world(dict(reversed(CHAIN.items())), keys)
    link_contacts(b, dict(items))
    assert a.groups() == b.groups()
    assert conflicts(a, contacts) == conflicts(b, dict(items))
    # and two established campaigns end up in one group only on an e-mail or handle that
    # at least two victims of each name, and most of those of each who gave one of its kind
    merged = any(set(GANG_A) <= set(g) and set(GANG_B) <= set(g) for g in a.groups())
    assert merged == any(
        _owned_by_both(contacts, kind, value) for kind in ("email", "handle") for value in "PQRS"
    )


def _owned_by_both(contacts: dict, kind: str, value: str) -> bool:
    def own(gang: list[str]) -> bool:
        reporting = [k for k in gang if any(c[0] == kind for c in contacts.get(k, ()))]
        held = [k for k in gang if (kind, value) in contacts.get(k, ())]
        return len(held) >= 2 and 2 * len(held) >= len(reporting)

    return own(GANG_A) and own(GANG_B)


def test_fragments_whose_victims_mostly_name_one_site_are_one_campaign() -> None:
    # a scam whose victims each paid a fresh address (field style): the chain leaves two
    # fragments of a dozen victims, and most victims of each name the platform's site;
    # one of each also gives their own bank's phone, which stays a conflict
    lk = _world(CHAIN, KEYS)
    contacts = {k: [("site", "platform.example")] for k in [*GANG_A[:7], *GANG_B[:6]]}
    contacts["a11"] = [("phone", "BANK")]
    contacts["b09"] = [("phone", "BANK")]
    link_contacts(lk, contacts)
    assert sorted([*GANG_A, *GANG_B]) in lk.groups()
    (link,) = [x for x in lk.links if x.reason == SAME_CONTACT]
    assert link.detail == "site:platform.example"


def test_a_site_only_a_few_victims_of_each_name_is_a_conflict_not_a_link() -> None:
    # a "support site" two of A's twelve and two of B's ten victims name: not either's own
    lk = _world(CHAIN, KEYS)
    contacts = {k: [("site", "helpdesk.example")] for k in ["a00", "a01", "b00", "b01"]}
    link_contacts(lk, contacts)
    assert sorted(map(len, lk.groups())) == [1, 1, 1, 10, 12]
    (c,) = conflicts(lk, contacts)
    assert c.index == "helpdesk.example"


def test_halves_of_a_gang_meet_on_the_e_mail_the_victims_who_gave_one_name() -> None:
    # a ransomware gang the chain left in two halves (one through a CoinJoin, one peeled
    # straight to fresh deposits): a third of each half's victims give the note's e-mail,
    # nobody another one; far from most victims, but every one who gave an e-mail
    lk = _world(CHAIN, KEYS)
    contacts = {k: [("email", "NOTE")] for k in [*GANG_A[:4], *GANG_B[:3]]}
    contacts["a05"] = [("phone", "BANK")]
    link_contacts(lk, contacts)
    assert sorted([*GANG_A, *GANG_B]) in lk.groups()
    (link,) = [x for x in lk.links if x.reason == SAME_CONTACT]
    assert link.detail == "email:NOTE"


def test_an_e_mail_one_victim_of_a_campaign_gives_merges_nothing() -> None:
    # one of B's victims writes down the e-mail A's victims name (a slip, a forwarded
    # note): B's only e-mail, but one report is not B's own
    lk = _world(CHAIN, KEYS)
    contacts = {k: [("email", "EA")] for k in [*GANG_A[:3], "b04"]}
    link_contacts(lk, contacts)
    assert sorted(map(len, lk.groups())) == [1, 1, 1, 10, 12]
    (c,) = conflicts(lk, contacts)
    assert c.index == "EA"


def test_an_e_mail_few_of_the_victims_who_gave_one_name_merges_nothing() -> None:
    # two of B's victims name A's e-mail, five others B's own: not B's
    lk = _world(CHAIN, KEYS)
    contacts = {k: [("email", "EA")] for k in [*GANG_A[:3], "b00", "b01"]}
    contacts.update({k: [("email", "EB")] for k in GANG_B[2:7]})
    link_contacts(lk, contacts)
    assert sorted(map(len, lk.groups())) == [1, 1, 1, 10, 12]


def test_a_pair_that_reached_two_fragments_joins_them_once_they_are_one() -> None:
    # two victims the chain linked name two of a scam's account managers' handles, each
    # held by another fragment of the scam; the handles come first, so the pair reaches
    # two campaigns and waits; then the platform's site, which most of each fragment's
    # victims name, makes the fragments one: the pair has one campaign to join
    lk = _world({**CHAIN, "C": ["lone1", "lone2"]}, KEYS)
    contacts = {k: [("site", "platform.example")] for k in [*GANG_A[:7], *GANG_B[:6]]}
    contacts["a11"] = [("handle", "@anna")]
    contacts["b09"] = [("handle", "@elena")]
    contacts["lone1"] = [("handle", "@anna")]
    contacts["lone2"] = [("handle", "@elena")]
    link_contacts(lk, contacts)
    assert sorted([*GANG_A, *GANG_B, "lone1", "lone2"]) in lk.groups()
    assert conflicts(lk, contacts) == []
    assert {x.detail for x in lk.links if x.reason == SAME_CONTACT} == {
        "site:platform.example",
        "handle:@anna",
    }
