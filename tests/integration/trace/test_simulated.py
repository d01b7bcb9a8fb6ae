"""Forward haircut traces from a simulated scam's complaints reach its true cash-outs."""

from __future__ import annotations

from pathlib import Path

import pytest

from fundtrail.analysis.trace.accuracy import evaluate, prepare


@pytest.mark.slow
def test_haircut_from_complaints_finds_the_true_deposit_addresses(
    home: Path, tmp_path: Path
) -> None:
    sim = tmp_path / "sim"
    truth = prepare("investment-scam", sim, home, seed=3, txs=2000)
    assert truth["cashouts"], "the simulation should cash out somewhere"
    s = evaluate(sim, "haircut", home=home)
    assert s.recall >= 0.95, s
    assert 0 < s.at_true_deposits <= s.proceeds  # shares never exceed what left the start
