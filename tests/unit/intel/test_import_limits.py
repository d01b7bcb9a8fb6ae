"""Hostile files are refused fast, with a clear error, storing nothing (issue 15 #2, caps)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from fundtrail.errors import InvalidInputError
from fundtrail.intel import limits
from fundtrail.intel.formats import read_file
from fundtrail.intel.tag_import import import_tags
from fundtrail.intel.tagpack import Problem, read_tagpack
from fundtrail.settings import reset_settings

BTC1 = "1Archive1n2C579dMsAu3iC6tWzuQJz8dN"


def laughs(depth: int = 8, width: int = 9) -> str:
    """The issue's pack: anchors nested ``depth`` deep, used as label and actor."""
    lines = ["title: t", "a0: &a0 [" + ",".join(['"lol"'] * width) + "]"]
    for i in range(1, depth + 1):
        lines.append(f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * width) + "]")
    lines += ["tags:", f"- address: {BTC1}", f"  label: *a{depth}", f"  actor: *a{depth}"]
    return "\n".join(lines) + "\n"


@pytest.fixture
def bomb(tmp_path: Path) -> Path:
    path = tmp_path / "bomb.yaml"
    path.write_text(laughs())
    assert path.stat().st_size < 700
    return path


def test_billion_laughs_tagpack_refused_fast(bomb: Path) -> None:
    started = time.monotonic()
    problems: list[Problem] = []
    assert list(read_tagpack(bomb, problems)) == []
    assert time.monotonic() - started < 1
    assert len(problems) == 1 and "alias" in problems[0].message


def test_billion_laughs_via_intel_import_and_tags_import(bomb: Path, tmp_path: Path) -> None:
    started = time.monotonic()
    result = read_file(bomb, "tagpack")  # the web upload's and `intel import`'s path
    assert result.records == []
    assert any("alias" in p.message for p in result.problems)
    report = import_tags(bomb, "tagpack", home=tmp_path / "ws")
    assert report.imported == 0 and report.invalid == 1
    assert time.monotonic() - started < 5


def test_wide_expansion_with_few_aliases_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(limits, "MAX_YAML_NODES", 10_000)
    text = laughs(depth=5, width=5).replace("title: t", "title: t")  # 25 aliases, 5**6 nodes
    with pytest.raises(limits.YamlBombError, match="expands to more than"):
        limits.safe_load(text)


def test_recursive_alias_refused() -> None:
    with pytest.raises(limits.YamlBombError, match="recursive"):
        limits.safe_load("a: &a [*a]\n")


def test_a_few_anchors_are_fine() -> None:
    text = "defaults: &d {category: exchange}\nx: *d\ny: *d\nz: [*d, *d]\n"
    assert limits.safe_load(text)["z"] == [{"category": "exchange"}] * 2


def test_files_over_the_size_limit_refused_unread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FUNDTRAIL_IMPORT_MAX_MB", "1")
    reset_settings()
    try:
        big = tmp_path / "big.csv"
        big.write_bytes(b"address,label\n" + b"x" * (1024 * 1024 + 1))
        for fmt in ("csv", "json", "stix", "misp", "tagpack"):
            with pytest.raises(InvalidInputError, match="over the import limit of 1 MiB"):
                read_file(big, fmt)
        with pytest.raises(InvalidInputError, match="over the import limit"):
            import_tags(big, "csv", home=tmp_path / "ws")
        from fundtrail.cases.complaints import read_csv

        with pytest.raises(InvalidInputError, match="over the import limit"):
            read_csv(big)
    finally:
        monkeypatch.delenv("FUNDTRAIL_IMPORT_MAX_MB")
        reset_settings()


def test_deadline() -> None:
    limits.Deadline(60).check()
    late = limits.Deadline(1)
    late.end = time.monotonic() - 1
    with pytest.raises(InvalidInputError, match="FUNDTRAIL_IMPORT_MAX_SECONDS"):
        late.check()


def test_many_aliases_refused() -> None:
    text = "a: &a x\nb: [" + ",".join(["*a"] * (limits.MAX_YAML_ALIASES + 1)) + "]\n"
    with pytest.raises(limits.YamlBombError, match="more than 100 YAML aliases"):
        limits.safe_load(text)


def test_time_limit_on_every_intel_format_and_complaints(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, test_data: Path
) -> None:
    """Each reader checks the import's time limit as it reads (not only TagPack's)."""
    import itertools
    import types

    clock = itertools.count(0, 1000)  # every reading of the clock: 1000 s later
    monkeypatch.setattr(limits, "time", types.SimpleNamespace(monotonic=lambda: next(clock)))
    csv_file = tmp_path / "i.csv"
    csv_file.write_text(
        "type,value,chain,category,confidence,tlp,description\n"
        "domain,slow.example,,phishing,50,green,\n"
    )
    json_file = tmp_path / "i.json"
    json_file.write_text('[{"type": "domain", "value": "slow.example", "category": "phishing"}]')
    files = {
        "csv": csv_file,
        "json": json_file,
        "stix": test_data / "stix" / "golden_bundle.json",
        "misp": test_data / "misp" / "event_ransomware.json",
    }
    for fmt, path in files.items():
        with pytest.raises(InvalidInputError, match="FUNDTRAIL_IMPORT_MAX_SECONDS"):
            read_file(path, fmt)
    from fundtrail.cases.complaints import read_csv

    complaints = tmp_path / "c.csv"
    complaints.write_text(
        "complaint_id,victim,reported_at,chain,txid,vout,to_address,amount,asset\n"
        "X-1,Bob,2024-01-01,BTC," + "ab" * 32 + ",0,bc1qxyz,5,BTC\n"
    )
    with pytest.raises(InvalidInputError, match="FUNDTRAIL_IMPORT_MAX_SECONDS"):
        read_csv(complaints)
    monkeypatch.undo()
    assert read_file(csv_file, "csv").records  # within the limit: read as before
