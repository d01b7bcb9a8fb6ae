"""New DuckDB connections, made one way.

Why: DuckDB draws a progress bar on standard output for a query that runs longer than a
couple of seconds. Inside a command asked for ``--json`` that bar went into the JSON
(``fundtrail cluster --json`` at a million transactions printed it before its report), and
elsewhere it tangled with the commands' own progress bars. Every connection the project
opens comes from here, with the bar off (a cursor of it inherits the setting)."""

from __future__ import annotations

import duckdb


def connect() -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection that prints nothing of its own."""
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    return con
