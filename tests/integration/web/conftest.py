"""A real server over a small simulated scam, and a real Chromium driven by Playwright."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from fundtrail.testing import free_port

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
POLICE = "National Cybercrime Unit"


@dataclass
class Site:
    url: str
    home: Path
    out: Path
    police_key: str
    bank_key: str


def _fundtrail(*args: str, env: dict[str, str]) -> str:
    exe = Path(sys.executable).parent / "fundtrail"
    done = subprocess.run([str(exe), *args], env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr + done.stdout
    return done.stdout


def _key(text: str) -> str:
    found = re.search(r"ft_[A-Za-z0-9_-]+", text)
    assert found, text
    return found.group(0)


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian chromium is not installed (.ci/run installs it)")
    out = tmp_path_factory.mktemp("web") / "demo"
    home = out / "workspace"
    env = {**os.environ, "FUNDTRAIL_HOME": str(home), "DEMO_SERVE": "0", "COLUMNS": "200"}
    env.pop("FUNDTRAIL_DATABASE_URL", None)
    _fundtrail("demo", "--out", str(out), "--txs", "2500", "--no-serve", env=env)
    police = _key(_fundtrail("key", "create", "--org", POLICE, "--role", "admin", env=env))
    _fundtrail("org", "add", "Bank B", "--kind", "bank", env=env)
    bank = _key(_fundtrail("key", "create", "--org", "Bank B", "--role", "analyst", env=env))
    port = free_port()
    exe = Path(sys.executable).parent / "fundtrail"
    server = subprocess.Popen(
        [str(exe), "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(120):
        try:
            if httpx.get(url + "/taxii2/", timeout=1).status_code < 500:
                break
        except httpx.HTTPError:
            time.sleep(0.5)
    else:
        server.kill()
        pytest.fail(
            "fundtrail serve did not start: " + (server.stderr.read() or b"").decode()[-2000:]
        )
    try:
        yield Site(url, home, out, police, bank)
    finally:
        server.terminate()
        server.wait(timeout=20)


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield b
        b.close()


ARTEFACTS = Path(__file__).resolve().parents[3] / "build" / "screenshots"


@pytest.fixture
def shots() -> Path:
    """Screenshots of each main page, kept as artefacts in build/screenshots (gitignored;
    FUNDTRAIL_SHOTS=docs/img refreshes the README's pictures)."""
    folder = Path(os.environ.get("FUNDTRAIL_SHOTS") or ARTEFACTS)
    folder.mkdir(parents=True, exist_ok=True)
    return folder
