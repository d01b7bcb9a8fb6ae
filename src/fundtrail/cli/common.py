"""What every command shares: JSON or rich output, progress bars, the --json/--quiet flags."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

import typer
from rich.table import Table

from fundtrail.console import console, err_console, progress, set_quiet, track

__all__ = ["console", "err_console", "progress", "set_quiet", "track"]


JsonOpt = typer.Option(False, "--json", help="Print machine-readable JSON.")
QuietOpt = typer.Option(False, "--quiet", "-q", help="No progress bar or chatter.")
HomeOpt = typer.Option(None, "--home", envvar="FUNDTRAIL_HOME", help="Workspace directory.")
OperatorOpt = typer.Option(
    False,
    "--operator",
    help="Act as the workspace operator (holds the key file; reads every victim's data; "
    "audited). Never the default: otherwise name --org.",
)

T = TypeVar("T")


def _default(o: Any) -> Any:
    if isinstance(o, Decimal):
        return int(o) if o == o.to_integral_value() else str(o)
    if isinstance(o, Path):
        return str(o)
    if isinstance(o, bytes):
        return o.hex()
    if isinstance(o, set | frozenset):
        return sorted(o)
    if hasattr(o, "isoformat"):
        return o.isoformat()
    if hasattr(o, "model_dump"):
        return o.model_dump(mode="json")
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


def to_json(data: Any) -> str:
    return json.dumps(data, default=_default, indent=2, sort_keys=False)


def emit(data: Any, as_json: bool, render: Callable[[Any], None] | None = None) -> None:
    """Print ``data`` as JSON (for scripts) or through ``render`` (for people)."""
    if as_json or render is None:
        sys.stdout.write(to_json(data) + "\n")
    else:
        render(data)


def table(*headers: str, title: str | None = None) -> Table:
    """A table for people whose cells wrap instead of being cut: a txid or an address in
    a cell is copied whole, never as ``bc1q…`` (rich's default overflow is an ellipsis).
    Every command's table comes from here so that rule lives in one place."""
    out = Table(title=title, title_justify="left")
    for h in headers:
        out.add_column(h, overflow="fold")
    return out


def kv_table(title: str, rows: Iterable[tuple[str, Any]]) -> Table:
    table = Table(title=title, show_header=False, title_justify="left")
    table.add_column(style="bold cyan", overflow="fold")
    table.add_column(overflow="fold")
    for k, v in rows:
        table.add_row(k, str(v))
    return table
