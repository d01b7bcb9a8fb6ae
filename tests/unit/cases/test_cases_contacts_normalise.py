"""Perpetrator contacts: what victims type, normalised so that the same contact compares equal."""

from __future__ import annotations

from pathlib import Path

import pytest

from fundtrail.cases.complaints import read_csv
from fundtrail.cases.contacts import Contact, linkable, normalise, parse_contacts
from fundtrail.errors import InvalidInputError


@pytest.mark.parametrize(
    ("kind", "typed", "compared"),
    [
        ("email", "NightLatch.Decrypt@OnionMail.example", "nightlatch.decrypt@onionmail.example"),
        ("email", " mailto:Help@Gang.Example ", "help@gang.example"),
        ("site", "https://www.Aurelia-Yield.example/account/login?x=1", "aurelia-yield.example"),
        ("site", "WWW.AURELIA-YIELD.EXAMPLE/", "aurelia-yield.example"),
        ("site", "aurelia-yield.example.", "aurelia-yield.example"),
        ("site", "http://user:pw@shop.example:8080/#top", "shop.example"),
        ("site", "http://abcdefghijklmnop.onion/chat/12", "abcdefghijklmnop.onion"),
        ("site", "www.example", "www.example"),  # a host named www, not a www. prefix
        ("site", "https://bücher.example/", "xn--bcher-kva.example"),
        ("phone", "+44 7700 900-123", "+447700900123"),
        ("phone", "0044 (7700) 900123", "+447700900123"),
        ("phone", "07700 900123", "07700900123"),  # no country code: kept as written
        ("handle", "@Aurelia_Anna1", "@aurelia_anna1"),
        ("handle", "https://t.me/aurelia_anna1", "@aurelia_anna1"),
        ("handle", "A1B2" * 19, "@" + "a1b2" * 19),  # a Tox id
    ],
)
def test_what_victims_type_compares_equal(kind: str, typed: str, compared: str) -> None:
    assert normalise(kind, typed) == Contact(kind, compared)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kind", "typed", "says"),
    [
        ("email", "gang at mail.example", "not an e-mail address"),
        ("email", "x@localhost", "not a valid domain name"),
        ("email", "a..b@mail.example", "not an e-mail address"),
        ("site", "support@gang.example", "looks like an e-mail address"),
        ("site", "not a site", "not a valid domain name"),
        ("site", "http://shop.123/", "top-level domain"),
        ("phone", "call me", "not a phone number"),
        ("phone", "+1 23", "has 3 digits"),
        ("handle", "@a", "not a messenger handle"),
        ("handle", "@bad handle", "not a messenger handle"),
    ],
)
def test_what_is_not_a_contact_is_refused_naming_the_field(
    kind: str, typed: str, says: str
) -> None:
    with pytest.raises(InvalidInputError) as err:
        normalise(kind, typed)
    assert says in err.value.message
    assert err.value.field == f"perpetrator_{kind}"


def test_columns_lists_and_duplicates() -> None:
    found = parse_contacts({
        "perpetrator_email": "A@Gang.example; a@gang.example",
        "perpetrator_site": "https://gang.example/x",
        "perpetrator_contacts": [{"kind": "handle", "value": "@Gang"}, {"kind": "site", "value": "gang.example"}],
    })  # fmt: skip
    assert [c.to_dict() for c in found] == [
        {"kind": "email", "value": "a@gang.example"},
        {"kind": "site", "value": "gang.example"},
        {"kind": "handle", "value": "@gang"},
    ]
    with pytest.raises(InvalidInputError, match="kind 'fax'"):
        parse_contacts({"perpetrator_contacts": [{"kind": "fax", "value": "123456"}]})
    with pytest.raises(InvalidInputError, match="needs"):
        parse_contacts({"perpetrator_contacts": ["gang@mail.example"]})


@pytest.mark.parametrize(
    ("site", "links"),
    [
        ("gmail.com", False),
        ("mail.google.com", False),  # a subdomain of a generic platform
        ("t.me", False),
        ("blogspot.com", False),
        ("aurelia.blogspot.com", True),  # one site on a shared host: specific
        ("aurelia-yield.example", True),
        ("notgmail.com", True),
    ],
)
def test_generic_sites_never_link(site: str, links: bool) -> None:
    assert linkable(normalise("site", site)) is links
    assert linkable(normalise("email", f"someone@{site}"))  # a full address always may


def test_a_bad_contact_in_a_csv_names_its_line_and_field(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    good = "v,BTC," + "ab" * 32 + ",0,1BoatSLRHtKNngkdXEeobR76b53LETtpyT,1000"
    path.write_text(
        "victim,chain,txid,vout,to_address,amount,perpetrator_email,perpetrator_site\n"
        f"{good},gang@mail.example,gang.example\n"
        f"{good.replace('ab', 'cd')},gang(at)mail.example,\n"
    )
    items, errors = read_csv(path)
    assert [c.to_dict() for c in items[0].perpetrator] == [
        {"kind": "email", "value": "gang@mail.example"},
        {"kind": "site", "value": "gang.example"},
    ]
    assert [(e.line, e.field) for e in errors] == [(3, "perpetrator_email")]
    assert "gang(at)mail.example" in errors[0].message
