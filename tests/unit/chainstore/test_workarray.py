"""Work arrays give the same answers in RAM and as mapped files touched a window at a time."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from fundtrail.chainstore import workarray
from fundtrail.chainstore.workarray import WorkSpace


@pytest.fixture(params=["masked", "sorted"])
def small_windows(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Everything mapped, in windows of 64 ids (1,000 ids: 16 windows, masked) or of 8
    (125 windows: above MASKED_WINDOWS, the sorted path)."""
    ids = 64 if request.param == "masked" else 8
    monkeypatch.setattr(workarray, "ram_bytes", lambda: 0)
    monkeypatch.setattr(workarray, "window_bytes", lambda: ids * 8)


def _ops(ws: WorkSpace, rng: np.random.Generator) -> dict[str, np.ndarray]:
    n = 1000
    counts = ws.zeros(n, np.int64)
    flags = ws.zeros(n, bool)
    idx = rng.integers(0, n, 5000)  # repeats: add must sum them, as np.add.at does
    counts.add(idx)
    counts.add(idx[:100], rng.integers(1, 9, 100))
    flags.put(idx[::7], True)
    values = ws.wrap(rng.integers(-5, 5, n))
    values.put(np.array([3, 999, 0]), np.array([40, 41, 42]))
    return {
        "counts": counts.take(np.arange(n)),
        "some": counts.take(idx[:300]),
        "flags": flags.where(lambda v: v),
        "big": counts.where(lambda v: v >= 8),
        "values": values.take(np.arange(n)),
    }


def test_mapped_arrays_answer_as_ram_ones(
    tmp_path: Path, small_windows: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    with WorkSpace(tmp_path) as ws:
        mapped = _ops(ws, np.random.default_rng(7))
        assert all(a.mapped for a in ws.arrays)
        assert list(ws.root.glob("*.bin"))
    assert not ws.root.exists()  # the scratch files go with the space
    monkeypatch.setattr(workarray, "ram_bytes", lambda: 1 << 30)
    with WorkSpace(tmp_path) as ws:
        ram = _ops(ws, np.random.default_rng(7))
        assert not any(a.mapped for a in ws.arrays)
    for key, want in ram.items():
        np.testing.assert_array_equal(mapped[key], want, err_msg=key)
    rng = np.random.default_rng(7)  # and both are what plain numpy says
    idx = rng.integers(0, 1000, 5000)
    plain = np.zeros(1000, np.int64)
    np.add.at(plain, idx, 1)
    np.add.at(plain, idx[:100], rng.integers(1, 9, 100))
    np.testing.assert_array_equal(ram["counts"], plain)


def test_arrays_past_the_ram_share_go_to_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(workarray, "ram_bytes", lambda: 10_000)
    with WorkSpace(tmp_path) as ws:
        first = ws.zeros(1000, np.int64)  # 8,000 bytes: fits
        second = ws.zeros(1000, np.int64)  # would make 16,000: a file
        assert not first.mapped and second.mapped
        ws.free(first)
        assert not ws.zeros(1000, np.int32).mapped  # freed RAM counts again


def test_a_dead_process_scratch_files_are_swept(tmp_path: Path) -> None:
    """A command killed mid-pass leaves its mapped files; the next space removes them (not
    those of a live process)."""
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True).stdout.strip()  # fmt: skip
    stale = tmp_path / f"work-{dead}-abc"
    stale.mkdir()
    (stale / "a0.bin").write_bytes(b"\0" * 4096)
    live = tmp_path / f"work-{os.getpid()}-def"
    live.mkdir()
    with WorkSpace(tmp_path):
        assert not stale.exists()
        assert live.exists()
