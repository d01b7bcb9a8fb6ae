"""The simulator's victims report the perpetrator's contacts as real victims do."""

from __future__ import annotations

from collections import Counter

from fundtrail.cases.contacts import linkable, parse_contacts
from fundtrail.chains.simulate.contacts import COLUMNS, reported
from fundtrail.chains.simulate.truth import Campaign


def _campaigns() -> tuple[list[Campaign], list[str]]:
    ransom = Campaign("ransomware-1", "ransomware", 1, [f"R{i}" for i in range(400)])
    scam = Campaign("scam-1", "investment-scam", 2, [f"S{i}" for i in range(400)])
    return [ransom, scam], ["NightLatch ransomware", "Aurelia Yield Partners"]


def _parsed(seed: int) -> dict[str, list]:
    camps, names = _campaigns()
    return {
        cid: parse_contacts(dict(zip(COLUMNS, cells, strict=True)))
        for cid, cells in reported(seed, camps, names).items()
    }


def test_victims_report_their_gang_as_victims_do() -> None:
    got = _parsed(3)
    ransom = Counter(c.value for k, cs in got.items() if k[0] == "R" for c in cs
                     if c.kind == "email")  # fmt: skip
    gang = [v for v, n in ransom.items() if n >= 40]
    assert 1 <= len(gang) <= 2  # one or two e-mails in the gang's notes
    assert 0.6 < sum(ransom[v] for v in gang) / 400 < 0.95  # most report one, some none
    assert any(n < 5 for n in ransom.values())  # a few mistyped
    sites = Counter(c.value for k, cs in got.items() if k[0] == "S" for c in cs
                    if c.kind == "site" and linkable(c))  # fmt: skip
    assert sites.most_common(1)[0] == ("aurelia-yield.example", sites.most_common(1)[0][1])
    assert sites.most_common(1)[0][1] > 250
    # noise: gmail.com as a site (never linking) and the same banks' phones in both
    assert any(not linkable(c) for cs in got.values() for c in cs)
    phones: dict[str, set[str]] = {"R": set(), "S": set()}
    for k, cs in got.items():
        phones[k[0]] |= {c.value for c in cs if c.kind == "phone"}
    assert phones["R"] & phones["S"]


def test_same_seed_same_reports_other_seed_other_gang() -> None:
    assert _parsed(3) == _parsed(3)
    assert _parsed(3) != _parsed(4)


def test_two_gangs_of_one_brand_report_different_contacts() -> None:
    twins = [Campaign(f"ransomware-{n}", "ransomware", n, [f"R{n}-{i}" for i in range(50)])
             for n in (1, 2)]  # fmt: skip
    scams = [Campaign(f"scam-{n}", "investment-scam", n, [f"S{n}-{i}" for i in range(50)])
             for n in (1, 2)]  # fmt: skip
    got = reported(5, [*twins, *scams], ["Cinder ransomware"] * 2 + ["Vantix Capital Growth"] * 2)
    seen: dict[str, set[str]] = {}
    for cid, cells in got.items():
        for c in parse_contacts(dict(zip(COLUMNS, cells, strict=True))):
            if c.kind != "phone" and linkable(c):  # phones: the banks are shared on purpose
                seen.setdefault(c.value, set()).add(cid.split("-")[0])
    assert seen and all(len(camps) == 1 for camps in seen.values())
