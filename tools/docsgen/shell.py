"""One bash process per docs session: commands run one by one, state carries over.

A guide is read top to bottom by a person typing into one terminal: ``export``, ``cd``
and shell variables from one command hold for the next, and a background server keeps
running. So a session is one long-lived ``bash``; each command is written to a file and
sourced with stdin from ``/dev/null`` (a command that reads stdin must not swallow the
next command), stderr merged into stdout as a terminal shows it, and a sentinel line
after it carries the exit code. The whole process group is killed at the end, servers
started with ``&`` included.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import select
import signal
import subprocess
import time
from pathlib import Path

# A helper the setup scripts may call: wait until something listens on a loopback port.
PRELUDE = r"""
exec 2>&1
docs_wait_port() {
  for _ in $(seq 1 300); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.2
  done
  echo "nothing listens on port $1" && return 1
}
"""


class ShellError(RuntimeError):
    """The session's shell died or a command ran past its time limit."""


class Shell:
    """A persistent bash in ``cwd`` with ``env``; :meth:`run` returns (output, exit code)."""

    def __init__(self, cwd: Path, env: dict[str, str]) -> None:
        self.cwd = cwd
        self._scripts = cwd.parent / ".docs-steps"
        self._scripts.mkdir(exist_ok=True)
        self._count = 0
        self._token = secrets.token_hex(8)
        self._proc = subprocess.Popen(
            ["bash", "--noprofile", "--norc"],
            cwd=cwd,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self._buffer = b""
        self.run(PRELUDE, timeout=30)

    def run(self, command: str, *, timeout: float) -> tuple[str, int]:
        """Run one command as if typed; its merged output and exit code."""
        self._count += 1
        script = self._scripts / f"step-{self._count}.sh"
        script.write_text(command + "\n")
        sentinel = f"__docs_{self._token}_{self._count}__"
        line = f'. {script} </dev/null; printf "\\n{sentinel} %d\\n" $?\n'
        assert self._proc.stdin is not None
        try:
            self._proc.stdin.write(line.encode())
            self._proc.stdin.flush()
        except BrokenPipeError as exc:
            raise ShellError("the session's shell has exited") from exc
        raw = self._read_until(sentinel.encode(), timeout, command)
        text = raw.decode("utf-8", errors="replace")
        m = re.search(rf"\n?{re.escape(sentinel)} (\d+)\n", text)
        assert m is not None
        return text[: m.start()], int(m.group(1))

    def _read_until(self, sentinel: bytes, timeout: float, command: str) -> bytes:
        assert self._proc.stdout is not None
        fd = self._proc.stdout.fileno()
        deadline = time.monotonic() + timeout
        pattern = re.compile(re.escape(sentinel) + rb" \d+\n")
        while not (m := pattern.search(self._buffer)):
            left = deadline - time.monotonic()
            if left <= 0:
                raise ShellError(f"timed out after {timeout:.0f} s: {command.splitlines()[0]}")
            ready, _, _ = select.select([fd], [], [], min(left, 1.0))
            if ready:
                chunk = os.read(fd, 65536)
                if not chunk:
                    raise ShellError(f"the shell exited while running: {command.splitlines()[0]}")
                self._buffer += chunk
        out, self._buffer = self._buffer[: m.end()], self._buffer[m.end() :]
        return out

    def close(self) -> None:
        """Kill the shell and everything it started (background servers too)."""
        group = self._proc.pid
        try:
            os.killpg(group, signal.SIGTERM)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            self._proc.poll()
            try:
                os.killpg(group, 0)
            except ProcessLookupError:
                break
            time.sleep(0.1)
        else:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(group, signal.SIGKILL)
        self._proc.wait(10)
