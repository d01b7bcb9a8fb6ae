"""`fundtrail tags`: import attribution tags (TagPacks, CSV, OFAC lists, Etherscan labels)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from fundtrail.cli.common import HomeOpt, JsonOpt, console, emit, kv_table, progress

tags_app = typer.Typer(help="Attribution tags: import and look up.", no_args_is_help=True)


@tags_app.command("import")
def import_cmd(
    path: Path = typer.Argument(..., help="A file or a folder (folders of TagPacks too)."),
    fmt: str | None = typer.Option(
        None, "--format", help="tagpack, csv, ofac or etherscan (default: from the name)."
    ),
    chain: str | None = typer.Option(
        None, "--chain", help="CSV without a chain column: its chain."
    ),
    show_problems: int = typer.Option(20, "--show-problems", help="How many invalid rows to list."),
    as_json: bool = JsonOpt,
    home: Path | None = HomeOpt,
) -> None:
    """Import tags; invalid rows are reported with file and line and skipped.

    Clustered chains' attribution is then brought up to date, so the next read is quick."""
    from fundtrail.analysis.attribution import refresh
    from fundtrail.intel.tag_import import import_tags

    with progress(as_json) as bar:
        task = bar.add_task("importing tags", total=None, info=str(path))

        def tick(done: int, total: int, name: str) -> None:
            bar.update(task, completed=done, total=total, info=name)

        report = import_tags(path, fmt, home=home, chain=chain, on_file=tick)
        bar.update(task, info="attribution of clustered chains")
        refreshed = refresh(home)
    emit({**report.to_dict(show_problems), "attribution_refreshed": refreshed}, as_json, _render)


def _render(r: dict[str, Any]) -> None:
    console.print(
        kv_table(
            "tags import",
            [
                ("format", r["format"]),
                ("files", r["files"]),
                ("tags read", r["read"]),
                ("stored (repeats folded)", r["imported"]),
                ("invalid rows skipped", r["invalid"]),
                (
                    "attribution brought up to date",
                    ", ".join(r["attribution_refreshed"]) or "none (no chain clustered yet)",
                ),
            ],
        )
    )
    for p in r["problems"]:
        console.print(f"  [yellow]skipped[/yellow] {p}")


@tags_app.command("lookup")
def lookup_cmd(
    addresses: list[str] = typer.Argument(..., help="Addresses to look up."),
    chain: str = typer.Option("BTC", "--chain", help="Chain of the addresses."),
    as_json: bool = JsonOpt,
    home: Path | None = HomeOpt,
) -> None:
    """Tags of the given addresses."""
    from fundtrail.chainstore.tags import TagStore

    tags = [t.to_dict() for t in TagStore(home).lookup(chain, addresses)]
    emit(tags, as_json, _render_tags)


def _render_tags(tags: list[dict[str, Any]]) -> None:
    if not tags:
        console.print("no tags")
    for t in tags:
        console.print(
            f"{t['address']}  {t['label']}  [{t['category']}]  {t['confidence']}  {t['source']}"
        )


def register(app: typer.Typer) -> None:
    app.add_typer(tags_app, name="tags")
