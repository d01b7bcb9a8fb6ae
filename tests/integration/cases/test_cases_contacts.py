"""Reported contacts link what the chain cannot, and never merge what the chain keeps apart.

The world is the cases world's chain cut where one ransomware victim's payment is still
unspent (the gang had not moved it yet when the complaints came in): nothing on chain
links that victim to anyone, but the ransom note's e-mail does. Two noises victims
really add are planted on both campaigns: ``gmail.com`` given as the "site", and their
own bank's phone number. Neither may merge the scam with the ransomware gang.
"""

from __future__ import annotations

import csv
import shutil
import struct
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from cases_world import World, partner_tags

from fundtrail.cases.contacts import COLUMN_OF, normalise
from fundtrail.settings import reset_settings

BANK = "+44 20 7946 0123"


def _heights(home: Path) -> tuple[dict[str, int], dict[tuple[str, int], int]]:
    """{txid: height} and {(txid, vout): height of the tx spending it}."""
    from fundtrail.chainstore.store import ChainStore

    con = ChainStore("btc", home).connect()
    tx = dict(con.execute("SELECT txid, height FROM txs").fetchall())
    spent = con.execute(
        "SELECT t.txid, i.spent_n, i.height FROM inputs i JOIN txs t ON t.tx_id = i.spent_tx_id"
    ).fetchall()
    return tx, {(txid, n): h for txid, n, h in spent}


def _cut(world: World) -> tuple[str, int]:
    """The ransomware complaint to leave unmoved (reporting the gang's usual e-mail, and
    with the most of its gang's payments before it), and the last height to keep."""
    tx, spent = _heights(world.template)
    rows = [r for r in world.rows() if r["complaint_id"].startswith("C-RANSOMWARE")]
    usual = Counter(normalise("email", r["perpetrator_email"]).value
                    for r in rows if r["perpetrator_email"]).most_common(1)[0][0]  # fmt: skip
    best: tuple[int, str, int] | None = None
    for r in rows:
        if not r["perpetrator_email"] or normalise("email", r["perpetrator_email"]).value != usual:
            continue
        paid, moved = tx[r["txid"]], spent.get((r["txid"], int(r["vout"])))
        if moved is None or moved <= paid:
            continue
        before = sum(tx[o["txid"]] <= moved - 1 for o in rows)
        if best is None or (before, r["complaint_id"]) > best[:2]:
            best = (before, r["complaint_id"], moved - 1)
    assert best is not None and best[0] >= 5, "the world has no usable ransomware victim"
    return best[1], best[2]


def _prefix(src: Path, dst: Path, last_height: int) -> None:
    """The blocks up to ``last_height`` of a blk*.dat file (magic, size, block each; the
    genesis block, height 0, is not in the file: the first record is height 1)."""
    data, out, pos = src.read_bytes(), bytearray(), 0
    for _ in range(last_height):
        (size,) = struct.unpack_from("<I", data, pos + 4)
        out += data[pos : pos + 8 + size]
        pos += 8 + size
    dst.write_bytes(bytes(out))


@pytest.fixture(scope="module")
def cut_world(world: World, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, Path]:
    from fundtrail.analysis.cluster.service import run_clustering
    from fundtrail.chains.bitcoin.ingest import ingest_paths
    from fundtrail.intel.tag_import import import_tags

    unmoved, last = _cut(world)
    base = tmp_path_factory.mktemp("contacts-world")
    (base / "blocks").mkdir()
    _prefix(world.sim / "blocks" / "blk00000.dat", base / "blocks" / "blk00000.dat", last)
    home = base / "ws"
    ingest_paths([base / "blocks"], home=home)
    import_tags(partner_tags(world.sim, world.truth), home=home)
    run_clustering("BTC", home=home)
    tx, _ = _heights(home)
    rows = [r for r in world.rows() if r["txid"] in tx]
    for r in rows:  # the noise, on both campaigns
        n = int(r["complaint_id"][-5:])
        if n % 4 == 0:
            r["perpetrator_site"] = "https://www.gmail.com/"
        if n % 5 == 0:
            r["perpetrator_phone"] = BANK
    path = base / "complaints.csv"
    with open(path, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    return home, unmoved, path


@pytest.fixture
def home(cut_world: tuple[Path, str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    home = tmp_path / "ws"
    shutil.copytree(cut_world[0], home)
    monkeypatch.setenv("FUNDTRAIL_HOME", str(home))
    monkeypatch.delenv("FUNDTRAIL_DATABASE_URL", raising=False)
    monkeypatch.delenv("FUNDTRAIL_SECRET_KEY", raising=False)
    reset_settings()
    yield home
    reset_settings()


def _show(cid: str, org: str | None = None) -> dict[str, Any]:
    from fundtrail.cases.service import campaign_show

    return campaign_show(cid, org, operator=org is None)


def test_unmoved_ransom_joins_its_gang_on_the_e_mail_and_noise_merges_nothing(
    world: World, cut_world: tuple[Path, str, Path], home: Path
) -> None:
    from fundtrail.cases.service import campaigns_list, import_and_link
    from fundtrail.intelstore.db import open_store
    from fundtrail.intelstore.orgs import add_org

    _, unmoved, path = cut_world
    _, spent = _heights(home)
    row = next(r for r in world.rows() if r["complaint_id"] == unmoved)
    assert (row["txid"], int(row["vout"])) not in spent  # no on-chain link exists
    store = open_store()
    with store.session() as s:
        add_org(s, "Police A", "law-enforcement")
        add_org(s, "Bank B", "bank")
    store.close()
    with open(path, newline="") as fh:
        rows = list(csv.DictReader(fh))
    police, bank = path.with_name("police.csv"), path.with_name("bank.csv")
    # the bank reports one of the gang's victims (without what the victim said of the gang)
    theirs = [r for r in rows if r["complaint_id"].startswith("C-RANSOMWARE")
              and r["complaint_id"] != unmoved][:1]  # fmt: skip
    theirs[0].update(dict.fromkeys(COLUMN_OF.values(), ""))
    for out, part in ((police, [r for r in rows if r not in theirs]), (bank, theirs)):
        with open(out, "w", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=list(rows[0]))
            w.writeheader()
            w.writerows(part)
    done = import_and_link(police, org="Police A")
    assert done["import"]["rejected"] == 0
    done = import_and_link(bank, org="Bank B")
    assert done["link"]["links"].get("same-contact", 0) >= 1
    assert done["link"]["contact_conflicts"] >= 1  # the bank's phone

    camps = campaigns_list(operator=True)
    true_of = world.campaign_of()
    members = {c["id"]: {p["ref"] for p in _show(c["id"])["payments"]} for c in camps}
    # every campaign holds one true campaign only, and the ransomware gang is whole
    assert all(len({true_of[r] for r in refs}) == 1 for refs in members.values())
    gang = next(cid for cid, refs in members.items() if unmoved in refs)
    want = {r["complaint_id"] for r in rows if r["complaint_id"].startswith("C-RANSOMWARE")}
    assert members[gang] == want

    shown = _show(gang)  # the workspace operator may read every complaint
    (joined,) = [lk for lk in shown["links"] if lk["b"] == unmoved]
    usual = normalise("email", row["perpetrator_email"]).value
    assert joined == joined | {"reason": "same-contact", "detail": "e-mail", "value": usual}
    conflict = next(c for c in shown["contact_conflicts"] if c.get("value") == "+442079460123")
    scam = next(cid for cid in members if cid != gang and len(members[cid]) > 3)
    assert conflict["kind"] == "phone" and conflict["campaigns"] == [scam]
    assert "join only on an e-mail, handle or site" in conflict["why"]  # a phone never joins them
    assert not any(c["kind"] == "site" for c in shown["contact_conflicts"])  # gmail.com

    # the bank reported one complaint of the campaign: it sees the campaign, the kind of
    # the contact that joined the police's victim, never its value or the police's data
    seen = _show(gang, org="Bank B")
    (joined,) = [lk for lk in seen["links"] if lk["b"] == unmoved]
    assert joined["detail"] == "e-mail" and "value" not in joined
    assert usual not in str(seen) and "7946" not in str(seen)
    assert all("value" not in c for c in seen["contact_conflicts"])
    assert "another campaign" in {x for c in seen["contact_conflicts"] for x in c["campaigns"]}

    # the case file says what the campaign shares with the scam, and why they stay two
    from fundtrail.cases.service import campaign_report

    made = campaign_report(gang, home / "case", operator=True)
    page = (Path(made["out"]) / "report.html").read_text()
    related = page.split("Related campaigns, not merged", 1)[1].split("<h2>", 1)[0]
    assert "a reported phone" in related and scam in related
    assert "join only on an e-mail, handle or site" in related
    # the bank's own case file names the campaign it may not read as "another campaign"
    made = campaign_report(gang, home / "case-bank", org="Bank B")
    page = (Path(made["out"]) / "report.html").read_text()
    related = page.split("Related campaigns, not merged", 1)[1].split("<h2>", 1)[0]
    assert "another campaign" in related and scam not in page and "7946" not in page


def test_contacts_are_sealed_at_rest_and_indexed_by_a_keyed_hash(
    cut_world: tuple[Path, str, Path], home: Path
) -> None:
    import sqlite3

    from fundtrail.cases.service import import_and_link

    import_and_link(cut_world[2])
    with sqlite3.connect(home / "intel.sqlite") as con:
        dump = "\n".join(con.iterdump())
        kinds = dict(
            con.execute("SELECT kind, count(*) FROM complaint_contacts GROUP BY kind").fetchall()
        )
        generic = con.execute(
            "SELECT count(*) FROM complaint_contacts WHERE kind = 'site' AND value_index IS NULL"
        ).fetchone()[0]
    assert kinds.get("email") and kinds.get("site") and kinds.get("phone")
    assert generic > 0  # gmail.com is kept as the victim's word, without an index
    for plain in ("gmail.com", "onionmail.example", "7946 0", "7946-0", "20 7946", "442079460"):
        assert plain not in dump.lower()  # (values hold "." or spaces; sealed text never)
    assert "aurelia-yield.example" not in dump and ".onion" not in dump


def test_the_api_takes_contacts_and_names_a_bad_one(world: World, ws: Path) -> None:
    from fastapi.testclient import TestClient
    from test_cases_api import body

    from fundtrail.intelstore.db import open_store
    from fundtrail.intelstore.keys import create_key
    from fundtrail.intelstore.orgs import add_org
    from fundtrail.server.app import create_app
    from fundtrail.settings import Settings

    store = open_store(f"sqlite:///{ws / 'intel.sqlite'}")
    with store.session() as s:
        add_org(s, "police", "law-enforcement")
        key = create_key(s, "police", "analyst").key
    client = TestClient(create_app(store, Settings(home=ws)), raise_server_exceptions=False)
    h = {"Authorization": f"Bearer {key}"}
    row = next(r for r in world.rows() if r["complaint_id"].startswith("C-RANSOMWARE"))
    bad = body(row, perpetrator_email="gang at onionmail")
    got = client.post("/api/v1/complaints", json=bad, headers=h)
    assert got.status_code == 422 and got.json()["field"] == "perpetrator_email"
    good = body(row, perpetrator_email=["Gang.Help@OnionMail.example"],
                perpetrator_contacts=[{"kind": "handle", "value": "https://t.me/Gang_Help"}])  # fmt: skip
    got = client.post("/api/v1/complaints", json=good, headers=h)
    assert got.status_code == 201, got.text
    assert got.json()["perpetrator_contacts"] == [
        {"kind": "email", "value": "gang.help@onionmail.example"},
        {"kind": "handle", "value": "@gang_help"},
    ]
    store.close()
