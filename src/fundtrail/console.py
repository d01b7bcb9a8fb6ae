"""The terminal: one stdout and one stderr console, and the progress bar long work shows.

It lives outside `cli` because long work below the CLI (a Bitcoin ingest reading blk files)
draws its own bar, and the inner parts may not import the CLI (ARCHITECTURE.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TypeVar

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

T = TypeVar("T")

console = Console()
err_console = Console(stderr=True)


def set_quiet() -> None:
    """``-q`` on any command: no chatter, tables or progress bars (``--json`` output and
    errors are still written)."""
    console.quiet = True
    err_console.quiet = True


def progress(quiet: bool) -> Progress:
    """A rich progress bar that disappears with --quiet or when output is not a terminal."""
    return Progress(
        TextColumn("[bold blue]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[info]}"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=err_console,
        disable=quiet,
        transient=False,
    )


def track(items: Iterable[T], description: str, total: int | None, quiet: bool) -> Iterator[T]:
    with progress(quiet) as bar:
        task = bar.add_task(description, total=total, info="")
        for item in items:
            yield item
            bar.advance(task)
