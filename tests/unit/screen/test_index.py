"""The screening index answers from memory-mapped arrays, filtered by who may see what."""

from __future__ import annotations

import os
import shutil
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from fundtrail.errors import InvalidInputError, NotFoundError
from fundtrail.screen.index import (
    PPM,
    PRUNE_GRACE_S,
    FactTable,
    IndexCache,
    ScreenIndex,
    Source,
    write_index,
)
from fundtrail.screen.keys import address_key
from fundtrail.screen.scoring import Rules
from fundtrail.screen.verdicts import ScreenItem, answer

SANCTIONED = "12QtD5BFwRsdNsAZY76UVE1xyCGNTojH9h"  # on the OFAC list
SCAMMER = "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa"
FUNDED = "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy"
CLEAN = "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"


def _facts() -> FactTable:
    facts = FactTable()
    ofac = facts.add_source(Source("tag", "ofac", "OFAC SDN", "sanctions"))
    red = facts.add_source(
        Source(
            "indicator",
            "ind-1",
            "pig-butchering ring",
            "pig-butchering",
            org="police-a",
            tlp="red",
            share_with=["exchange-c"],
        )
    )
    facts.add_address("BTC", SANCTIONED, category="sanctions", kind="tag", source=ofac)
    facts.add_address("BTC", SCAMMER, category="pig-butchering", kind="indicator", source=red)
    exposure = facts.add_source(
        Source("exposure", "ofac", "funded by OFAC SDN", "sanctions", address=SANCTIONED)
    )
    facts.add_address(
        "BTC",
        FUNDED,
        category="sanctions",
        kind="indirect",
        source=exposure,
        share_ppm=PPM // 4,
        hops=2,
    )
    return facts


def _ask(home: Path, org: str, *addresses: str) -> list[dict]:
    index = IndexCache(home).get()
    return answer(index, [ScreenItem("BTC", a) for a in addresses], viewer_org=org, rules=Rules())


def test_sanctioned_address_is_severe_with_its_reason(tmp_path: Path) -> None:
    write_index(tmp_path, _facts(), fingerprint={})
    (hit,) = _ask(tmp_path, "bank-b", SANCTIONED)
    assert hit["risk"] == "severe"
    assert hit["score"] == 100
    assert hit["reasons"][0]["category"] == "sanctions"
    assert hit["reasons"][0]["exposure"] == "direct"


def test_indirect_exposure_reports_share_and_hops(tmp_path: Path) -> None:
    write_index(tmp_path, _facts(), fingerprint={})
    (hit,) = _ask(tmp_path, "bank-b", FUNDED)
    (reason,) = hit["reasons"]
    assert reason["exposure"] == "indirect"
    assert reason["share"] == pytest.approx(0.25)
    assert reason["hops"] == 2
    assert reason["origin"] == SANCTIONED
    assert hit["risk"] in ("high", "severe")


def test_red_indicator_is_seen_by_owner_and_recipient_only(tmp_path: Path) -> None:
    write_index(tmp_path, _facts(), fingerprint={})
    (owner,) = _ask(tmp_path, "police-a", SCAMMER)
    (recipient,) = _ask(tmp_path, "exchange-c", SCAMMER)
    (other,) = _ask(tmp_path, "bank-b", SCAMMER)
    assert owner["risk"] == recipient["risk"] == "high"
    assert other["risk"] == "none"
    assert other["reasons"] == []
    assert "pig" not in str(other)


def test_unknown_address_is_none_and_bad_one_names_the_problem(tmp_path: Path) -> None:
    write_index(tmp_path, _facts(), fingerprint={})
    clean, bad = _ask(tmp_path, "bank-b", CLEAN, SCAMMER[:-1] + "b")
    assert clean["risk"] == "none"
    assert bad["risk"] is None
    assert "checksum" in bad["error"]


def test_org_rules_can_ignore_a_category(tmp_path: Path) -> None:
    write_index(tmp_path, _facts(), fingerprint={})
    index = IndexCache(tmp_path).get()
    rules = Rules.from_dict({"ignore_categories": ["sanctions"]})
    (hit,) = answer(index, [ScreenItem("BTC", SANCTIONED)], viewer_org="x", rules=rules)
    assert hit["risk"] == "none"


def test_no_index_yet_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match="screen index build"):
        IndexCache(tmp_path).get()


def test_item_validation_names_the_field() -> None:
    with pytest.raises(InvalidInputError, match=r"items\[3\]\.direction"):
        ScreenItem.from_dict({"address": SCAMMER, "direction": "sideways"}, 3)


def test_answers_do_not_change_while_the_index_is_rebuilt(tmp_path: Path) -> None:
    write_index(tmp_path, _facts(), fingerprint={})
    first = _ask(tmp_path, "bank-b", SANCTIONED, FUNDED, CLEAN)
    stop = threading.Event()

    def rebuild() -> None:
        while not stop.is_set():
            write_index(tmp_path, _facts(), fingerprint={})

    worker = threading.Thread(target=rebuild)
    worker.start()
    try:
        cache = IndexCache(tmp_path)
        for _ in range(200):
            items = [ScreenItem("BTC", a) for a in (SANCTIONED, FUNDED, CLEAN)]
            again = answer(cache.get(), items, viewer_org="bank-b", rules=Rules())
            assert [a["risk"] for a in again] == [f["risk"] for f in first]
    finally:
        stop.set()
        worker.join()


def test_keys_are_sorted_and_unique_on_disk(tmp_path: Path) -> None:
    facts = _facts()
    facts.add_address("BTC", SANCTIONED, category="mixer", kind="tag", source=0)
    version = write_index(tmp_path, facts, fingerprint={})
    keys = np.load(tmp_path / "screen" / version / "keys.npy")
    assert np.all(keys[1:] > keys[:-1])
    assert address_key("BTC", SANCTIONED) in set(keys.tolist())


def test_cluster_reasons_from_one_source_owner_collapse_into_one(tmp_path: Path) -> None:
    facts = FactTable()
    for i in range(3):
        src = facts.add_source(
            Source(
                "indicator", f"ind-{i}", "collection wallet", "scam", org="police-a", tlp="green"
            )
        )
        facts.add_address("BTC", CLEAN, category="scam", kind="cluster", source=src)
    write_index(tmp_path, facts, fingerprint={})
    (hit,) = _ask(tmp_path, "bank-b", CLEAN)
    (reason,) = hit["reasons"]
    assert reason["kind"] == "cluster" and reason["cluster_members"] == 3


def test_a_version_read_from_current_survives_quick_rebuilds(tmp_path: Path) -> None:
    """A reader that read CURRENT just before two rebuilds still finds that version whole.

    (The old prune kept only the newest two versions, so a reader between reading
    CURRENT and opening the files could meet a half-deleted folder.)
    """
    versions = [write_index(tmp_path, _facts(), fingerprint={}) for _ in range(4)]
    for version in versions:
        index = ScreenIndex(tmp_path / "screen" / version)
        assert index.version == version and len(index.sources) == 3


def test_versions_are_pruned_once_superseded_for_the_grace_period(tmp_path: Path) -> None:
    old = write_index(tmp_path, _facts(), fingerprint={})
    middle = write_index(tmp_path, _facts(), fingerprint={})
    past = time.time() - PRUNE_GRACE_S - 5
    for name in (old, middle):  # both superseded long ago
        os.utime(tmp_path / "screen" / name, (past, past))
    newest = write_index(tmp_path, _facts(), fingerprint={})
    left = {p.name for p in (tmp_path / "screen").iterdir() if p.is_dir()}
    assert newest in left and middle in left  # the newest two are always kept
    assert old not in left


def test_a_reader_meeting_a_pruned_version_reads_current_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stale = write_index(tmp_path, _facts(), fingerprint={})
    shutil.rmtree(tmp_path / "screen" / stale)  # pruned after this reader read CURRENT
    fresh = write_index(tmp_path, _facts(), fingerprint={})
    reads = iter([stale, fresh])
    monkeypatch.setattr("fundtrail.screen.index.current_version", lambda home: next(reads))
    assert IndexCache(tmp_path).get().version == fresh


def test_a_reason_under_the_threshold_is_neither_counted_nor_shown(tmp_path: Path) -> None:
    """A hot wallet showed "NONE · 0" beside "scam · indirect (0.0%)" (issue 18)."""
    facts = FactTable()
    exp = facts.add_source(Source("exposure", "scam", "received funds from scam", "scam"))
    facts.add_address(
        "BTC", CLEAN, category="scam", kind="indirect", source=exp, share_ppm=300, hops=2
    )
    write_index(tmp_path, facts, fingerprint={})
    (hit,) = _ask(tmp_path, "bank-b", CLEAN)
    assert hit["risk"] == "none" and hit["score"] == 0 and hit["reasons"] == []


def test_one_fact_is_one_reason(tmp_path: Path) -> None:
    """One reason listed six times (issue 18): a tag repeated in its pack, and exposure
    to one category through several sources, each answer once."""
    facts = FactTable()
    tag = facts.add_source(Source("tag", "pack", "Scam wallet", "scam"))
    for _ in range(6):
        facts.add_address("BTC", SCAMMER, category="scam", kind="tag", source=tag)
    for share in (0.05, 0.30, 0.10):
        src = facts.add_source(
            Source("exposure", "ind", "received funds from scam", "scam", address=SCAMMER)
        )
        facts.add_address(
            "BTC", FUNDED, category="scam", kind="indirect", source=src, share_ppm=int(share * PPM)
        )
    write_index(tmp_path, facts, fingerprint={})
    direct, funded = _ask(tmp_path, "bank-b", SCAMMER, FUNDED)
    assert len(direct["reasons"]) == 1
    (reason,) = funded["reasons"]
    assert reason["share"] == pytest.approx(0.30) and reason["sources"] == 3
    assert reason["origin"] == SCAMMER


def test_a_protocol_ledger_is_answered_as_one_not_as_a_mistyped_address(tmp_path: Path) -> None:
    write_index(tmp_path, _facts(), fingerprint={})
    index = IndexCache(tmp_path).get()
    items = [ScreenItem("TRX", a) for a in ("tron-dex:3", "shielded-pool", "burnt")]
    pool, shielded, typo = answer(index, items, viewer_org="bank-b", rules=Rules())
    assert pool["risk"] is None
    assert pool["error"].startswith("tron-dex:3 is a protocol ledger (TRON built-in exchange #3")
    assert "TRON shielded pool" in shielded["error"]
    assert "protocol ledger" not in typo["error"]  # an ordinary mistyped address
