"""Benchmark: single indicator lookups over REST under load, on SQLite and PostgreSQL.

For each backend it stores ``--n`` indicators (mixed TLP, two orgs), serves the real
app with uvicorn in its own process on loopback, and drives it with ``wrk`` (a second
process) for a bounded run:

1. paced: ``--connections`` connections each waiting so that together they offer
   ``--rate`` requests/s of ``GET /api/v1/indicators/{id}`` (random visible ids,
   API key in the header): p50 / p99 latency and the rate achieved;
2. flat out: the same requests with no pacing: the most requests/s the server gives.

Reference, same run: the same uvicorn serving a bare ASGI app answering fixed JSON
(no key check, no database), paced the same: the floor of the HTTP stack. The ratio
ours/floor is what authentication, TLP filtering and the database add.

    .venv/bin/python bench/api.py [--n 100000] [--rate 200] [--duration 10]
                                  [--backend sqlite|postgres|both]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

import sqlalchemy as sa  # noqa: E402

from fundtrail.intelstore.db import open_store  # noqa: E402
from fundtrail.intelstore.indicators import value_sha256  # noqa: E402
from fundtrail.intelstore.keys import create_key  # noqa: E402
from fundtrail.intelstore.models import Indicator, IndicatorShare  # noqa: E402
from fundtrail.intelstore.orgs import add_org  # noqa: E402
from fundtrail.testing import free_port, temporary_postgres  # noqa: E402

sys.path.insert(0, str(ROOT / "bench"))
from _record import add_record_flag, recording  # noqa: E402

TLPS = ["clear", "green", "amber", "amber+strict", "red"]


async def floor_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """The reference: fixed JSON of a similar size, no key, no database."""
    if scope["type"] != "http":
        return
    body = json.dumps(
        {"id": "x" * 36, "type": "domain", "value": "a.example.com", "description": "y" * 300}
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"application/json")],
        }
    )
    await send({"type": "http.response.body", "body": body})


def seed(url: str, n: int) -> tuple[str, list[str]]:
    """Store ``n`` indicators of police (mixed TLP, AMBER/RED shared with the exchange);
    return the exchange's reader key and the ids it may see."""
    store = open_store(url)
    with store.session() as s:
        police, exchange = add_org(s, "police"), add_org(s, "exchange")
        key = create_key(s, "exchange", "reader").key
    rng = random.Random(7)
    visible: list[str] = []
    start = datetime(2025, 1, 1, tzinfo=UTC)
    t0 = time.perf_counter()
    with store.engine.begin() as con:
        for lo in range(0, n, 5000):
            rows, shares = [], []
            for i in range(lo, min(n, lo + 5000)):
                tlp = TLPS[rng.randrange(len(TLPS))]
                iid = f"{i:08d}-0000-4000-8000-{rng.getrandbits(48):012x}"
                value = f"0x{rng.getrandbits(160):040x}"
                when = start + timedelta(seconds=i)
                rows.append(
                    {
                        "id": iid,
                        "org_id": police.id,
                        "type": "crypto-address",
                        "chain": "ETH",
                        "value": value,
                        "value_sha256": value_sha256(value),
                        "category": "scam",
                        "confidence": 80,
                        "tlp": tlp,
                        "description": "bench",
                        "references": [],
                        "labels": [],
                        "source": "bench",
                        "created": when,
                        "modified": when,
                    }
                )
                if tlp in ("amber", "red"):
                    shares.append({"indicator_id": iid, "org_id": exchange.id})
                if tlp != "amber+strict":
                    visible.append(iid)
            con.execute(sa.insert(Indicator), rows)
            if shares:
                con.execute(sa.insert(IndicatorShare), shares)
    print(f"  stored {n:,} indicators in {time.perf_counter() - t0:.1f} s", flush=True)
    store.close()
    return key, visible


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (all its threads) and its worker processes."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    total = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            with suppress(OSError):  # a worker that just exited
                total += cpu_seconds(int(child))
    return total


@contextmanager
def serve(
    app: str, env: dict[str, str], factory: bool, workers: int = 1
) -> Iterator[tuple[str, int]]:
    port = free_port()
    cmd = [
        sys.executable,
        "-m",
        "uvicorn",
        app,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "warning",
        "--no-access-log",
        "--workers",
        str(workers),
        "--app-dir",
        str(ROOT / "bench"),
    ]
    proc = subprocess.Popen([*cmd, *(["--factory"] if factory else [])], env={**os.environ, **env})
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        yield base, proc.pid
    finally:
        proc.terminate()
        proc.wait(timeout=20)


LUA = """
local ids, n = {}, 0
for line in io.lines("%(ids)s") do n = n + 1; ids[n] = line end
local pause = %(pause)s
request = function()
  local id = ids[math.random(n)]
  return wrk.format("GET", "/api/v1/indicators/" .. id, {["Authorization"] = "Bearer %(key)s"})
end
if pause > 0 then delay = function() return pause end end
local statuses = {}
response = function(status) statuses[status] = (statuses[status] or 0) + 1 end
done = function(summary, latency, requests)
  io.write(string.format('RESULT {"p50_us": %%d, "p99_us": %%d, "max_us": %%d, ' ..
    '"requests": %%d, "seconds": %%f, "errors": %%d}\\n', latency:percentile(50),
    latency:percentile(99), latency.max, summary.requests, summary.duration / 1e6,
    summary.errors.status + summary.errors.connect + summary.errors.read +
    summary.errors.write + summary.errors.timeout))
end
"""


def wrk(
    base: str, key: str, ids_file: Path, *, pause_ms: int, connections: int, duration: int
) -> dict[str, Any]:
    """Run wrk; each connection waits ``pause_ms`` after each answer (0 = flat out)."""
    script = ids_file.with_suffix(f".{pause_ms}.lua")
    script.write_text(LUA % {"ids": ids_file, "pause": pause_ms, "key": key})
    out = subprocess.run(
        [
            "wrk",
            "-t",
            "1",
            "-c",
            str(connections),
            "-d",
            f"{duration}s",
            "--timeout",
            "5s",
            "-s",
            str(script),
            base,
        ],
        capture_output=True,
        text=True,
        timeout=duration + 60,
    )
    line = next((x for x in out.stdout.splitlines() if x.startswith("RESULT ")), None)
    if line is None:
        raise SystemExit(f"wrk failed: {out.stdout}\n{out.stderr}")
    res: dict[str, Any] = json.loads(line[7:])
    res["rps"] = res["requests"] / res["seconds"]
    return res


def paced(
    base: str, key: str, ids_file: Path, args: argparse.Namespace, pid: int
) -> dict[str, Any]:
    """A run offering ~``args.rate``/s: the pause is calibrated on short first runs, since
    each connection's cycle is its pause plus the answer's latency. ``cpu_ms``: the
    server's CPU per request over the measured run only (not the calibration runs)."""
    cycle_ms = args.connections * 1000 / args.rate
    pause = int(cycle_ms)
    for _ in range(2):  # latency changes with the pause: two rounds get close enough
        warm = wrk(base, key, ids_file, pause_ms=pause, connections=args.connections, duration=3)
        latency_ms = args.connections * 1000 / max(warm["rps"], 1) - pause
        pause = max(1, int(cycle_ms - latency_ms))
    cpu0 = cpu_seconds(pid)
    res = wrk(
        base, key, ids_file, pause_ms=pause, connections=args.connections, duration=args.duration
    )
    res["cpu_ms"] = (cpu_seconds(pid) - cpu0) * 1000 / max(res["requests"], 1)
    res["load"] = os.getloadavg()[0]
    return res


def fmt(r: dict[str, Any]) -> str:
    return (
        f"p50 {r['p50_us'] / 1000:6.2f} ms  p99 {r['p99_us'] / 1000:6.2f} ms  "
        f"{r['rps']:7.1f} req/s  errors {r['errors']}"
    )


def run_backend(name: str, url: str, args: argparse.Namespace, work: Path) -> dict[str, Any]:
    print(f"[{name}]", flush=True)
    key, visible = seed(url, args.n)
    ids_file = work / f"ids-{name}.txt"
    ids_file.write_text("\n".join(random.Random(1).sample(visible, min(len(visible), 20000))))
    env = {"FUNDTRAIL_DATABASE_URL": url, "FUNDTRAIL_HOME": str(work / name)}
    app = "fundtrail.server.app:create_app"
    with serve(app, env, factory=True, workers=args.workers) as (base, pid):
        steady = paced(base, key, ids_file, args, pid)
        cpu_ms = steady["cpu_ms"]
        flat = wrk(
            base,
            key,
            ids_file,
            pause_ms=0,
            connections=args.connections,
            duration=max(3, args.duration // 2),
        )
    print(f"  paced ~{args.rate}/s : {fmt(steady)}  (load average {steady['load']:.1f})")
    print(f"  flat out      : {fmt(flat)}")
    print(f"  server CPU    : {cpu_ms:.2f} ms per lookup (one core serves ~{1000 / cpu_ms:.0f}/s)")
    return {"paced": steady, "flat": flat, "cpu_ms": cpu_ms}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=100_000, help="indicators stored")
    ap.add_argument("--rate", type=float, default=200, help="offered requests/s (paced run)")
    ap.add_argument("--duration", type=int, default=10, help="seconds of the paced run")
    ap.add_argument("--connections", type=int, default=8)
    ap.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    ap.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    add_record_flag(ap)
    args = ap.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (Debian package 'wrk'; .ci/run installs it)")
    data = (
        f"synthetic: {args.n:,} indicators (mixed TLP, two orgs), random visible ids, "
        f"{args.connections} wrk connections on loopback, {args.workers} uvicorn worker(s)"
    )
    with recording("api", args.record, data=data) as rec:
        measure(args, rec)


def measure(args: argparse.Namespace, rec: Any) -> None:
    """The reference, then each backend; names the figures the intel hub guide quotes."""
    work = Path(tempfile.mkdtemp(prefix="fundtrail-bench-api-"))
    try:
        print(f"[reference: bare ASGI app on the same uvicorn, paced ~{args.rate}/s]")
        (work / "none.txt").write_text("x\n")
        with serve("api:floor_app", {}, factory=False, workers=args.workers) as (base, pid):
            floor = paced(base, "", work / "none.txt", args, pid)
            floor_cpu = floor["cpu_ms"]
        print(f"  floor         : {fmt(floor)}  server CPU {floor_cpu:.2f} ms/request")
        print(f"  (machine load average now: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")
        results = {}
        if args.backend in ("sqlite", "both"):
            results["sqlite"] = run_backend(
                "sqlite", f"sqlite:///{work / 'intel.sqlite'}", args, work
            )
        if args.backend in ("postgres", "both"):
            with temporary_postgres() as url:
                results["postgres"] = run_backend("postgres", url, args, work)
        print("\nsummary (single lookups, GET /api/v1/indicators/{id}):")
        for name, r in results.items():
            p = r["paced"]
            ok = "meets" if p["p99_us"] < 20_000 and p["rps"] >= 0.95 * args.rate else "misses"
            print(
                f"  {name:8s} p50 {p['p50_us'] / 1000:.2f} ms, p99 {p['p99_us'] / 1000:.2f} ms "
                f"at {p['rps']:.0f} req/s ({ok} the 20 ms p99 at {args.rate:.0f}/s target); "
                f"p99 ratio vs floor {p['p99_us'] / max(floor['p99_us'], 1):.1f}x; "
                f"flat out {r['flat']['rps']:.0f} req/s; server CPU {r['cpu_ms']:.2f} ms/lookup "
                f"= {r['cpu_ms'] / max(floor_cpu, 1e-6):.1f}x the floor's; "
                f"load average {p['load']:.1f}"
            )
            name_ = "SQLite" if name == "sqlite" else "PostgreSQL"
            rec.figure(f"{name}_p50_ms", p["p50_us"] / 1000, f"{p['p50_us'] / 1000:.1f} ms",
                       f"{name_} single lookup p50, paced")  # fmt: skip
            rec.figure(f"{name}_p99_ms", p["p99_us"] / 1000, f"{p['p99_us'] / 1000:.1f} ms",
                       f"{name_} single lookup p99, paced")  # fmt: skip
            rec.figure(f"{name}_paced_rps", p["rps"], f"{p['rps']:.0f} requests/s",
                       f"{name_} rate achieved in the paced run")  # fmt: skip
            rec.figure(f"{name}_flat_rps", r["flat"]["rps"], f"{r['flat']['rps']:.0f} lookups/s",
                       f"{name_} flat-out single lookups")  # fmt: skip
            rec.figure(f"{name}_cpu_ms", r["cpu_ms"], f"{r['cpu_ms']:.2f} ms",
                       f"{name_} server CPU per lookup")  # fmt: skip
            ratio = p["p99_us"] / max(floor["p99_us"], 1)
            rec.figure(f"{name}_p99_vs_floor", ratio, f"{ratio:.1f}×",
                       f"{name_} p99 / bare ASGI app's p99, same uvicorn")  # fmt: skip
        rec.figure("floor_p99_ms", floor["p99_us"] / 1000, f"{floor['p99_us'] / 1000:.1f} ms",
                   "bare ASGI app p99, paced (the HTTP stack's floor)")  # fmt: skip
        rec.figure("floor_cpu_ms", floor_cpu, f"{floor_cpu:.2f} ms",
                   "bare ASGI app server CPU per request")  # fmt: skip
        rec.figure("rate", args.rate, f"{args.rate:.0f} requests/s", "offered rate, paced run")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
