"""The intel store's contract, on SQLite and PostgreSQL: orgs, keys, TLP visibility on
every read path, signed pagination, owner-only writes, sightings, idempotent import."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
import sqlalchemy as sa

from fundtrail.errors import (
    AuthenticationError,
    ConflictError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
)
from fundtrail.intel.indicators import IndicatorService
from fundtrail.intel.records import IndicatorRecord
from fundtrail.intelstore.base import utcnow
from fundtrail.intelstore.db import IntelStore
from fundtrail.intelstore.indicators import IndicatorQuery
from fundtrail.intelstore.keys import authenticate, create_key, revoke_key
from fundtrail.intelstore.models import ApiKey, Indicator
from fundtrail.intelstore.orgs import add_org, list_orgs, org_identity
from fundtrail.model.identity import Identity
from fundtrail.model.tlp import TLP, may_see

ORGS = ("police", "exchange", "bank")


@pytest.fixture
def orgs(store: IntelStore) -> dict[str, Identity]:
    with store.session() as s:
        for name in ORGS:
            add_org(s, name, "alliance")
        return {n: org_identity(s, n, "analyst") for n in ORGS}


@pytest.fixture
def svc(store: IntelStore) -> IndicatorService:
    return IndicatorService(store)


def domain(i: int, tlp: TLP, share: list[str] | None = None) -> IndicatorRecord:
    return IndicatorRecord.build(
        "domain",
        f"scam-{i}.example.com",
        "phishing",
        tlp=tlp.value,
        share_with=share or [],
        description=f"case {i}",
    )


def test_orgs_are_unique_and_validated(store: IntelStore, orgs: dict[str, Identity]) -> None:
    with store.session() as s:
        assert [o.name for o in list_orgs(s)] == sorted(ORGS)
        with pytest.raises(ConflictError):
            add_org(s, "police")
        with pytest.raises(InvalidInputError, match="kind"):
            add_org(s, "new", "pirates")


def test_keys_store_only_a_hash_and_stop_when_revoked_or_expired(
    store: IntelStore, orgs: dict[str, Identity]
) -> None:
    with store.session() as s:
        good = create_key(s, "police", "reader")
        old = create_key(s, "bank", "admin", expires=utcnow() - timedelta(seconds=1))
    with store.read_session() as s:
        who = authenticate(s, good.key)
        assert (who.org_name, who.role) == ("police", "reader")
        stored = s.scalars(sa.select(ApiKey)).all()
        assert all(good.key not in (k.key_sha256, k.prefix, k.label) for k in stored)
        with pytest.raises(AuthenticationError, match="expired"):
            authenticate(s, old.key)
        with pytest.raises(AuthenticationError, match="invalid"):
            authenticate(s, good.key[:-1] + ("A" if good.key[-1] != "A" else "B"))
    with store.session() as s:
        revoke_key(s, good.prefix)
    with store.read_session() as s, pytest.raises(AuthenticationError, match="revoked"):
        authenticate(s, good.key)


def test_visibility_matches_may_see_on_every_read_path(
    store: IntelStore, svc: IndicatorService, orgs: dict[str, Identity]
) -> None:
    """Every (TLP, owner, share list, viewer) combination: get, search, count, export, value."""
    shares = ([], ["exchange"], ["exchange", "bank"])
    expected: dict[str, set[str]] = {n: set() for n in ORGS}
    ids: list[str] = []
    for i, (tlp, owner, share) in enumerate(itertools.product(TLP, ("police", "bank"), shares)):
        rec = svc.add(orgs[owner], domain(i, tlp, share))
        ids.append(rec.id or "")
        for viewer in ORGS:
            if may_see(tlp, owner_org=owner, viewer_org=viewer, shared_with=set(share)):
                expected[viewer].add(rec.id or "")
    for viewer, who in orgs.items():
        seen_get = set()
        for iid in ids:
            try:
                seen_get.add(svc.get(who, iid).id)
            except NotFoundError as exc:
                assert exc.message == f"no indicator {iid!r}"  # same words as a missing one
        assert seen_get == expected[viewer]
        assert {r.id for r in svc.export(who)} == expected[viewer]
        page = svc.search(who, IndicatorQuery(q="scam-"), limit=1000, with_total=True)
        assert {r.id for r in page.items} == expected[viewer]
        assert page.total == svc.count(who, IndicatorQuery()) == len(expected[viewer])
        assert {
            r.id
            for r in svc.search(who, IndicatorQuery(value="scam-3.example.com"), limit=10).items
        } <= expected[viewer]
    with pytest.raises(NotFoundError, match="no indicator 'no-such-id'"):
        svc.get(orgs["police"], "no-such-id")


def test_sharing_list_shown_to_the_owner_only(
    svc: IndicatorService, orgs: dict[str, Identity]
) -> None:
    rec = svc.add(orgs["police"], domain(1, TLP.AMBER, ["exchange"]))
    assert svc.get(orgs["police"], rec.id or "").share_with == ["exchange"]
    assert svc.get(orgs["exchange"], rec.id or "").share_with == []


def test_pages_cover_everything_once_and_tokens_are_bound(
    svc: IndicatorService, orgs: dict[str, Identity]
) -> None:
    for i in range(7):
        svc.add(orgs["police"], domain(i, TLP.GREEN))
    svc.add(orgs["police"], domain(99, TLP.RED))  # police only
    got, token = [], None
    while True:
        page = svc.search(orgs["exchange"], IndicatorQuery(), limit=3, next_token=token)
        got += [r.id for r in page.items]
        token = page.next
        if token is None:
            break
    assert len(got) == len(set(got)) == 7
    first = svc.search(orgs["police"], IndicatorQuery(), limit=2)
    assert first.next
    with pytest.raises(InvalidInputError, match="not valid for this caller"):
        svc.search(orgs["exchange"], IndicatorQuery(), limit=2, next_token=first.next)
    with pytest.raises(InvalidInputError, match="not valid"):
        svc.search(orgs["police"], IndicatorQuery(q="x"), limit=2, next_token=first.next)
    forged = first.next[:-2] + ("AA" if not first.next.endswith("AA") else "BB")
    with pytest.raises(InvalidInputError, match="not valid"):
        svc.search(orgs["police"], IndicatorQuery(), limit=2, next_token=forged)


def test_only_the_owner_writes_and_readers_never(
    store: IntelStore, svc: IndicatorService, orgs: dict[str, Identity]
) -> None:
    rec = svc.add(orgs["police"], domain(1, TLP.GREEN))
    hidden = svc.add(orgs["police"], domain(2, TLP.AMBER_STRICT))
    with pytest.raises(PermissionDeniedError):
        svc.update(orgs["exchange"], rec.id or "", {"confidence": 1})
    with pytest.raises(NotFoundError):
        svc.delete(orgs["exchange"], hidden.id or "")
    with store.session() as s:
        reader = org_identity(s, "police", "reader")
    with pytest.raises(PermissionDeniedError):
        svc.add(reader, domain(3, TLP.CLEAR))
    with pytest.raises(InvalidInputError, match="editable"):
        svc.update(orgs["police"], rec.id or "", {"value": "other.example.com"})
    changed = svc.update(orgs["police"], rec.id or "", {"tlp": "red", "share_with": ["bank"]})
    assert changed.tlp is TLP.RED
    with pytest.raises(NotFoundError):
        svc.get(orgs["exchange"], rec.id or "")
    svc.delete(orgs["police"], rec.id or "")
    with pytest.raises(NotFoundError):
        svc.get(orgs["police"], rec.id or "")
    with pytest.raises(ConflictError):
        svc.add(orgs["police"], domain(2, TLP.GREEN))


def test_sighting_org_is_named_only_to_itself_and_the_owner(
    svc: IndicatorService, orgs: dict[str, Identity]
) -> None:
    rec = svc.add(orgs["police"], domain(1, TLP.GREEN))
    svc.add_sighting(orgs["exchange"], rec.id or "", where="deposit wallet")
    svc.add_sighting(orgs["bank"], rec.id or "", kind="false-positive")
    by_viewer = {
        n: [v.org for v in svc.list_sightings(who, rec.id or "")] for n, who in orgs.items()
    }
    assert by_viewer["police"] == ["exchange", "bank"]
    assert by_viewer["exchange"] == ["exchange", None]
    assert by_viewer["bank"] == [None, "bank"]
    hidden = svc.add(orgs["police"], domain(2, TLP.RED))
    with pytest.raises(NotFoundError):
        svc.list_sightings(orgs["bank"], hidden.id or "")
    with pytest.raises(NotFoundError):
        svc.add_sighting(orgs["bank"], hidden.id or "")


def test_import_is_idempotent_and_all_or_nothing(
    store: IntelStore, svc: IndicatorService, orgs: dict[str, Identity]
) -> None:
    recs = [domain(i, TLP.CLEAR) for i in range(5)] + [domain(0, TLP.CLEAR)]
    first = svc.import_records(orgs["bank"], recs)
    assert (first.added, first.updated, first.duplicates) == (5, 0, 1)
    again = svc.import_records(orgs["bank"], recs[:5])
    assert (again.added, again.updated) == (0, 5)
    bad = [domain(10, TLP.CLEAR), domain(11, TLP.AMBER, ["no-such-org"])]
    with pytest.raises(InvalidInputError, match="no-such-org"):
        svc.import_records(orgs["bank"], bad)
    with store.read_session() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(Indicator)) == 5


def test_confidence_and_references_are_checked(
    svc: IndicatorService, orgs: dict[str, Identity]
) -> None:
    rec = domain(1, TLP.CLEAR)
    rec.confidence = 101
    with pytest.raises(InvalidInputError, match="confidence"):
        svc.add(orgs["police"], rec)
    rec = domain(1, TLP.CLEAR)
    rec.references = ["javascript:alert(1)"]
    with pytest.raises(InvalidInputError, match="http"):
        svc.add(orgs["police"], rec)
