"""TAXII paging: fundtrail vs medallion (the OASIS reference server), same objects, same client.

For each size, N indicators are stored in a fresh fundtrail hub (SQLite) and served by
``fundtrail serve``; medallion serves the very same STIX objects, with the same
date_added manifest, from its memory backend. Both run as their own processes on
loopback and the same taxii2-client code pages through the collection (``as_pages``),
with the same warm-up and pass counts, the client's GC collected before every pass.

Two costs are reported apart, because they answer different questions:

- **page 1** includes the server's query start. medallion's memory backend matches every
  manifest entry against every object then (a quadratic pass, ``strptime`` per
  comparison), so its page 1 grows as n^2 and any whole-run ratio is set by the size
  chosen; the bench fits that growth over ``--sizes``.
- **later pages** (``next``): serving a page once the query has started. This is the
  comparison of serving speed, and should not depend on size.

    .venv/bin/pip install 'medallion>=3,<4'      # the [bench] extra
    .venv/bin/python bench/taxii.py               # both at 500, 1,000, 2,000; fundtrail at 10,000
    .venv/bin/python bench/taxii.py --large       # fundtrail alone at 100,000 too
    .venv/bin/python bench/taxii.py --record      # write bench/results/taxii.json for the docs
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import json
import math
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

from _record import Record, add_record_flag, recording
from fundtrail.testing import free_port

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
TAXII = "application/taxii+json;version=2.1"
MEDALLION_COLLECTION = "91a7b528-80eb-42ed-a74d-c6fbd5a26116"


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
    from fundtrail.intelstore.keys import create_key
    from fundtrail.intelstore.orgs import add_org, org_identity
    from fundtrail.model.encoding import b58check_encode

    store = open_store(f"sqlite:///{home / 'intel.sqlite'}")
    with store.session() as s:
        add_org(s, "bench", "research")
        key = create_key(s, "bench", "reader").key
        who = org_identity(s, "bench", "analyst")
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


@dataclass
class Pass:
    """One paging pass through a collection, as taxii2-client sees it."""

    objects: int
    pages: int
    first_objects: int
    first_s: float  # the first GET: the server's query start plus one page
    rest_s: float  # every later GET (``next`` pages)

    @property
    def paging_rate(self) -> float:
        """Objects per second after page 1: serving pages, without the query start."""
        rest = self.objects - self.first_objects
        return rest / self.rest_s if self.rest_s > 0 else float("nan")


def page_all(url: str, user: str, password: str, per_page: int) -> Pass:
    """Page through a collection with taxii2-client, timing page 1 apart from the rest."""
    coll = Collection(url, user=user, password=password)
    coll.can_read  # noqa: B018  (loads the collection before the clock starts)
    count = pages = first_objects = 0
    first = 0.0
    t0 = time.perf_counter()
    for envelope in as_pages(coll.get_objects, per_request=per_page):
        got = len(envelope.get("objects", []))
        count += got
        pages += 1
        if pages == 1:
            first = time.perf_counter() - t0
            first_objects = got
    return Pass(count, pages, first_objects, first, time.perf_counter() - t0 - first)


def fetch_manifest(url: str, user: str, password: str) -> list[dict[str, Any]]:
    coll = Collection(url, user=user, password=password)
    out: list[dict[str, Any]] = []
    for env in as_pages(coll.get_manifest, per_request=1000):
        out += env.get("objects", [])
    return out


def medallion_config(
    path: Path, port: int, objects: list[dict[str, Any]], manifest: list[dict[str, Any]], page: int
) -> Path:
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
                    "id": MEDALLION_COLLECTION,
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
            "session_timeout": 3600,  # its default (30 s) would expire paging mid-run
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


@dataclass
class Result:
    server: str
    n: int
    passes: list[Pass]

    @property
    def first_ms(self) -> float:
        return statistics.median(p.first_s for p in self.passes) * 1000

    @property
    def paging_rate(self) -> float:
        return statistics.median(p.paging_rate for p in self.passes)

    @property
    def whole_rate(self) -> float:
        return statistics.median(p.objects / (p.first_s + p.rest_s) for p in self.passes)

    def row(self) -> str:
        paging = f"{self.paging_rate:,.0f}" if self.passes[0].pages > 1 else "(one page)"
        return (
            f"| {self.server} | {self.n:,} | {self.passes[0].pages} | {self.first_ms:,.0f} "
            f"| {paging} | {self.whole_rate:,.0f} |"
        )


def measure(name: str, url: str, password: str, args: argparse.Namespace, n: int) -> Result:
    """``--warmup`` untimed passes, then ``--repeat`` timed ones: the same for both servers."""
    for _ in range(args.warmup):
        page_all(url, "bench", password, args.page)
    passes = []
    for _ in range(args.repeat):
        gc.collect()
        got = page_all(url, "bench", password, args.page)
        assert got.objects == n, f"{name} served {got.objects} of {n}"
        passes.append(got)
    result = Result(name, n, passes)
    print(
        f"  {name:<10} {n:>7,}: page 1 {result.first_ms:,.0f} ms, later pages "
        f"{result.paging_rate:,.0f} objects/s",
        flush=True,
    )
    return result


def stop(procs: list[subprocess.Popen[bytes]]) -> None:
    while procs:
        p = procs.pop()
        p.terminate()
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(10)


def serve_medallion(
    tmp: Path, url: str, key: str, args: argparse.Namespace, procs: list[subprocess.Popen[bytes]]
) -> str:
    """medallion serving exactly the objects and manifest fundtrail serves at ``url``."""
    objects: list[dict[str, Any]] = []
    coll = Collection(url, user="bench", password=key)
    for env_ in as_pages(coll.get_objects, per_request=1000):
        objects += env_.get("objects", [])
    manifest = fetch_manifest(url, "bench", key)
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
    return f"http://127.0.0.1:{mport}/bench/collections/{MEDALLION_COLLECTION}/"


def run(args: argparse.Namespace) -> list[Result]:
    tmp = Path(tempfile.mkdtemp(prefix="fundtrail-bench-taxii-"))
    procs: list[subprocess.Popen[bytes]] = []
    results: list[Result] = []
    sizes = sorted(set(args.sizes) | {args.n})
    try:
        for n in sizes:
            t0 = time.perf_counter()
            key = seed_fundtrail(tmp / f"hub-{n}", n)
            print(f"{n:,} indicators seeded in {time.perf_counter() - t0:.1f} s", flush=True)
            url = serve_fundtrail(tmp / f"hub-{n}", procs)
            results.append(measure("fundtrail", url, key, args, n))
            if n in args.sizes and not args.skip_medallion:
                m_url = serve_medallion(tmp / f"hub-{n}", url, key, args, procs)
                results.append(measure("medallion", m_url, "bench", args, n))
            stop(procs)
    finally:
        stop(procs)
        shutil.rmtree(tmp, ignore_errors=True)
    return results


def growth(points: list[tuple[int, float]]) -> float:
    """The exponent k of t ~ n^k, fitted by least squares on log-log."""
    xs = [math.log(n) for n, _ in points]
    ys = [math.log(t) for _, t in points]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sum(
        (x - mx) ** 2 for x in xs
    )


def span(values: list[float], unit: str = "×") -> str:
    """'1.6-4.5×' (or '69-808×' from 10 up): the range over sizes, one value if they agree."""
    lo, hi = min(values), max(values)
    fmt = (lambda v: f"{v:,.0f}") if lo >= 10 else (lambda v: f"{v:.1f}")
    return f"{fmt(lo)}{unit}" if fmt(lo) == fmt(hi) else f"{fmt(lo)}-{fmt(hi)}{unit}"


def report(args: argparse.Namespace, results: list[Result], rec: Record) -> None:
    table = [
        "| server | objects | pages | page 1 (ms) | later pages (objects/s) | whole pass (objects/s) |",
        "|---|---:|---:|---:|---:|---:|",
        *(r.row() for r in results),
    ]
    print(
        f"\npages of {args.page}; median of {args.repeat} passes after {args.warmup} "
        "warm-up, both servers alike; page 1 includes the server's query start"
    )
    print("\n".join(table))
    rec.table("sizes", "\n".join(table))
    pairs = [
        (ours, theirs)
        for theirs in results
        if theirs.server == "medallion"
        for ours in results
        if ours.server == "fundtrail" and ours.n == theirs.n
    ]
    if pairs:
        paging = [o.paging_rate / t.paging_rate for o, t in pairs if o.passes[0].pages > 1]
        first = [t.first_ms / o.first_ms for o, t in pairs]
        sizes = ", ".join(f"{t.n:,}" for _, t in pairs)
        k = growth([(t.n, t.first_ms) for _, t in pairs])
        largest = pairs[-1][1]
        print(f"\nlater pages, fundtrail / medallion: {span(paging)} (sizes {sizes})")
        print(
            f"page 1, medallion / fundtrail: {span(first)}; medallion's page 1 grows as n^{k:.1f}"
            f" ({largest.first_ms / 1000:,.1f} s at {largest.n:,} objects)"
        )
        rec.figure(
            "paging_ratio",
            statistics.median(paging),
            span(paging),
            f"objects/s after page 1, fundtrail / medallion, same objects, at {sizes}",
        )
        rec.figure(
            "first_page_ratio",
            statistics.median(first),
            span(first),
            f"page-1 latency (query start), medallion / fundtrail, at {sizes}",
        )
        rec.figure(
            "medallion_growth",
            k,
            f"n^{k:.1f}",
            "how medallion's page-1 latency grows with the collection size",
        )
        rec.figure(
            "medallion_first_s",
            largest.first_ms / 1000,
            f"{largest.first_ms / 1000:,.1f} s",
            f"medallion's page-1 latency at {largest.n:,} objects",
        )
    big = max((r for r in results if r.server == "fundtrail"), key=lambda r: r.n)
    rec.figure(
        "fundtrail_rate",
        big.whole_rate,
        f"{big.whole_rate:,.0f} objects/s",
        f"fundtrail paging all {big.n:,} indicators, query start included",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000, help="fundtrail alone at this size too")
    parser.add_argument("--large", action="store_true", help="--n 100000")
    parser.add_argument(
        "--sizes",
        type=lambda s: [int(x) for x in s.split(",")],
        default=[500, 1000, 2000],
        help="sizes both servers serve (500,1000,2000)",
    )
    parser.add_argument("--page", type=int, default=250, help="objects per page (250)")
    parser.add_argument("--warmup", type=int, default=1, help="untimed passes per server and size")
    parser.add_argument("--repeat", type=int, default=3, help="timed passes per server and size")
    parser.add_argument("--skip-medallion", action="store_true")
    add_record_flag(parser)
    args = parser.parse_args()
    if args.large:
        args.n = 100_000
    data = (
        f"synthetic GREEN crypto-address indicators (3 BTC : 1 ETH), {args.n:,} for "
        f"fundtrail alone, {', '.join(f'{n:,}' for n in args.sizes)} served by both"
    )
    with recording("taxii", args.record, data=data) as rec:
        report(args, run(args), rec)


if __name__ == "__main__":
    main()
