"""The `fundtrail` command: a Typer root; each job lives in its own module."""

from __future__ import annotations

import atexit
import gc
import os
import sys
from typing import Any

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


def _version(value: bool) -> None:
    if value:
        from fundtrail import __version__

        typer.echo(f"fundtrail {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """Share crypto-crime intel, trace funds on-chain, build cases, screen transfers."""


_register()


# Typer 0.29 ships its own copy of click (typer._click): its command objects are typed Any
# here rather than importing a private module.
def command() -> Any:
    """The click command tree as people expect it: ``-q/--quiet`` on every command, and
    flags shown as flags in help (Typer prints ``<bool>`` beside ``--json``)."""
    root = typer.main.get_command(app)
    _quiet_everywhere(root, _quiet_option())
    _plain_flags(root)
    return root


def _quiet_option() -> Any:
    """A ``-q/--quiet`` option built by Typer itself (so its help renders like the rest)."""
    from fundtrail.cli.common import set_quiet

    probe = typer.Typer()

    @probe.command()
    def _probe(
        quiet: bool = typer.Option(
            False,
            "--quiet",
            "-q",
            help="No progress bar or chatter (errors still shown).",
            expose_value=False,
            callback=lambda v: set_quiet() if v else None,
        ),
    ) -> None: ...

    cmd = typer.main.get_command(probe)
    return cmd.params[0]


def _quiet_everywhere(cmd: Any, template: Any) -> None:
    import copy

    opts = {o for p in cmd.params for o in getattr(p, "opts", [])}
    subs = getattr(cmd, "commands", {})
    if "-q" not in opts and "--quiet" not in opts and (cmd.callback or not subs):
        cmd.params.append(copy.copy(template))
    for sub in subs.values():
        _quiet_everywhere(sub, template)


def _plain_flags(cmd: Any) -> None:
    for p in cmd.params:
        desc = getattr(p, "type_descriptor", None)
        if desc is not None and desc.annotation is bool:
            p.metavar = ""
    make_help = cmd.get_help_option

    def help_option(ctx: Any) -> Any | None:
        opt = make_help(ctx)
        if opt is not None:
            opt.metavar = ""
        return opt

    cmd.get_help_option = help_option  # type: ignore[method-assign]
    for sub in getattr(cmd, "commands", {}).values():
        _plain_flags(sub)


def main() -> None:
    """Entry point: user-facing errors become one clear line and an exit code, never a trace.

    At exit the live objects are frozen (:func:`gc.freeze`, an exit handler): the
    interpreter's shutdown otherwise runs full collections over everything the command
    loaded (numba's compiled kernels, Arrow, DuckDB), about half a CPU-second after an
    ``ingest bitcoin`` of one blk file, for memory the OS takes back anyway. The command
    has closed its files and made its commits by then; only cycles go uncollected."""
    atexit.register(gc.freeze)
    try:
        # standalone_mode=False hands back typer.Exit(n)'s code instead of exiting: pass it on
        code = command()(standalone_mode=False)
    except FundtrailError as exc:
        typer.secho(f"error: {exc}", err=True, fg="red")  # one prefix for every problem
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
        typer.secho(f"error: internal ({type(exc).__name__}): {exc}", err=True, fg="red")
        sys.exit(1)
    sys.exit(code if isinstance(code, int) and not isinstance(code, bool) else 0)
