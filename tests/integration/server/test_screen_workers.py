"""`fundtrail serve --workers 2` on one memory-mapped index, killed with SIGKILL under load.

Both worker processes answer from the same index files, on SQLite and on PostgreSQL.
Every answer that reached a client names a decision that is in ``screen_decisions``
afterwards, once: the decision was on disk before the answer left (the server's
documented guarantee), and the drainer copies what the killed server left behind.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import sqlalchemy as sa

from fundtrail.analysis.trace.testing import UtxoChain, btc_address
from fundtrail.intelstore.db import open_store
from fundtrail.intelstore.screening import ScreenDecision
from fundtrail.screen.build import build_index
from fundtrail.screen.decisionlog import decisions_folder
from fundtrail.screen.drain import drain_folder
from fundtrail.testing import free_port

SANCTIONED = "12QtD5BFwRsdNsAZY76UVE1xyCGNTojH9h"
CLIENTS = 8


@dataclass
class Served:
    home: Path
    url: str
    port: int
    key: str
    proc: subprocess.Popen[bytes]
    env: dict[str, str] = field(default_factory=dict)


def _workspace(hub) -> str:  # type: ignore[no-untyped-def]
    """A chain, a sanctioned address shared by the police, the index; the exchange's key."""
    home = Path(hub.app.state.settings.home)
    chain = UtxoChain()
    chain.tx("c0", [], [("boss", 500)])
    chain.tx("c1", [], [("customer", 70)])
    chain.commit(home)
    hub.add(
        "police/analyst",
        type="crypto-address",
        chain="BTC",
        value=SANCTIONED,
        category="sanctions",
        tlp="clear",
        confidence=100,
    )
    build_index(home, hops=3, intel=hub.store)
    return str(hub.keys["exchange/analyst"])


def _drainers(home: Path) -> list[int]:
    """This workspace's drainer processes (started by the server, in sessions of their own)."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmd = (proc / "cmdline").read_bytes()
            env = (proc / "environ").read_bytes()
        except OSError:
            continue
        if b"fundtrail.screen.drain" in cmd and f"FUNDTRAIL_HOME={home}\0".encode() in env:
            found.append(int(proc.name))
    return found


@pytest.fixture(params=["fsync", "write"])
def durability(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def served(any_hub, durability: str) -> Iterator[Served]:  # type: ignore[no-untyped-def]
    """The hub's workspace served by ``fundtrail serve --workers 2`` (SQLite, PostgreSQL),
    answers going out after the disk flush (fsync) or after the write (write)."""
    home = Path(any_hub.app.state.settings.home)
    url = any_hub.store.engine.url.render_as_string(hide_password=False)
    key = _workspace(any_hub)
    port = free_port()
    env = {
        **os.environ,
        "FUNDTRAIL_HOME": str(home),
        "FUNDTRAIL_DATABASE_URL": url,
        "FUNDTRAIL_SCREEN_DURABILITY": durability,
    }
    exe = Path(sys.executable).parent / "fundtrail"
    proc = subprocess.Popen(
        [str(exe), "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "2"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,  # its own process group: SIGKILL takes the workers too
    )
    try:
        deadline = time.monotonic() + 180  # two workers' start-up on a shared 2-core box
        while time.monotonic() < deadline:
            try:
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                c.request("GET", "/taxii2/")
                if c.getresponse().status == 200:
                    break
            except OSError:
                if proc.poll() is not None:
                    pytest.fail("fundtrail serve exited: " + proc.stderr.read().decode()[-2000:])  # type: ignore[union-attr]
                time.sleep(0.1)
        else:
            pytest.fail("fundtrail serve did not start in 180 s")
        yield Served(home, url, port, key, proc, env)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=20)
        for pid in _drainers(home):
            os.kill(pid, signal.SIGKILL)


def _client(s: Served, stop: threading.Event, acked: list[tuple[str, str, str]]) -> None:
    """Screen one address after another on one keep-alive connection until the server
    is gone; records (decision id, address, risk) of each answer read whole."""
    conn = http.client.HTTPConnection("127.0.0.1", s.port, timeout=10)
    headers = {"Authorization": f"Bearer {s.key}", "Content-Type": "application/json"}
    addresses = [SANCTIONED, btc_address("customer")]
    i = 0
    while not stop.is_set():
        address = addresses[i % 2]
        i += 1
        if i % 10 == 0:  # a new connection now and then: the workers take turns accepting
            conn.close()
        try:
            conn.request("POST", "/api/v1/screen", json.dumps({"address": address}), headers)
            r = conn.getresponse()
            body = r.read()
        except (OSError, http.client.HTTPException):
            return  # killed
        assert r.status == 200, body
        a = json.loads(body)
        acked.append((a["decision_id"], address, a["risk"]))


def test_two_workers_share_the_index_and_no_answered_decision_is_lost_to_kill_9(
    served: Served,
) -> None:
    stop = threading.Event()
    acked: list[tuple[str, str, str]] = []
    threads = [threading.Thread(target=_client, args=(served, stop, acked)) for _ in range(CLIENTS)]
    for t in threads:
        t.start()
    writers: set[str] = set()  # pids in the names of the segments being written
    deadline = time.monotonic() + 60
    while (len(acked) < 400 or len(writers) < 2) and time.monotonic() < deadline:
        writers |= {p.name.split("-")[1] for p in decisions_folder(served.home).glob("*.log")}
        time.sleep(0.05)
    os.killpg(served.proc.pid, signal.SIGKILL)  # under load: requests in flight
    for t in threads:
        t.join(timeout=30)
    stop.set()
    served.proc.wait(timeout=20)

    assert len(writers) >= 2, "both workers answered"
    risks: dict[str, set[str]] = {}
    for _id, address, risk in acked:
        risks.setdefault(address, set()).add(risk)
    assert risks == {SANCTIONED: {"severe"}, btc_address("customer"): {"none"}}

    store = open_store(served.url, migrate=False)
    try:
        drain_folder(served.home, store)  # whatever the background drainer has not done yet
        with store.read_session() as s:
            stored = list(s.scalars(sa.select(ScreenDecision.id)))
        answered = {i for i, _a, _r in acked}
        assert len(answered) == len(acked)
        assert answered <= set(stored), f"{len(answered - set(stored))} answered, not stored"
        assert len(stored) == len(set(stored))  # each once
        assert not list(decisions_folder(served.home).glob("*.log"))  # all drained
    finally:
        store.close()
