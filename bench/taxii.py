"""TAXII paging throughput: fundtrail vs medallion (the OASIS reference server), same objects.

N indicators are stored in a fresh fundtrail hub (SQLite); fundtrail serves them with
``fundtrail serve`` and medallion serves the very same STIX objects (fetched from
fundtrail, with the same date_added manifest) from its memory backend. Both run as
their own processes on loopback; the same taxii2-client code pages through all objects
of one collection with ``as_pages``. We report objects/s (median of --repeat runs) and
the ratio fundtrail / medallion.

    .venv/bin/pip install 'medallion>=3,<4'      # the [bench] extra
    .venv/bin/python bench/taxii.py               # 10,000 indicators
    .venv/bin/python bench/taxii.py --large       # 100,000 indicators

medallion's memory backend matches every manifest entry against every object when a
query starts (quadratic in the collection size: one to two minutes for the first page
of 2,000 objects on the 2-core dev box, ~30 min projected for 10,000), so the ratio is
taken on the first ``--medallion-n`` objects (default 2,000), served by both; fundtrail
is also measured on all N.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from taxii2client.v21 import Collection, as_pages

from fundtrail.testing import free_port

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
TAXII = "application/taxii+json;version=2.1"


def wait_up(url: str, proc: subprocess.Popen[bytes], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited early ({proc.returncode}): {url}")
        try:
            httpx.get(url, headers={"Accept": TAXII}, timeout=2)
            return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise SystemExit(f"server did not start: {url}")


def seed_fundtrail(home: Path, n: int) -> str:
    """A hub with one org, one key and ``n`` GREEN crypto-address indicators."""
    os.environ["FUNDTRAIL_HOME"] = str(home)
    from fundtrail.intel.indicators import IndicatorService
    from fundtrail.intel.records import IndicatorRecord
    from fundtrail.intelstore.db import open_store
    from fundtrail.intelstore.keys import create_key, org_principal
    from fundtrail.intelstore.orgs import add_org
    from fundtrail.model.encoding import b58check_encode

    store = open_store(f"sqlite:///{home / 'intel.sqlite'}")
    with store.session() as s:
        add_org(s, "bench", "research")
        key = create_key(s, "bench", "reader").key
        who = org_principal(s, "bench", "analyst")
    svc = IndicatorService(store)
    batch = 10_000
    for start in range(0, n, batch):
        recs = []
        for i in range(start, min(n, start + batch)):
            digest = hashlib.sha256(f"bench-{i}".encode()).digest()
            if i % 4 == 3:
                recs.append(
                    IndicatorRecord.build(
                        "crypto-address", "0x" + digest[:20].hex(), "scam", chain="ETH", tlp="green"
                    )
                )
            else:
                recs.append(
                    IndicatorRecord.build(
                        "crypto-address",
                        b58check_encode(b"\x00" + digest[:20]),
                        "ransomware",
                        chain="BTC",
                        tlp="green",
                    )
                )
        svc.import_records(who, recs, source="bench")
    store.close()
    return key


def page_all(url: str, user: str, password: str, per_page: int) -> tuple[int, float, int, float]:
    """(objects, seconds, pages, first-page seconds) to fetch a collection with taxii2-client."""
    coll = Collection(url, user=user, password=password)
    coll.can_read  # noqa: B018  (loads the collection before the clock starts)
    t0 = time.perf_counter()
    count = pages = 0
    first = 0.0
    for envelope in as_pages(coll.get_objects, per_request=per_page):
        count += len(envelope.get("objects", []))
        pages += 1
        first = first or time.perf_counter() - t0
    return count, time.perf_counter() - t0, pages, first


def fetch_manifest(url: str, user: str, password: str) -> list[dict[str, Any]]:
    coll = Collection(url, user=user, password=password)
    out: list[dict[str, Any]] = []
    for env in as_pages(coll.get_manifest, per_request=1000):
        out += env.get("objects", [])
    return out


def medallion_config(
    path: Path, port: int, objects: list[dict[str, Any]], manifest: list[dict[str, Any]], page: int
) -> Path:
    cid = "91a7b528-80eb-42ed-a74d-c6fbd5a26116"
    data = {
        "/discovery": {
            "title": "medallion bench",
            "default": f"http://127.0.0.1:{port}/bench/",
            "api_roots": [f"http://127.0.0.1:{port}/bench/"],
        },
        "bench": {
            "information": {
                "title": "bench",
                "versions": [TAXII],
                "max_content_length": 10 * 1024 * 1024,
            },
            "status": [],
            "collections": [
                {
                    "id": cid,
                    "title": "bench",
                    "can_read": True,
                    "can_write": False,
                    "media_types": ["application/stix+json;version=2.1"],
                    "objects": objects,
                    "manifest": manifest,
                }
            ],
        },
    }
    (path / "data.json").write_text(json.dumps(data))
    config = {
        "backend": {
            "module": "medallion.backends.memory_backend",
            "module_class": "MemoryBackend",
            "filename": str(path / "data.json"),
        },
        "users": {"bench": "bench"},
        "taxii": {"max_page_size": page},
    }
    (path / "config.json").write_text(json.dumps(config))
    return path / "config.json"


def serve_fundtrail(home: Path, procs: list[subprocess.Popen[bytes]]) -> str:
    """Start ``fundtrail serve`` over ``home``; return the 'all' collection's URL."""
    from fundtrail.intel.taxii import COLLECTIONS

    port = free_port()
    env = {**os.environ, "FUNDTRAIL_HOME": str(home)}
    procs.append(
        subprocess.Popen(
            [str(BIN / "fundtrail"), "serve", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
        )
    )
    wait_up(f"http://127.0.0.1:{port}/taxii2/", procs[-1])
    cid = next(c.id for c in COLLECTIONS if c.key == "all")
    return f"http://127.0.0.1:{port}/taxii2/api/collections/{cid}/"


def measure(
    name: str, url: str, user: str, password: str, args: argparse.Namespace, n: int
) -> Result:
    rates, firsts = [], []
    for _ in range(args.repeat):
        got, secs, pages, first = page_all(url, user, password, args.page)
        assert got == n, f"{name} served {got} of {n}"
        rates.append(got / secs)
        firsts.append(first)
    return Result(name, n, pages, rates, firsts)


@dataclass
class Result:
    server: str
    n: int
    pages: int
    rates: list[float]
    first_page_s: list[float]

    def line(self) -> str:
        runs = ", ".join(f"{r:,.0f}" for r in self.rates)
        return (
            f"{self.server:<10} {self.n:>8,} {self.pages:>6} "
            f"{statistics.median(self.first_page_s) * 1000:>10,.0f} "
            f"{statistics.median(self.rates):>12,.0f}   [{runs}]"
        )


def run(args: argparse.Namespace) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="fundtrail-bench-taxii-"))
    procs: list[subprocess.Popen[bytes]] = []
    results: list[Result] = []
    try:
        t0 = time.perf_counter()
        key = seed_fundtrail(tmp / "hub", args.n)
        print(f"seeded {args.n:,} indicators in {time.perf_counter() - t0:.1f} s")
        full_url = serve_fundtrail(tmp / "hub", procs)
        results.append(measure("fundtrail", full_url, "bench", key, args, args.n))
        m = min(args.n, args.medallion_n)
        if not args.skip_medallion and m > 0:
            small_key = seed_fundtrail(tmp / "small", m) if m < args.n else key
            small_url = serve_fundtrail(tmp / "small", procs) if m < args.n else full_url
            if m < args.n:
                results.append(measure("fundtrail", small_url, "bench", small_key, args, m))
            objects: list[dict[str, Any]] = []
            coll = Collection(small_url, user="bench", password=small_key)
            for env_ in as_pages(coll.get_objects, per_request=1000):
                objects += env_.get("objects", [])
            manifest = fetch_manifest(small_url, "bench", small_key)
            mport = free_port()
            cfg = medallion_config(tmp, mport, objects, manifest, args.page)
            procs.append(
                subprocess.Popen(
                    [str(BIN / "medallion"), "--port", str(mport), str(cfg)],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
            wait_up(f"http://127.0.0.1:{mport}/taxii2/", procs[-1], 120)
            m_url = (
                f"http://127.0.0.1:{mport}/bench/collections/91a7b528-80eb-42ed-a74d-c6fbd5a26116/"
            )
            results.append(measure("medallion", m_url, "bench", "bench", args, m))
        report(args, results)
    finally:
        for p in procs:
            p.terminate()
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
        shutil.rmtree(tmp, ignore_errors=True)


def report(args: argparse.Namespace, results: list[Result]) -> None:
    print(
        f"\npages of {args.page}, median of {args.repeat} runs; first page = latency of the "
        "first GET"
    )
    print(f"{'server':<10} {'objects':>8} {'pages':>6} {'first (ms)':>10} {'objects/s':>12}")
    for r in results:
        print(r.line())
    med = [r for r in results if r.server == "medallion"]
    if med:
        ours = next(r for r in results if r.server == "fundtrail" and r.n == med[0].n)
        ratio = statistics.median(ours.rates) / statistics.median(med[0].rates)
        print(f"ratio fundtrail / medallion on the same {med[0].n:,} objects: {ratio:.1f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000, help="indicators (default 10,000)")
    parser.add_argument("--large", action="store_true", help="100,000 indicators")
    parser.add_argument("--page", type=int, default=1000, help="objects per page")
    parser.add_argument("--repeat", type=int, default=3, help="runs per server")
    parser.add_argument(
        "--medallion-n",
        type=int,
        default=2000,
        help="objects both servers serve for the ratio (medallion's memory "
        "backend is quadratic in collection size; default 2,000)",
    )
    parser.add_argument("--skip-medallion", action="store_true")
    args = parser.parse_args()
    if args.large:
        args.n = 100_000
    run(args)


if __name__ == "__main__":
    main()
