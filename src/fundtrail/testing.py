"""Helpers for tests, benchmarks and notebooks that need real services on this machine.

Not used by the product itself: they start throwaway servers on loopback so that the
suite and the benchmarks run against the real thing (PostgreSQL here, anvil in
``chains.evm.devnode``), never a mock.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from fundtrail.errors import SourceError


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def postgres_bin() -> Path | None:
    """The folder of PostgreSQL's server programs (Debian's, or whatever is on PATH)."""
    for cand in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (cand / "initdb").exists():
            return cand
    found = shutil.which("initdb")
    return Path(found).parent if found else None


@contextmanager
def temporary_postgres(*, durable: bool = True) -> Iterator[str]:
    """A fresh PostgreSQL server on a free loopback port in a temp dir; yields its URL.

    ``durable=False`` turns fsync off (test suites); benchmarks keep the real setting.
    Run as root, the server runs as the ``postgres`` user, as initdb requires.
    """
    pgbin = postgres_bin()
    if pgbin is None:
        raise SourceError(
            "PostgreSQL is not installed (Debian package 'postgresql'; .ci/run installs it)"
        )
    base = Path(tempfile.mkdtemp(prefix="fundtrail-pg-"))
    port = free_port()
    prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    if prefix:
        shutil.chown(base, "postgres", "postgres")
    data = base / "data"
    options = f"-c listen_addresses=127.0.0.1 -p {port} -k {base}"
    if not durable:
        options += " -c fsync=off"
    initdb = [str(pgbin / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust"]
    subprocess.run(
        [*prefix, *initdb, "-E", "UTF8", "--locale=C.UTF-8"], check=True, capture_output=True
    )
    pg_ctl = [*prefix, str(pgbin / "pg_ctl"), "-D", str(data)]
    subprocess.run(
        [*pg_ctl, "-l", str(base / "pg.log"), "-w", "-o", options, "start"],
        check=True,
        capture_output=True,
    )
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run([*pg_ctl, "-m", "fast", "-w", "stop"], capture_output=True)
        shutil.rmtree(base, ignore_errors=True)


def web_sign_in(client: Any, api_key: str, next: str = "/ui/", **kwargs: Any) -> Any:
    """Sign a test client in through the sign-in form as a browser does (the form's
    token with its cookie, then the key); returns the POST's response."""
    import re

    form = client.get("/ui/login")
    found = re.search(r'name="login_token" value="([^"]+)"', form.text)
    if found is None:
        raise AssertionError(f"no sign-in form: {form.status_code} {form.text[:200]}")
    data = {"api_key": api_key, "login_token": found.group(1)}
    return client.post(f"/ui/login?next={next}", data=data, **kwargs)
