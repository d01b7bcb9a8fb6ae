"""GraphSense TagPack reader: header defaults, per-tag overrides, confidence names, bad rows."""

from __future__ import annotations

from pathlib import Path

import pytest

from fundtrail.intel.tag_import import import_tags
from fundtrail.intel.tagpack import Problem, read_tagpack

BTC1 = "1Archive1n2C579dMsAu3iC6tWzuQJz8dN"  # Internet Archive, the TagPack docs' example
BTC2 = "3NDzzVxiLBUs1WPvVGRfCYDTAD2Ua2PvW4"  # Blender.io, from the OFAC action
ETH1 = "0x8589427373D6D84E98730D7795D8f6f8731FDA16"  # Tornado Cash (OFAC), EIP-55 spelling

PACK = f"""title: Test pack
creator: fundtrail tests
label: Default Label
source: https://example.org/default
category: exchange
currency: BTC
confidence: service_data
lastmod: 2024-02-01
tags:
- address: {BTC1}
  label: Internet Archive
  category: organization
  confidence: ownership
- address: {BTC2}
  abuse: sanction
  category: mixing_service
  actor: blenderio
  is_cluster_definer: true
- address: {ETH1}
  currency: ETH
  label: Tornado Cash
  confidence: 42
- address: 1Archive1n2C579dMsAu3iC6tWzuQJz8dX
- address: {BTC1}
  currency: DOGECOINZ
- label: no address here
- address: {BTC1}
  confidence: very_sure
"""


def test_header_defaults_overrides_and_problems(tmp_path: Path) -> None:
    f = tmp_path / "pack.yaml"
    f.write_text(PACK)
    problems: list[Problem] = []
    tags = list(read_tagpack(f, problems))
    assert [t.label for t in tags] == ["Internet Archive", "Default Label", "Tornado Cash"]
    archive, blender, tornado = tags
    assert (archive.category, archive.confidence, archive.source) == (
        "other",
        100,
        "https://example.org/default",
    )
    assert archive.lastmod == "2024-02-01" and archive.chain == "BTC"
    assert (blender.category, blender.abuse, blender.actor) == ("mixer", "sanctions", "blenderio")
    assert blender.is_cluster_definer and blender.confidence == 50  # service_data
    assert tornado.chain == "ETH" and tornado.address == ETH1.lower() and tornado.confidence == 42
    assert [p.line for p in problems] == [23, 24, 26, 27]  # the line where each bad tag starts
    msgs = [p.message for p in problems]
    assert "checksum" in msgs[0]
    assert "DOGECOINZ" in msgs[1]
    assert "no address" in msgs[2]
    assert "very_sure" in msgs[3]
    assert str(problems[0]).startswith(f"{f}:23:")


def test_custom_confidence_scheme(tmp_path: Path) -> None:
    (tmp_path / "confidence.yaml").write_text("confidence:\n  very_sure: {level: 95}\n")
    f = tmp_path / "pack.yaml"
    f.write_text(PACK)
    problems: list[Problem] = []
    from fundtrail.intel.tagpack import load_scheme

    tags = list(read_tagpack(f, problems, load_scheme(f)))
    assert tags[-1].confidence == 95 and len(problems) == 3


def test_broken_yaml_is_one_problem_and_the_folder_goes_on(tmp_path: Path, home: Path) -> None:
    (tmp_path / "a.yaml").write_text(PACK)
    (tmp_path / "b.yaml").write_text("title: x\ntags:\n- address: [unclosed\n")
    (tmp_path / "actors.yaml").write_text("id: actorpack\nactors:\n- id: x\n  label: X\n")
    report = import_tags(tmp_path, home=home)
    assert report.format == "tagpack" and report.files == 3 and report.imported == 3
    broken = [p for p in report.problems if p.file.endswith("b.yaml")]
    assert len(broken) == 1 and "YAML" in broken[0].message and broken[0].line >= 3
    assert report.invalid == 5


@pytest.mark.parametrize("bad", ["[1, 2]", "just text"])
def test_not_a_tagpack(tmp_path: Path, bad: str) -> None:
    f = tmp_path / "x.yaml"
    f.write_text(bad)
    problems: list[Problem] = []
    assert list(read_tagpack(f, problems)) == []
    assert "not a TagPack" in problems[0].message
