"""How many parser threads ``ingest bitcoin`` uses by default (``--workers -1``)."""

from __future__ import annotations

import pytest

from fundtrail.chains.bitcoin import prepare
from fundtrail.chains.bitcoin.prepare import PARALLEL_MIN_BYTES, default_workers


@pytest.mark.parametrize(("cores", "big"), [(1, 0), (2, 2), (3, 3), (16, 4)])
def test_a_big_input_gets_a_thread_per_core_a_small_one_none(
    monkeypatch: pytest.MonkeyPatch, cores: int, big: int
) -> None:
    """The cores this process may run on, not the machine's (a container, ``taskset``)."""
    monkeypatch.setattr(prepare.os, "sched_getaffinity", lambda _pid: set(range(cores)))
    monkeypatch.setattr(prepare.os, "cpu_count", lambda: 64)
    assert default_workers(PARALLEL_MIN_BYTES - 1) == 0
    assert default_workers(PARALLEL_MIN_BYTES) == big
