"""Every DuckDB connection comes from ``chainstore.duck`` and draws no progress bar.

A bar on standard output went into ``fundtrail cluster --json`` at a million txs."""

from __future__ import annotations

import re
from pathlib import Path

from fundtrail.chainstore import duck

SRC = Path(__file__).resolve().parents[3] / "src" / "fundtrail"


def test_connections_have_the_progress_bar_off() -> None:
    con = duck.connect()
    assert con.execute("SELECT current_setting('enable_progress_bar')").fetchone() == (False,)
    assert con.cursor().execute("SELECT current_setting('enable_progress_bar')").fetchone() == (
        False,
    )


def test_no_module_opens_duckdb_another_way() -> None:
    others = [
        f"{p.relative_to(SRC)}:{n}"
        for p in SRC.rglob("*.py")
        if p.name != "duck.py"
        for n, line in enumerate(p.read_text().splitlines(), 1)
        if re.search(r"\bduckdb\.connect\(", line)
    ]
    assert others == [], f"open DuckDB through fundtrail.chainstore.duck.connect: {others}"
