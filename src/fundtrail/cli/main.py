"""The `fundtrail` command: a Typer root; each job lives in its own module."""

from __future__ import annotations

import os
import sys

import typer

from fundtrail.errors import FundtrailError, UserError

app = typer.Typer(
    name="fundtrail",
    help="Share crypto-crime intel, trace funds on-chain, build cases, screen transfers.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def _register() -> None:
    """Every module of ``fundtrail.cli`` with a ``register(app)`` adds its commands."""
    import importlib
    import pkgutil

    import fundtrail.cli as pkg

    for info in sorted(pkgutil.iter_modules(pkg.__path__), key=lambda m: m.name):
        if info.name in {"main", "common"}:
            continue
        module = importlib.import_module(f"fundtrail.cli.{info.name}")
        if hasattr(module, "register"):
            module.register(app)


_register()


def main() -> None:
    """Entry point: user-facing errors become one clear line and an exit code, never a trace."""
    try:
        app(standalone_mode=False)
    except FundtrailError as exc:
        label = "error" if isinstance(exc, UserError) else type(exc).__name__
        typer.secho(f"{label}: {exc}", err=True, fg="red")
        sys.exit(2 if isinstance(exc, UserError) else 1)
    except typer.Abort:
        sys.exit(130)
    except SystemExit:
        raise
    except Exception as exc:
        if hasattr(exc, "show") and hasattr(exc, "exit_code"):  # click usage errors
            exc.show()
            sys.exit(exc.exit_code)
        if os.environ.get("FUNDTRAIL_DEBUG"):
            raise
        typer.secho(f"internal error: {type(exc).__name__}: {exc}", err=True, fg="red")
        sys.exit(1)
