"""`fundtrail intel import|export|search`: files in and out of the intel store."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from fundtrail.cli.common import JsonOpt, console, emit, err_console, table
from fundtrail.intel.formats import FORMATS

intel_app = typer.Typer(help="Shared indicators: import, export, search.", no_args_is_help=True)
OFAC_ORG = "OFAC"  # owner of OFAC lists imported without --org


@intel_app.command("import")
def import_(
    file: Path = typer.Argument(..., help="File (or folder, for ofac) to import."),
    fmt: str = typer.Option(..., "--format", help=f"One of: {', '.join(FORMATS)}."),
    org: str | None = typer.Option(None, "--org", help="Owning organisation."),
    tlp: str | None = typer.Option(
        None, "--tlp", help="Mark every record at least this TLP (never loosens a stricter one)."
    ),
    as_json: bool = JsonOpt,
) -> None:
    """Import indicators; bad rows are listed with file and line and skipped."""
    from fundtrail.intel.service import import_file

    summary, problems = import_file(
        file, fmt, org=org or (OFAC_ORG if fmt == "ofac" else None), tlp=tlp
    )
    data = {
        "added": summary.added,
        "updated": summary.updated,
        "duplicates": summary.duplicates,
        "skipped": len(problems),
        "problems": [str(p) for p in problems],
    }

    def render(d: dict) -> None:
        for p in d["problems"]:
            err_console.print(f"[yellow]skipped[/yellow] {p}")
        console.print(
            f"imported {d['added'] + d['updated']} indicators ({d['added']} new, "
            f"{d['updated']} updated, {d['duplicates']} duplicates merged); "
            f"{d['skipped']} bad rows skipped"
        )

    emit(data, as_json, render)


@intel_app.command("export")
def export(
    fmt: str = typer.Option("json", "--format", help=f"One of: {', '.join(FORMATS)}."),
    org: str | None = typer.Option(
        None, "--org", help="Export what this org may see (default: only CLEAR and GREEN)."
    ),
    output: Path | None = typer.Option(None, "-o", "--output", help="File (default stdout)."),
) -> None:
    """Export every indicator the org may see."""
    from fundtrail.intel.service import export_to

    if output is None:
        n = export_to(sys.stdout, fmt, org=org)
    else:
        with output.open("w", encoding="utf-8", newline="") as fh:
            n = export_to(fh, fmt, org=org)
    err_console.print(f"exported {n} indicators")


@intel_app.command("search")
def search(
    q: str = typer.Argument(..., help="Text in the value or description."),
    org: str | None = typer.Option(None, "--org", help="Search as this org."),
    limit: int = typer.Option(100, help="At most this many results."),
    as_json: bool = JsonOpt,
) -> None:
    """Search indicators visible to the org."""
    from fundtrail.intel.csvio import record_to_json
    from fundtrail.intel.service import search_as

    data = [record_to_json(r) for r in search_as(q, org=org, limit=limit)]

    def render(rows: list[dict]) -> None:
        out = table("type", "value", "chain", "category", "tlp", "conf", "org")
        for r in rows:
            out.add_row(
                r["type"],
                r["value"],
                r["chain"] or "",
                r["category"],
                r["tlp"],
                str(r["confidence"]),
                r["org"],
            )
        console.print(out)

    emit(data, as_json, render)


def register(app: typer.Typer) -> None:
    app.add_typer(intel_app, name="intel")
