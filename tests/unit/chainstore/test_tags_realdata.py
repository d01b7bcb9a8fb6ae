"""Every real tag source in ../shared/data imports; invalid rows are counted, not fatal."""

from __future__ import annotations

from pathlib import Path

import pytest

from fundtrail.chainstore.tags import TagStore
from fundtrail.intel.tag_import import import_tags

pytestmark = [pytest.mark.realdata, pytest.mark.slow]


def test_graphsense_tagpacks_all_import(shared_data: Path, home: Path) -> None:
    report = import_tags(shared_data / "graphsense-tagpacks", home=home)
    assert report.files == 87  # 86 TagPacks + the ActorPack (actors, no tags)
    # 524,170 tags in the packs: every one is read or reported with file and line
    assert report.read + report.invalid == 524_170
    assert 0 < report.invalid < 500  # mistyped checksums, chains fundtrail does not know
    assert report.imported <= report.read  # repeats of one tag within a pack fold
    assert all(p.line > 0 for p in report.problems)
    store = TagStore(home)
    (blender,) = [
        t
        for t in store.lookup("BTC", ["3NDzzVxiLBUs1WPvVGRfCYDTAD2Ua2PvW4"])
        if t.label == "Blender.io"
    ]
    assert blender.category == "mixer" and blender.confidence == 60  # authority_data


def test_ofac_and_etherscan_import(shared_data: Path, home: Path) -> None:
    ofac = import_tags(shared_data / "ofac-sanctioned-addresses", home=home)
    assert ofac.imported > 600 and ofac.invalid < 20
    es = import_tags(shared_data / "etherscan-labels" / "data", home=home)
    assert es.imported > 45_000 and es.invalid < 50
