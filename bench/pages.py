"""Benchmark: the web pages an investigator opens, on the 10,000-transaction `mixed` world.

Builds the world with the CLI (simulate --scenario mixed, ingest, tags, cluster,
complaints import, campaign trace), then serves the real app in process (Starlette's
TestClient, a signed-in session) and times each page: the campaign list, the largest
campaign's page, its canvas JSON (trace + flow model + a page of endpoints), the printed
flow SVG, an address page and the intel list. Reference in the same run: the sign-in
page (a template with no data), so the ratio is what the page's data costs. Goal: every
page under 1 s (median of --repeat runs); the load average is printed beside it.

    .venv/bin/python bench/pages.py [--txs 10000] [--repeat 5] [--seed 3] [--record]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _record import Record, add_record_flag, recording

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
FUNDTRAIL = [str(Path(sys.executable).parent / "fundtrail")]
POLICE = "National Cybercrime Unit"


def run(*args: str, env: dict[str, str]) -> str:
    done = subprocess.run([*FUNDTRAIL, *args], env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"fundtrail {' '.join(args)} failed: {done.stderr[-2000:]}")
    return done.stdout


def build_world(out: Path, txs: int, seed: int) -> tuple[dict[str, str], str]:
    home = out / "workspace"
    env = {**os.environ, "FUNDTRAIL_HOME": str(home), "PYTHONPATH": str(ROOT / "src")}
    env.pop("FUNDTRAIL_DATABASE_URL", None)
    sim = out / "sim"
    run("simulate", "--scenario", "mixed", "--txs", str(txs), "--seed", str(seed),
        "--out", str(sim), "-q", env=env)  # fmt: skip
    run("ingest", "bitcoin", str(sim / "blocks"), "-q", env=env)
    run("tags", "import", str(sim / "tags.yaml"), env=env)
    run("cluster", "-q", env=env)
    run("org", "add", POLICE, "--kind", "law-enforcement", env=env)
    key = re.search(r"ft_[A-Za-z0-9_-]+", run("key", "create", "--org", POLICE, "--role",
                                               "admin", env=env))  # fmt: skip
    assert key
    run("complaints", "import", str(sim / "complaints.csv"), "--org", POLICE, "-q", env=env)
    camps = json.loads(run("campaigns", "--org", POLICE, "--json", env=env))
    for c in camps:
        run("campaign", "trace", c["id"], "--org", POLICE, "--json", env=env)
    return env, key.group(0)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--txs", type=int, default=10_000)
    ap.add_argument("--seed", type=int, default=3)
    ap.add_argument("--repeat", type=int, default=5)
    add_record_flag(ap)
    args = ap.parse_args()
    data = (f"simulated mixed Bitcoin world of {args.txs:,} txs (seed {args.seed}), every "
            "campaign traced, one signed-in session in process")  # fmt: skip
    with recording("pages", args.record, data=data) as rec:
        measure(args, rec)


def measure(args: argparse.Namespace, rec: Record) -> None:
    with tempfile.TemporaryDirectory(prefix="ft-pages-", ignore_cleanup_errors=True) as tmp:
        t0 = time.perf_counter()
        env, key = build_world(Path(tmp), args.txs, args.seed)
        print(f"world: mixed, {args.txs:,} txs, built in {time.perf_counter() - t0:.0f} s")
        os.environ.update({k: v for k, v in env.items() if k.startswith("FUNDTRAIL_")})
        from fastapi.testclient import TestClient

        from fundtrail.server.app import create_app
        from fundtrail.settings import reset_settings
        from fundtrail.testing import web_sign_in

        reset_settings()
        client = TestClient(create_app())
        r = web_sign_in(client, key, follow_redirects=False)
        assert r.status_code == 303, r.text
        camps = client.get("/api/v1/campaigns", headers={"Authorization": f"Bearer {key}"}).json()
        big = max(camps, key=lambda c: c["complaints"])
        addr = big["cashouts"][0]["deposit_address"] if big["cashouts"] else big["addresses"][0]
        q = f"chain=BTC&campaign={big['id']}"
        pages = {
            "sign-in page (reference)": "/ui/login",
            "campaign list": "/ui/campaigns",
            f"campaign page ({big['complaints']} complaints)": f"/ui/campaigns/{big['id']}",
            "trace canvas page": f"/ui/trace?{q}",
            "canvas JSON (trace + flow model)": f"/ui/trace.json?{q}",
            "printed flow SVG": f"/ui/campaigns/{big['id']}/flow.svg",
            "address page": f"/ui/address/BTC/{addr}",
            "intel list": "/ui/intel",
        }
        times: dict[str, float] = {}
        for name, url in pages.items():
            client.get(url)  # warm caches once
            runs = []
            for _ in range(args.repeat):
                t = time.perf_counter()
                resp = client.get(url)
                runs.append(time.perf_counter() - t)
                assert resp.status_code == 200, (url, resp.status_code, resp.text[:300])
            times[name] = statistics.median(runs)
        ref = times["sign-in page (reference)"]
        load = os.getloadavg()[0]
        print(f"load average {load:.2f} (2 cores); median of {args.repeat} runs")
        print(f"{'page':44} {'median s':>9} {'x ref':>8}  goal < 1 s")
        rows = ["| page | median (s) | × sign-in page |", "|---|---:|---:|"]
        for name, t in times.items():
            ok = "ok" if t < 1.0 else "SLOW"
            print(f"{name:44} {t:9.3f} {t / ref:8.1f}  {ok}")
            rows.append(f"| {name} | {t:.3f} | {t / ref:.1f} |")
        slowest = max(times, key=lambda k: times[k])
        rec.figure("slowest_s", times[slowest], f"{times[slowest]:.2f} s",
                   f"the slowest page ({slowest}), median of {args.repeat} runs")  # fmt: skip
        rec.table("pages", "\n".join(rows))


if __name__ == "__main__":
    main()
