"""Report versions: a new folder per run, never over an earlier one, never half-visible."""

from __future__ import annotations

from pathlib import Path

from fundtrail.cases.casefolder import latest, stage, versions


def test_each_run_is_a_new_complete_version(tmp_path: Path) -> None:
    root = tmp_path / "case"
    first = stage(root)
    (first.path / "SHA256SUMS").write_text("one\n")
    assert versions(root) == [] and latest(root) is None  # staging is not a version
    v1 = first.commit()
    second = stage(root)
    (second.path / "SHA256SUMS").write_text("two\n")
    assert (root / "latest" / "SHA256SUMS").read_text() == "one\n"  # until the rename
    v2 = second.commit()
    assert [v.name for v in versions(root)] == ["v1", "v2"]
    assert (v1 / "SHA256SUMS").read_text() == "one\n"  # the earlier version is untouched
    assert (root / "latest" / "SHA256SUMS").read_text() == "two\n" and latest(root) == v2


def test_an_abandoned_run_leaves_nothing(tmp_path: Path) -> None:
    s = stage(tmp_path)
    (s.path / "report.html").write_text("half")
    s.abandon()
    assert list(tmp_path.iterdir()) == []
