"""The CLI as people expect it: --version, -q on every command, flags without <bool>."""

from __future__ import annotations

import click
from click.testing import CliRunner

from fundtrail import __version__
from fundtrail.cli.main import command


def _commands(cmd: click.Command, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    out = [path]
    for name, sub in getattr(cmd, "commands", {}).items():
        out += _commands(sub, (*path, name))
    return out


def test_version() -> None:
    done = CliRunner().invoke(command(), ["--version"])
    assert done.exit_code == 0 and done.output.strip() == f"fundtrail {__version__}"


def test_every_help_without_bool_and_every_command_with_quiet() -> None:
    root = command()
    paths = _commands(root)
    assert len(paths) > 30
    runner = CliRunner()
    for path in paths:
        done = runner.invoke(root, [*path, "--help"], env={"COLUMNS": "160"}, terminal_width=160)
        assert done.exit_code == 0, (path, done.output)
        assert "<bool>" not in done.output, path
        leaf = root
        for name in path:
            leaf = leaf.commands[name]  # type: ignore[attr-defined]
        if not getattr(leaf, "commands", None) or leaf.callback:
            assert "-q" in done.output, path
