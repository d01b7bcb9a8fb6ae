"""The README and the guides show what the commands print and what benchmarks recorded.

The cheap half runs in the suite: every figure, recorded output and table against its
record in bench/results/, the sources table, no hand-typed measurement, and the console
sessions marked ``suite: true``. ``make docs-check`` runs every session (minutes).
"""

from __future__ import annotations

from docsgen.pages import process


def test_figures_and_recorded_outputs_match_their_benchmark_records() -> None:
    outcome = process(check=True, sessions="none")
    assert outcome.ok, "\n".join(outcome.errors + outcome.drift) + "\nfix: python tools/docs.py"


def test_the_cheap_console_sessions_still_print_what_the_pages_show() -> None:
    outcome = process(check=True, sessions="suite")
    assert outcome.ran, "no console session is marked suite: true"
    assert outcome.ok, "\n".join(outcome.errors + outcome.drift) + "\nfix: python tools/docs.py"
