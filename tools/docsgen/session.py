"""Running a page's console blocks the way a reader would, in a fresh workspace.

The console blocks of one file that share a ``session`` name (default ``main``) run in
page order in one shell, in a new folder laid out like a checkout (``tests``, ``bench``,
``tools``, ``src`` and ``.venv`` linked from the repository, ``../shared`` linked to the
alliance's shared folder), with no ``FUNDTRAIL_*`` variable inherited, a fixed
``PYTHONHASHSEED``, UTC, and a fixed terminal width. Seeds are in the commands
themselves (``--seed 1``), so a run is reproducible.

Block options (YAML in the ``<!-- console ... -->`` marker), per block:
  ``setup``: a script run before the block's commands and not shown (must exit 0);
per session (any block may give them; they add up):
  ``vary``: regexes of values that differ from run to run (durations always do);
  ``ids``: ``{name: regex}`` of ids a run makes up (numbered, see ``console.py``);
  ``ports``: ports the page shows (``8000``): each is served on a free port instead and
    written back as shown, so a run never collides with a server already running;
  ``env``: extra environment; ``width``: terminal columns (100); ``timeout``: seconds
    per command (600);
  ``run``: ``{shown command: command run}`` for a command that cannot run as shown
    (``make demo`` would set up a venv: the block runs ``fundtrail demo`` instead);
  ``suite: true``: cheap enough for the test suite (every session runs in
    ``make docs-check``); ``realdata: true``: reads ``../shared/data`` and is skipped
    where it is absent.
"""

from __future__ import annotations

import difflib
import os
import re
import shutil
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from docsgen.console import Masks, Step, fill, format_steps, match, parse_steps
from docsgen.markdown import Fence
from docsgen.shell import Shell, ShellError

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared"
LINKED = ("tests", "bench", "tools", "src", "pyproject.toml")
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
SESSION_KEYS = {"vary", "ids", "ports", "env", "width", "timeout", "run", "suite", "realdata"}
BLOCK_KEYS = {"session", "setup"}


class SessionError(RuntimeError):
    """A session that could not run (setup failed, shell died, bad marker)."""


@dataclass
class Options:
    """A session's options, merged from all its blocks' markers."""

    vary: list[str] = field(default_factory=list)
    ids: dict[str, str] = field(default_factory=dict)
    ports: list[int] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    run: dict[str, str] = field(default_factory=dict)
    width: int = 100
    timeout: float = 600
    suite: bool = False
    realdata: bool = False

    @classmethod
    def merge(cls, fences: list[Fence]) -> Options:
        opts = cls()
        for f in fences:
            marker: dict[str, Any] = f.marker or {}
            unknown = set(marker) - SESSION_KEYS - BLOCK_KEYS
            if unknown:
                raise SessionError(f"{f.where}: unknown console option(s) {sorted(unknown)}")
            opts.vary += list(marker.get("vary", []))
            opts.ids.update(marker.get("ids", {}))
            opts.ports += [int(p) for p in marker.get("ports", [])]
            opts.env.update({k: str(v) for k, v in marker.get("env", {}).items()})
            opts.run.update(marker.get("run", {}))
            opts.width = int(marker.get("width", opts.width))
            opts.timeout = float(marker.get("timeout", opts.timeout))
            opts.suite = opts.suite or bool(marker.get("suite", False))
            opts.realdata = opts.realdata or bool(marker.get("realdata", False))
        return opts


@dataclass
class BlockResult:
    """One block after a run: does the page still show what the commands print?"""

    fence: Fence
    body: list[str]
    diff: list[str]

    @property
    def ok(self) -> bool:
        return not self.diff


def session_names(fences: list[Fence]) -> dict[str, list[Fence]]:
    """The file's console sessions in page order (bench blocks are not sessions)."""
    out: dict[str, list[Fence]] = {}
    for f in fences:
        if f.marker is not None and "bench" not in f.marker:
            out.setdefault(str(f.marker.get("session", "main")), []).append(f)
    return out


def _workdir(base: Path) -> Path:
    """A folder laid out like a checkout, with ``../shared`` beside it."""
    work = base / "fundtrail"
    work.mkdir(parents=True)
    for name in LINKED:
        (work / name).symlink_to(ROOT / name)
    (work / ".venv").symlink_to(Path(sys.prefix))
    (work / "docs" / "img").mkdir(parents=True)
    if SHARED.exists():
        (base / "shared").symlink_to(SHARED)
    return work


def _environment(opts: Options) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FUNDTRAIL_")}
    bindir = str(Path(sys.executable).parent)
    env.update(
        PATH=f"{bindir}:{env.get('PATH', '/usr/bin:/bin')}",
        COLUMNS=str(opts.width),
        LINES="50",
        TZ="UTC",
        LC_ALL="C.UTF-8",
        PYTHONHASHSEED="0",
        NO_COLOR="1",
        TERM="dumb",
    )
    env.pop("VIRTUAL_ENV", None)
    env.update(opts.env)
    return env


class _Ports:
    """Shown port <-> free port, in commands going in and output coming out."""

    def __init__(self, shown: list[int]) -> None:
        sys.path.insert(0, str(ROOT / "src"))
        from fundtrail.testing import free_port

        self.pairs = [(str(p), str(free_port())) for p in shown]

    def inward(self, text: str) -> str:
        for shown, real in self.pairs:
            text = re.sub(rf"(?<=[:=\s]){shown}\b", real, text)
        return text

    def outward(self, text: str) -> str:
        for shown, real in self.pairs:
            text = re.sub(rf"\b{real}\b", shown, text)
        return text


def _clean(output: str) -> list[str]:
    lines = [_ANSI.sub("", line).split("\r")[-1].rstrip() for line in output.splitlines()]
    while lines and not lines[-1]:
        lines.pop()
    return lines


def run_session(fences: list[Fence], *, workdir: Path | None = None) -> list[BlockResult]:
    """Run one session's blocks; each result says whether the page matched the run.

    When any block differs, every block of the session is given its new body (taken
    whole from this run, keeping the page's ``...`` elisions where they still match),
    so ids and counts stay consistent across the session's blocks.
    """
    opts = Options.merge(fences)
    masks = Masks.from_options(opts.vary, opts.ids)
    base = Path(tempfile.mkdtemp(prefix="fundtrail-docs-", dir=workdir))
    ports = _Ports(opts.ports)
    shell = Shell(_workdir(base), _environment(opts))
    results: list[BlockResult] = []
    try:
        for fence in fences:
            results.append(_run_block(fence, shell, masks, ports, opts))
    except ShellError as exc:
        raise SessionError(f"{fences[0].where}: {exc}") from exc
    finally:
        shell.close()
        shutil.rmtree(base, ignore_errors=True)
    if all(r.ok for r in results):
        return [BlockResult(r.fence, r.fence.body, []) for r in results]
    return results


def _run_block(
    fence: Fence, shell: Shell, masks: Masks, ports: _Ports, opts: Options
) -> BlockResult:
    marker = fence.marker or {}
    if setup := marker.get("setup"):
        out, rc = shell.run(ports.inward(str(setup)), timeout=opts.timeout)
        if rc:
            raise SessionError(f"{fence.where}: setup exited {rc}:\n{out[-3000:]}")
    try:
        steps = parse_steps(fence.body)
    except ValueError as exc:
        raise SessionError(f"{fence.where}: {exc}") from exc
    new: list[Step] = []
    diff: list[str] = []
    for step in steps:
        masks.normalise(step.script, "page")
        command = masks.translate(step.script)
        masks.normalise(command, "run")
        out, _rc = shell.run(ports.inward(opts.run.get(command, command)), timeout=opts.timeout)
        actual = _clean(ports.outward(out))
        page = [masks.normalise(line, "page") for line in step.output]
        run = [masks.normalise(line, "run") for line in actual]
        placed = match(page, run)
        if placed is None:
            diff += list(
                difflib.unified_diff(
                    step.output, actual, f"page: $ {step.command[0]}", "run", lineterm="", n=1
                )
            )
            new.append(Step(command.splitlines(), actual))
        else:
            new.append(Step(command.splitlines(), fill(step.output, placed, actual)))
    return BlockResult(fence, format_steps(new), diff)
