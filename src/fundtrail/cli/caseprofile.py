"""`fundtrail case-profile ORG`: who signs an organisation's case files and freeze requests."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import typer

from fundtrail.cli.common import HomeOpt, JsonOpt, console, emit, kv_table


def register(app: typer.Typer) -> None:
    @app.command("case-profile")
    def case_profile(
        org: str = typer.Argument(..., help="Organisation the profile belongs to."),
        analyst: str | None = typer.Option(None, "--analyst", help="Analyst who attests."),
        contact: str | None = typer.Option(None, "--contact", help="Contact for exchanges."),
        legal_basis: str | None = typer.Option(None, "--legal-basis", help="Legal basis cited."),
        deadline_days: int | None = typer.Option(None, "--deadline-days", help="Days to answer."),
        as_json: bool = JsonOpt,
        home: Path | None = HomeOpt,
    ) -> None:
        """Show or set ORG's case profile (printed in its reports and freeze requests)."""
        from fundtrail.cases.profiles import load_profile, save_profile

        values = {"analyst": analyst, "contact": contact, "legal_basis": legal_basis,
                  "deadline_days": deadline_days}  # fmt: skip
        if any(v is not None for v in values.values()):
            profile = save_profile(org, home, **values)
        else:
            profile = load_profile(org, home)
        emit(asdict(profile), as_json,
             lambda p: console.print(kv_table(f"case profile of {org}", p.items())))  # fmt: skip
