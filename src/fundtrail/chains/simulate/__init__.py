"""Scenario simulator: realistic chains with crimes in them, and the ground truth to score against.

from fundtrail.chains.simulate import run
summary = run("investment-scam", Path("demo"), seed=1, txs=5000)
"""

from fundtrail.chains.simulate.service import SCENARIOS, SimulationSummary, run

__all__ = ["SCENARIOS", "SimulationSummary", "run"]
