"""Benchmark: the screening index (issue 10) against a straightforward SQL lookup.

1. index build: ``--index-addresses`` synthetic addresses with tag / indicator / entity /
   cluster / indirect reasons at realistic ratios; times hashing (``keys_of``, what a
   real build does per chain address), ``write_index`` and loading the new version.
2. batch: ``--batch`` addresses (hits and misses, BTC and EIP-55 ETH, a few typos)
   through ``service.screen`` (parse, answer, decision logging), median of ``--runs``.
3. HTTP, one run of ``fundtrail serve --workers N`` per durability mode and N: ``wrk``
   flat out (1 thread, 8 connections) on ``POST /api/v1/screen`` and on the same server's public
   ``GET /taxii2/`` discovery route (the floor), taken in turns, ``--rounds`` each, with
   their ratio and the server's CPU per request (all its processes, /proc); then a paced
   open-loop loader (this file's ``loader`` mode, raw asyncio HTTP/1.1 keep-alive on
   uvloop, a separate process) at each of ``--rates`` (latency from the scheduled send
   time, so a stalled server cannot hide queueing); then a batch of ``--batch`` over HTTP; with
   ``--py-spy BIN`` a sampled profile of the live server under wrk, split by part. After
   the server stops, the decisions it answered are counted in ``screen_decisions``.
   Before it, each step of one request is timed in process (CPU us).
   Before each timed HTTP step the decision drainer is let catch up with the log of the step
   before (its work during a step is that step's, not a leftover's).
4. reference: the same answers from a SQLite table ``(chain, address) -> reasons``
   with an index, same process, same run: ratio = sql time / index time (batch and
   single address), answers checked equal.

The machine's load average is printed next to every figure.

    flock /work/coord/bench.lock .venv/bin/python bench/screen.py [--index-addresses 1000000]
        [--batch 10000] [--rates 500,1000] [--duration 10] [--workers 1,2] [--py-spy BIN]
        [--skip-http] [--skip-sql] [--profile] [--record]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import json
import os
import pstats
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from fundtrail.testing import free_port

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

# ratios of reasons per indexed address (a first kind for every address, then extras)
KIND_MIX = {"indirect": 0.78, "entity": 0.12, "tag": 0.05, "cluster": 0.04, "indicator": 0.01}
EXTRA_INDIRECT = 0.25  # share of addresses exposed to a second category
RISKY = ["scam", "ransomware", "sanctions", "mixer", "theft", "darknet-market", "phishing"]
TLPS = ["clear", "green", "amber", "red"]


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"load {one:.1f}/{five:.1f} on {os.cpu_count()} cores"


# ---------------------------------------------------------------- synthetic addresses


def eth_addresses(rng: np.random.Generator, n: int) -> list[str]:
    raw = rng.bytes(20 * n).hex()
    return ["0x" + raw[i * 40 : (i + 1) * 40] for i in range(n)]


def btc_addresses(rng: np.random.Generator, n: int) -> list[str]:
    from fundtrail.model.encoding import b58check_encode, segwit_encode

    raw = rng.bytes(20 * n)
    out = []
    for i in range(n):
        h = raw[i * 20 : (i + 1) * 20]
        out.append(segwit_encode("bc", 0, h) if i % 3 == 0 else b58check_encode(b"\x00" + h))
    return out


class World:
    """Indexed addresses per chain and their reasons, as a FactTable."""

    def __init__(self, n: int, btc_share: float, seed: int = 7) -> None:
        from fundtrail.screen.index import CATEGORY_CODE, FactTable, Source

        self.rng = np.random.default_rng(seed)
        n_btc = int(n * btc_share)
        self.addresses = {
            "BTC": btc_addresses(self.rng, n_btc),
            "ETH": eth_addresses(self.rng, n - n_btc),
        }
        self.n = n
        self.facts = FactTable()
        self.sources = self.facts.sources
        self._Source, self._code = Source, CATEGORY_CODE
        self.hash_s = 0.0
        self.keys: dict[str, np.ndarray] = {}
        from fundtrail.screen.keys import keys_of

        for chain, addrs in self.addresses.items():
            t0 = time.perf_counter()
            self.keys[chain] = keys_of(chain, addrs)
            self.hash_s += time.perf_counter() - t0
        self.t_facts = time.perf_counter()
        for chain in self.addresses:
            self._facts(chain)
        self.t_facts = time.perf_counter() - self.t_facts

    def _facts(self, chain: str) -> None:
        rng, Source = self.rng, self._Source
        keys = self.keys[chain]
        n = len(keys)
        if n == 0:
            return
        kinds = list(KIND_MIX)
        first = rng.choice(len(kinds), size=n, p=list(KIND_MIX.values()))
        for k, kind in enumerate(kinds):
            idx = np.nonzero(first == k)[0]
            if kind == "indicator":  # one source per indicator, owned by an org, mixed TLP
                for i in idx:
                    tlp = TLPS[int(rng.integers(len(TLPS)))]
                    cat = RISKY[int(rng.integers(len(RISKY)))]
                    src = self.facts.add_source(
                        Source(
                            "indicator",
                            f"ind-{chain}-{i}",
                            f"reported {cat}",
                            cat,
                            org="police",
                            tlp=tlp,
                            share_with=["exchange"] if tlp in ("amber", "red") and i % 2 else [],
                            confidence=80,
                            chain=chain,
                            address=self.addresses[chain][i],
                        )
                    )
                    self.facts.add(keys[i : i + 1], category=cat, kind="indicator", source=src)
                continue
            # tags, entities, clusters, exposure: one source per group of ~1000 addresses
            for lo in range(0, len(idx), 1000):
                part = idx[lo : lo + 1000]
                cat = RISKY[int(rng.integers(len(RISKY)))]
                src = self.facts.add_source(
                    Source(
                        {"indirect": "exposure"}.get(kind, kind),
                        f"{kind}-{chain}-{lo}",
                        f"{kind} {cat}",
                        cat,
                        chain=chain,
                    )
                )
                self._add(kind, keys[part], cat, src)
        extra = np.nonzero(rng.random(n) < EXTRA_INDIRECT)[0]
        for lo in range(0, len(extra), 1000):
            part = extra[lo : lo + 1000]
            cat = RISKY[int(rng.integers(len(RISKY)))]
            tlp = TLPS[lo // 1000 % len(TLPS)]
            src = self.facts.add_source(
                Source(
                    "exposure",
                    f"exp-{chain}-{lo}",
                    f"received funds from {cat} sources",
                    cat,
                    org="police",
                    tlp=tlp,
                    share_with=["exchange"] if tlp == "amber" else [],
                    chain=chain,
                )
            )
            self._add("indirect", keys[part], cat, src)

    def _add(self, kind: str, keys: np.ndarray, cat: str, src: int) -> None:
        if kind == "indirect":
            m = len(keys)
            self.facts.add(
                keys,
                category=np.full(m, self._code[cat], np.uint8),
                kind="indirect",
                source=src,
                share_ppm=self.rng.integers(500, 1_000_000, m).astype(np.uint32),
                hops=self.rng.integers(1, 4, m).astype(np.uint8),
            )
        else:
            self.facts.add(keys, category=cat, kind=kind, source=src)


# ---------------------------------------------------------------- 1. index build


def bench_build(n: int, home: Path) -> tuple[World, dict[str, Any]]:
    from fundtrail.screen.index import ScreenIndex, screen_root, write_index

    print(f"[1] index build, {n:,} addresses ({load()})", flush=True)
    world = World(n, btc_share=0.05)
    t0 = time.perf_counter()
    from fundtrail.screen.freshness import inputs
    from fundtrail.settings import get_settings

    # the workspace's own inputs: the server's freshness check finds the index current
    # and its background rebuilder leaves the synthetic index alone
    fingerprint = inputs(home, get_settings().screen_hops)
    version = write_index(home, world.facts, fingerprint=fingerprint)
    t_write = time.perf_counter() - t0
    t0 = time.perf_counter()
    index = ScreenIndex(screen_root(home) / version)
    index.ranges(world.keys["ETH"][:1])  # first answer: pages in the top of the search
    t_load = time.perf_counter() - t0
    out = {
        "addresses": int(index.meta["addresses"]),
        "records": int(index.meta["records"]),
        "sources": int(index.meta["sources"]),
        "hash_s": world.hash_s,
        "facts_s": world.t_facts,
        "write_s": t_write,
        "load_s": t_load,
        "load": load(),
    }
    out["total_s"] = world.hash_s + t_write + t_load
    out["per_10m_s"] = (world.hash_s + t_write + t_load) * 10_000_000 / n
    print(
        f"  hashing {out['hash_s']:.2f} s, facts {out['facts_s']:.2f} s (synthetic, not timed "
        f"in total), write_index {t_write:.2f} s, load {t_load * 1000:.1f} ms; "
        f"{out['records']:,} reasons, {out['sources']:,} sources ({out['load']})",
        flush=True,
    )
    return world, out


# ---------------------------------------------------------------- SQL reference


class SqlIndex:
    """The straightforward implementation: a SQLite table (chain, address) -> reasons."""

    def __init__(self, path: Path, world: World, sources: list[Any]) -> None:
        from fundtrail.screen.index import KIND_CODE

        self.sources = sources
        self.con = sqlite3.connect(path, check_same_thread=False)
        self.con.execute(
            "CREATE TABLE reasons (chain TEXT, address TEXT, category INT, kind INT, "
            "hops INT, share_ppm INT, source INT)"
        )
        keys, recs = world.facts.arrays()
        text: dict[int, tuple[str, str]] = {}
        for chain, addrs in world.addresses.items():
            text.update(zip(world.keys[chain].tolist(), ((chain, a) for a in addrs), strict=True))
        rows = (
            (*text[k], int(r[0]), int(r[1]), int(r[2]), int(r[3]), int(r[4]))
            for k, r in zip(keys.tolist(), recs.tolist(), strict=True)
        )
        self.con.executemany("INSERT INTO reasons VALUES (?,?,?,?,?,?,?)", rows)
        self.con.execute("CREATE INDEX reasons_address ON reasons (chain, address)")
        self.con.commit()
        self.kinds = {v: k for k, v in KIND_CODE.items()}

    def lookup(self, chain: str, address: str) -> list[tuple[int, int, int, int, int]]:
        """(category, kind, hops, share ppm, source) rows, in the index's order."""
        return self.con.execute(
            "SELECT category, kind, hops, share_ppm, source FROM reasons "
            "WHERE chain = ? AND address = ? ORDER BY kind, source",
            (chain, address),
        ).fetchall()


def answer_sql(
    sql: SqlIndex, items: list[Any], version: str, *, viewer_org: str, rules: Any
) -> list[dict[str, Any]]:
    """The same verdicts, each address normalised then looked up with one SELECT."""
    from fundtrail.errors import InvalidInputError
    from fundtrail.screen.index import CATEGORIES, KINDS, PPM
    from fundtrail.screen.keys import normalise
    from fundtrail.screen.verdicts import Reason, _visible, verdict_of

    out: list[dict[str, Any]] = []
    for item in items:
        base: dict[str, Any] = {"chain": item.chain, "address": item.address}
        if item.direction:
            base["direction"] = item.direction
        try:
            norm = normalise(item.chain, item.address)
        except InvalidInputError as exc:
            out.append({**base, "error": exc.message, "risk": None, "score": None, "reasons": []})
            continue
        reasons = []
        for c, k, h, share, src in sql.lookup(item.chain, norm):
            source = sql.sources[src]
            if _visible(source, viewer_org):
                reasons.append(Reason(CATEGORIES[c], KINDS[k], h, share / PPM, source))
        risk, score, shown = verdict_of(rules, reasons) if reasons else (rules.level(0), 0, [])
        out.append(
            {
                **base,
                "normalised": norm,
                "risk": risk,
                "score": score,
                "reasons": shown,
                "index_version": version,
            }
        )
    return out


# ---------------------------------------------------------------- 2. batch


def request_items(world: World, n: int, seed: int) -> list[dict[str, Any]]:
    """What an exchange sends: ~10% known addresses, EIP-55 ETH, ~0.2% typos."""
    from fundtrail.model.encoding import eip55

    rng = np.random.default_rng(seed)
    fresh = {"BTC": btc_addresses(rng, n // 5), "ETH": eth_addresses(rng, n)}
    out = []
    for i in range(n):
        chain = "BTC" if rng.random() < 0.3 else "ETH"
        if rng.random() < 0.1:
            pool = world.addresses[chain]
            addr = pool[int(rng.integers(len(pool)))]
        else:
            addr = fresh[chain][i % len(fresh[chain])]
        if chain == "ETH":
            addr = eip55(addr[2:])
        if rng.random() < 0.002:
            addr = addr[:-1] + ("2" if addr[-1] != "2" else "3")  # a typo: checksum fails
        item: dict[str, Any] = {"chain": chain, "address": addr}
        if i % 2:
            item.update(direction="deposit", amount=str(int(rng.integers(1, 10**12))), asset=chain)
        out.append(item)
    return out


def setup_intel(home: Path) -> tuple[Any, str, str, str]:
    """The intel store with police and exchange; returns (store, org id, key, key id)."""
    from fundtrail.intelstore.db import open_store
    from fundtrail.intelstore.keys import create_key
    from fundtrail.intelstore.orgs import add_org

    store = open_store()
    with store.session() as s:
        add_org(s, "police")
        org = add_org(s, "exchange")
        key = create_key(s, "exchange", "analyst")
        org_id = org.id
    return store, org_id, key.key, key.id


def median_time(fn: Any, runs: int, cpu: list[float] | None = None) -> float:
    """Median wall time of ``fn(run)``; with ``cpu``, also append the median CPU time of
    this process (what the work costs on a core of its own, the machine being shared)."""
    times, cpus = [], []
    for run in range(runs):
        c0, t0 = time.process_time(), time.perf_counter()
        fn(run)
        times.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
    if cpu is not None:
        cpu.append(statistics.median(cpus))
    return statistics.median(times)


def bench_batch(world: World, home: Path, args: argparse.Namespace) -> dict[str, Any]:
    from fundtrail.model.identity import Identity
    from fundtrail.screen import service
    from fundtrail.screen.verdicts import answer

    print(f"[2] batch of {args.batch:,} through the service ({load()})", flush=True)
    store, org_id, _key, _ = setup_intel(home)
    # a fresh batch every run: nothing is answered from a warm per-address cache
    bodies = [
        {"items": request_items(world, args.batch, seed=11 + r)} for r in range(args.runs + 1)
    ]
    index = service.index_cache(home).get()
    rules = service.get_rules(store, org_id)
    who = Identity(org_id, "exchange", "exchange", "analyst", "cli", user="bench")

    def full(run: int) -> dict[str, Any]:
        items = service.parse_request(bodies[run])
        return service.screen(store, home, items, who=who)

    first = full(args.runs)
    hits = sum(1 for a in first["items"] if a["reasons"])
    bad = sum(1 for a in first["items"] if a["risk"] is None)
    batches = [service.parse_request(b) for b in bodies]
    items = batches[0]
    cpu: list[float] = []
    t_full = median_time(full, args.runs, cpu)
    la_full = load()
    t_parse = median_time(lambda r: service.parse_request(bodies[r]), args.runs)
    t_answer = median_time(
        lambda r: answer(index, batches[r], viewer_org="exchange", rules=rules), args.runs, cpu
    )
    la_answer = load()
    if args.profile:
        prof = cProfile.Profile()
        prof.enable()
        full(0)
        prof.disable()
        buf = io.StringIO()
        pstats.Stats(prof, stream=buf).sort_stats("cumulative").print_stats(25)
        print(buf.getvalue())
    print(
        f"  {hits:,} with reasons, {bad} invalid; service (parse+answer+log) median "
        f"{t_full * 1000:.0f} ms wall, {cpu[0] * 1000:.0f} ms CPU ({la_full}); parse "
        f"{t_parse * 1000:.0f} ms, answer {t_answer * 1000:.0f} ms wall, "
        f"{cpu[1] * 1000:.0f} ms CPU ({la_answer})",
        flush=True,
    )
    return {
        "store": store,
        "org_id": org_id,
        "items": items,
        "rules": rules,
        "index": index,
        "full_s": t_full,
        "full_cpu_s": cpu[0],
        "answer_cpu_s": cpu[1],
        "full_load": la_full,
        "parse_s": t_parse,
        "answer_s": t_answer,
        "answer_load": la_answer,
    }


# ---------------------------------------------------------------- 4. SQL ratio


def paired(a: Any, b: Any, runs: int) -> tuple[float, float]:
    """Median times of ``a`` and ``b``, run alternately so that both see the same
    moments of a shared machine's load."""
    ta: list[float] = []
    tb: list[float] = []
    for _ in range(runs):
        for fn, out in ((a, ta), (b, tb)):
            t0 = time.perf_counter()
            fn()
            out.append(time.perf_counter() - t0)
    return statistics.median(ta), statistics.median(tb)


def bench_sql(
    world: World, home: Path, b: dict[str, Any], args: argparse.Namespace
) -> dict[str, Any]:
    from fundtrail.screen.verdicts import answer

    print(f"[4] reference: SQLite (chain, address) -> reasons ({load()})", flush=True)
    t0 = time.perf_counter()
    sql = SqlIndex(home / "reference.sqlite", world, b["index"].sources)
    print(f"  loaded {world.facts.arrays()[0].size:,} rows in {time.perf_counter() - t0:.1f} s")
    index, items, rules = b["index"], b["items"], b["rules"]
    kw = {"viewer_org": "exchange", "rules": rules}
    ours = answer(index, items, **kw)
    ref = answer_sql(sql, items, index.version, **kw)
    if ours != ref:
        diff = next(i for i, (x, y) in enumerate(zip(ours, ref, strict=True)) if x != y)
        raise SystemExit(f"answers differ at item {diff}: {ours[diff]} != {ref[diff]}")
    from fundtrail.screen.keys import address_key, normalise

    valid = []
    for it in items:
        try:
            valid.append((it.chain, normalise(it.chain, it.address)))
        except Exception:
            continue
    keys = np.array([address_key(c, a) for c, a in valid], dtype=np.uint64)
    l_idx, l_sql = paired(
        lambda: index.ranges(keys), lambda: [sql.lookup(c, a) for c, a in valid], args.runs
    )
    t_idx, t_sql = paired(
        lambda: answer(index, items, **kw),
        lambda: answer_sql(sql, items, index.version, **kw),
        args.runs,
    )
    la_batch = load()
    singles = items[: min(len(items), 2000)]

    def one_by_one(fn: Any) -> None:
        for it in singles:
            fn([it])

    s_idx, s_sql = paired(
        lambda: one_by_one(lambda x: answer(index, x, **kw)),
        lambda: one_by_one(lambda x: answer_sql(sql, x, index.version, **kw)),
        max(5, args.runs),
    )
    s_idx /= len(singles)
    s_sql /= len(singles)
    la_single = load()
    sql.con.close()
    print(
        f"  batch: index {t_idx * 1000:.0f} ms, SQL {t_sql * 1000:.0f} ms, ratio "
        f"{t_sql / t_idx:.2f} ({la_batch}); single: index {s_idx * 1e6:.0f} us, "
        f"SQL {s_sql * 1e6:.0f} us, ratio {s_sql / s_idx:.2f} ({la_single}); answers equal; "
        f"lookups alone (no validation, no verdicts): index {l_idx * 1000:.1f} ms, SQL "
        f"{l_sql * 1000:.0f} ms, ratio {l_sql / l_idx:.0f}",
        flush=True,
    )
    return {
        "lookup_idx": l_idx,
        "lookup_sql": l_sql,
        "batch_idx": t_idx,
        "batch_sql": t_sql,
        "batch_load": la_batch,
        "single_idx": s_idx,
        "single_sql": s_sql,
        "single_load": la_single,
    }


# ---------------------------------------------------------------- 3. HTTP


def tree_pids(pid: int) -> list[int]:
    """``pid`` and every process below it."""
    children: dict[int, list[int]] = {}
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                ppid = int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(proc.name))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


def tree_cpu(pid: int) -> float:
    """CPU seconds of ``pid`` and every process below it (workers, the decision drainer
    and index rebuilds are the server's cost too)."""
    total = 0.0
    for p in tree_pids(pid):
        try:
            total += cpu_seconds(p)
        except (OSError, IndexError, ValueError):
            continue
    return total


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextmanager
def serve(
    home: Path, workers: int = 1, durability: str = "fsync"
) -> Iterator[tuple[str, int, int]]:
    port = free_port()
    exe = Path(sys.executable).with_name("fundtrail")
    proc = subprocess.Popen(
        [str(exe), "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)],
        env={
            **os.environ,
            "FUNDTRAIL_HOME": str(home),
            "FUNDTRAIL_SCREEN_DURABILITY": durability,
        },
    )
    try:
        for _ in range(600):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if proc.poll() is not None:
                    raise SystemExit("fundtrail serve exited") from None
                time.sleep(0.1)
        yield "127.0.0.1", port, proc.pid
    finally:
        proc.terminate()
        proc.wait(timeout=30)


async def _paced(
    host: str, port: int, key: str, bodies: list[bytes], rate: float, duration: float, conns: int
) -> dict[str, Any]:
    """Open loop: request i is due at t0 + i/rate; latency = answer time - due time."""
    queue: asyncio.Queue[tuple[float, bytes] | None] = asyncio.Queue()
    lat: list[float] = []
    errors = 0
    head = (
        f"POST /api/v1/screen HTTP/1.1\r\nHost: {host}:{port}\r\n"
        f"Authorization: Bearer {key}\r\nContent-Type: application/json\r\n"
    ).encode()

    async def worker() -> None:
        nonlocal errors
        reader, writer = await asyncio.open_connection(host, port)
        while (job := await queue.get()) is not None:
            due, body = job
            writer.write(head + b"Content-Length: %d\r\n\r\n" % len(body) + body)
            status = await reader.readline()
            length = 0
            while (line := await reader.readline()) not in (b"\r\n", b""):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            await reader.readexactly(length)
            lat.append(time.perf_counter() - due)
            if b" 200 " not in status:
                errors += 1
        writer.close()

    tasks = [asyncio.create_task(worker()) for _ in range(conns)]
    await asyncio.sleep(0.2)
    t0 = time.perf_counter()
    total = int(rate * duration)
    for i in range(total):
        due = t0 + i / rate
        wait = due - time.perf_counter()
        if wait > 0:
            await asyncio.sleep(wait)
        queue.put_nowait((due, bodies[i % len(bodies)]))
    for _ in tasks:
        queue.put_nowait(None)
    await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - t0
    lat.sort()
    return {
        "requests": len(lat),
        "seconds": elapsed,
        "rps": len(lat) / elapsed,
        "p50_ms": lat[len(lat) // 2] * 1000,
        "p99_ms": lat[int(len(lat) * 0.99)] * 1000,
        "max_ms": lat[-1] * 1000,
        "errors": errors,
    }


def loader_main(argv: list[str]) -> None:
    """``screen.py loader HOST PORT KEY BODIES RATE DURATION CONNS``: one JSON line out."""
    host, port, key, bodies_file, rate, duration, conns = argv
    bodies = [line.encode() for line in Path(bodies_file).read_text().splitlines()]
    import gc

    gc.collect()
    gc.freeze()
    gc.disable()  # a collector pause in the load generator would read as server latency
    job = _paced(host, int(port), key, bodies, float(rate), float(duration), int(conns))
    try:  # the load generator shares the cores: its own cost per request kept low
        import uvloop

        res = uvloop.run(job)
    except ImportError:
        res = asyncio.run(job)
    print(json.dumps(res))


LUA = """
local bodies, n = {}, 0
for line in io.lines("%(bodies)s") do n = n + 1; bodies[n] = line end
local i = 0
request = function()
  if n == 0 then return wrk.format("GET", "%(path)s") end
  i = i %% n + 1
  return wrk.format("POST", "%(path)s", {["Authorization"] = "Bearer %(key)s",
    ["Content-Type"] = "application/json"}, bodies[i])
end
done = function(summary, latency, requests)
  io.write(string.format('RESULT {"p50_us": %%d, "p99_us": %%d, "requests": %%d, ' ..
    '"seconds": %%f, "errors": %%d}\\n', latency:percentile(50), latency:percentile(99),
    summary.requests, summary.duration / 1e6, summary.errors.status + summary.errors.connect +
    summary.errors.read + summary.errors.write + summary.errors.timeout))
end
"""


def wrk(
    url: str, path: str, bodies: Path, key: str, seconds: int, conns: int = 8
) -> dict[str, Any]:
    """``wrk`` flat out: one thread, ``conns`` keep-alive connections, ``seconds`` s."""
    script = bodies.with_suffix(".lua")
    script.write_text(LUA % {"bodies": bodies, "key": key, "path": path})
    w = subprocess.run(
        [
            "wrk",
            "-t",
            "1",
            "-c",
            str(conns),
            "-d",
            f"{seconds}s",
            "--timeout",
            "5s",
            "-s",
            str(script),
            url,
        ],
        capture_output=True,
        text=True,
        timeout=seconds + 60,
    )
    line = next((x for x in w.stdout.splitlines() if x.startswith("RESULT ")), None)
    if line is None:
        raise SystemExit(f"wrk failed: {w.stdout}\n{w.stderr}")
    out = dict(json.loads(line[7:]))
    out["rps"] = out["requests"] / out["seconds"]
    out["load"] = load()
    return out


def post_batch(host: str, port: int, key: str, body: bytes) -> tuple[float, int]:
    """One batch POST; (seconds, answers)."""
    import http.client

    conn = http.client.HTTPConnection(host, port, timeout=120)
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    t0 = time.perf_counter()
    conn.request("POST", "/api/v1/screen", body, headers)
    r = conn.getresponse()
    data = r.read()
    took = time.perf_counter() - t0
    conn.close()
    if r.status != 200:
        raise SystemExit(f"batch answered {r.status}: {data[:300]!r}")
    return took, len(json.loads(data)["items"])


# where a sample's time goes: the innermost frame that is either the project's or the web
# stack's decides; libraries the project calls (numpy, orjson, hashlib, SQLAlchemy) count
# for the project's frame that called them
PARTS = [
    ("key check (Gatekeeper, key cache)", ("fundtrail/server/auth.py",)),
    ("decision log (rows, frame, group commit, flush)", ("fundtrail/screen/decisionlog.py",)),
    (
        "answer (address check, index lookup, verdict, freshness)",
        ("fundtrail/screen/", "fundtrail/model/", "fundtrail/intelstore/"),
    ),
]
WEB = ("uvicorn/", "starlette/", "fastapi/", "asyncio/", "uvloop/", "httptools/", "anyio/")
ROUTE = "fundtrail/server/"
OTHER = "HTTP stack (uvicorn, Starlette, FastAPI, event loop)"
OWN = "route, middleware, JSON in and out"


def _part(frames: list[str]) -> str:
    for f in reversed(frames):  # innermost first; a frame reads "name (path:line)"
        path = f[f.rfind("(") + 1 : f.rfind(":")]
        if path.startswith("fundtrail/"):
            for name, marks in PARTS:
                if any(path.startswith(m) for m in marks):
                    return name
            if path.startswith(ROUTE):
                return OWN
            return PARTS[-1][0]
        if path.startswith(WEB):
            return OTHER
    return OTHER


def profile_breakdown(raw: str) -> list[tuple[str, float]]:
    """Shares of py-spy's samples per part, from its ``--format raw`` (collapsed) output."""
    names = [n for n, _ in PARTS] + [OWN, OTHER]
    counts: dict[str, float] = dict.fromkeys(names, 0.0)
    total = 0.0
    for line in raw.splitlines():
        stack, _, n = line.rpartition(" ")
        if not stack or not n.isdigit():
            continue
        total += int(n)
        counts[_part(stack.split(";"))] += int(n)
    return [(name, c / total if total else 0.0) for name, c in counts.items()]


def py_spy_profile(
    py_spy: str, pid: int, url: str, bodies: Path, key: str, seconds: int, conns: int
) -> tuple[list[tuple[str, float]], dict[str, Any]]:
    out = bodies.with_name("profile.txt")
    spy = subprocess.Popen(
        [
            py_spy,
            "record",
            "--pid",
            str(pid),
            "--duration",
            str(seconds + 1),
            "--rate",
            "250",
            "--nonblocking",
            "--gil",
            "--format",
            "raw",
            "--output",
            str(out),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    time.sleep(0.5)
    flat = wrk(url, "/api/v1/screen", bodies, key, seconds, conns)
    spy.wait(timeout=60)
    if spy.returncode or not out.exists():
        raise SystemExit(f"py-spy failed: {spy.stderr.read().decode()[-500:]}")  # type: ignore[union-attr]
    if os.environ.get("SCREEN_BENCH_RAW"):  # keep the stacks for a closer look
        shutil.copy(out, os.environ["SCREEN_BENCH_RAW"])
    return profile_breakdown(out.read_text()), flat


def bench_parts(world: World, home: Path, store: Any, key: str) -> list[tuple[str, float]]:
    """CPU microseconds of each step of one single-address request, in this process
    (median of 2,000 requests per step): the steps the route takes, without HTTP."""
    from fundtrail.screen import service
    from fundtrail.server.auth import KeyCache, credentials, identity_for

    items = [service.parse_request(it) for it in request_items(world, 2000, seed=41)]
    bodies = [orjson_dumps(it) for it in request_items(world, 2000, seed=41)]
    scr = service.screener(store, home)
    cache = KeyCache(1.0)
    header = {"authorization": f"Bearer {key}"}
    who = identity_for(store, key)
    cache.put(key, who)
    answers = [scr.answer(it, who) for it in items]  # warm

    def per(fn: Any) -> float:
        c0 = time.process_time()
        for i in range(len(items)):
            fn(i)
        return (time.process_time() - c0) * 1e6 / len(items)

    import orjson

    steps = [
        ("key check (header, cache hit)", per(lambda i: cache.get(credentials(header)[0]))),
        (
            "body parse (orjson, items)",
            per(lambda i: service.parse_request(orjson.loads(bodies[i]))),
        ),
        (
            "answer (address check, index lookup, verdict, freshness)",
            per(lambda i: scr.answer(items[i], who)),
        ),
        (
            "decision rows and frame",
            per(
                lambda i: service.decision_frame(
                    answers[i]["items"], items[i], who, remote="127.0.0.1"
                )
            ),
        ),
        ("answer serialised (orjson)", per(lambda i: orjson.dumps(answers[i]))),
    ]
    return steps


def orjson_dumps(obj: Any) -> bytes:
    import orjson

    return orjson.dumps(obj)


def settle(home: Path, store: Any, limit_s: float = 180.0) -> tuple[float, int]:
    """Wait until the decision drainer has caught up with what earlier steps logged (a
    flat-out step leaves tens of thousands of decisions to drain; draining them while
    the next step is timed would charge that step for the one before). Returns
    (seconds waited, bytes that were pending)."""
    from fundtrail.screen.drain import pending

    t0 = time.perf_counter()
    first = pending(home, store)
    while pending(home, store) > 0 and time.perf_counter() - t0 < limit_s:
        time.sleep(0.2)
    return time.perf_counter() - t0, first


def worker_shares(home: Path, server: int) -> dict[str, int]:
    """Bytes of decisions per serving process (segment names carry the pid)."""
    out: dict[str, int] = {}
    mine = {str(p) for p in tree_pids(server)}
    for path in (home / "screen" / "decisions").glob("*.log"):
        pid = path.stem.split("-")[1]
        if pid not in mine:
            continue
        try:
            out[pid] = out.get(pid, 0) + path.stat().st_size
        except FileNotFoundError:
            continue
    return out


def bench_http(
    world: World,
    home: Path,
    key: str,
    store: Any,
    args: argparse.Namespace,
    durability: str,
    workers: int,
) -> dict[str, Any]:
    print(
        f"[3] HTTP: fundtrail serve --workers {workers}, POST /api/v1/screen, "
        f"FUNDTRAIL_SCREEN_DURABILITY={durability} ({load()})",
        flush=True,
    )
    bodies = home / "bodies.txt"
    bodies.write_text(
        "\n".join(json.dumps(it) for it in request_items(world, 5000, seed=23)) + "\n"
    )
    floor_bodies = home / "floor.txt"
    floor_bodies.write_text("")
    batches = [
        json.dumps({"items": request_items(world, args.batch, seed=31 + r)}).encode()
        for r in range(3)
    ]
    from fundtrail.intelstore.changes import latest_seq
    from fundtrail.screen.index import current_version, restamp

    with store.read_session() as s:  # orgs and keys were journalled after the build
        seq = latest_seq(s)
    restamp(home, str(current_version(home)), seq)
    out: dict[str, Any] = {"answered": 0, "mode": durability, "workers": workers}
    with serve(home, workers, durability) as (host, port, pid):
        url = f"http://{host}:{port}"
        warm = subprocess.run(
            [
                sys.executable,
                __file__,
                "loader",
                host,
                str(port),
                key,
                str(bodies),
                "100",
                "2",
                "4",
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        out["answered"] += json.loads(warm.stdout)["requests"]
        wrk(url, "/taxii2/", floor_bodies, key, 1)  # every worker warm on the floor too
        # flat out, 8 connections: screening and the discovery floor, taken in turns
        screens, floors, cpu, floor_cpu = [], [], [], []
        for _ in range(args.rounds):
            settle(home, store)
            c0 = tree_cpu(pid)
            w = wrk(url, "/api/v1/screen", bodies, key, args.flat_seconds)
            cpu.append((tree_cpu(pid) - c0) * 1000 / max(w["requests"], 1))
            screens.append(w)
            out["answered"] += w["requests"]
            settle(home, store)  # the floor is not charged for draining screening's log
            c0 = tree_cpu(pid)
            fw = wrk(url, "/taxii2/", floor_bodies, key, args.flat_seconds)
            floor_cpu.append((tree_cpu(pid) - c0) * 1000 / max(fw["requests"], 1))
            floors.append(fw)
        screen = sorted(screens, key=lambda r: r["rps"])[len(screens) // 2]
        floor = sorted(floors, key=lambda r: r["rps"])[len(floors) // 2]
        out["flat"], out["floor"] = screen, floor
        out["ratio"] = screen["rps"] / floor["rps"]
        out["cpu_ms"] = statistics.median(cpu)
        out["floor_cpu_ms"] = statistics.median(floor_cpu)
        print(
            f"  wrk flat out, 8 connections, median of {args.rounds} x {args.flat_seconds} s "
            f"taken in turns: screening {screen['rps']:.0f} req/s (p50 "
            f"{screen['p50_us'] / 1000:.1f} ms, p99 {screen['p99_us'] / 1000:.1f} ms, errors "
            f"{screen['errors']}); discovery GET /taxii2/ {floor['rps']:.0f} req/s (p50 "
            f"{floor['p50_us'] / 1000:.1f} ms, p99 {floor['p99_us'] / 1000:.1f} ms); ratio "
            f"{out['ratio']:.2f}; server CPU {out['cpu_ms']:.2f} ms per screening request "
            f"(all its processes), discovery {out['floor_cpu_ms']:.2f} ms ({screen['load']})",
            flush=True,
        )
        out["paced"] = {}
        out["settled"] = []
        for rate in args.rates:
            waited, backlog = settle(home, store)
            out["settled"].append(waited)
            print(
                f"  (decision drainer caught up with {backlog / 1e6:.1f} MB of earlier steps' "
                f"log in {waited:.1f} s before this step)",
                flush=True,
            )
            run = subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "loader",
                    host,
                    str(port),
                    key,
                    str(bodies),
                    str(rate),
                    str(args.duration),
                    str(args.connections),
                ],
                capture_output=True,
                text=True,
                check=False,
                timeout=args.duration + 120,
            )
            if run.returncode:
                raise SystemExit(f"loader failed: {run.stderr}")
            paced = json.loads(run.stdout)
            paced["load"] = load()
            out["paced"][rate] = paced
            out["answered"] += paced["requests"]
            print(
                f"  paced {rate:.0f}/s offered for {args.duration} s (open-loop asyncio loader, "
                f"{args.connections} connections): {paced['rps']:.0f} req/s, p50 "
                f"{paced['p50_ms']:.1f} ms, p99 {paced['p99_ms']:.1f} ms, max "
                f"{paced['max_ms']:.0f} ms, errors {paced['errors']} ({paced['load']})",
                flush=True,
            )
        times = []
        settle(home, store)
        for body in batches:
            took, n = post_batch(host, port, key, body)
            times.append(took)
            out["answered"] += n
        out["batch_s"] = statistics.median(times)
        out["batch_load"] = load()
        print(
            f"  batch of {args.batch:,} over HTTP (parse, answer, decisions on disk, JSON "
            f"out): median of 3 {out['batch_s'] * 1000:.0f} ms ({out['batch_load']})",
            flush=True,
        )
        shares = sorted(worker_shares(home, pid).values(), reverse=True)
        out["shares"] = [round(b / max(sum(shares), 1), 3) for b in shares]
        if workers > 1:
            print(
                "  share of the answers per worker (decision log bytes): "
                + ", ".join(f"{x * 100:.0f}%" for x in out["shares"]),
                flush=True,
            )
        if args.py_spy and workers == 1:
            parts, w = py_spy_profile(args.py_spy, pid, url, bodies, key, args.flat_seconds, 8)
            out["answered"] += w["requests"]
            out["profile"] = parts
            print(
                f"  py-spy (250 Hz, non-blocking, samples holding the GIL) during {args.flat_seconds} s of wrk: "
                f"{w['rps']:.0f} req/s; share of the server's samples:",
                flush=True,
            )
            for name, share in parts:
                print(f"    {share * 100:5.1f}%  {name}", flush=True)
    # the server has stopped: every answered decision must be in the store (drained at
    # shutdown or by the drainer, which outlives it)
    from fundtrail.screen.drain import drain_folder

    drain_folder(home, store)
    import sqlalchemy as sa

    from fundtrail.intelstore.screening import ScreenDecision

    with store.read_session() as s:
        out["stored"] = int(
            s.scalar(
                sa.select(sa.func.count())
                .select_from(ScreenDecision)
                .where(ScreenDecision.key_id == out_key_id(store, key))
            )
            or 0
        )
    print(
        f"  decisions: {out['answered']:,} answered (counted by the clients), "
        f"{out['stored']:,} in screen_decisions after the server stopped",
        flush=True,
    )
    return out


def out_key_id(store: Any, key: str) -> str:
    from fundtrail.intelstore.keys import authenticate

    with store.read_session() as s:
        who = authenticate(s, key)
    return str(who.key_id)


# ---------------------------------------------------------------- main


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "loader":
        loader_main(sys.argv[2:])
        return
    from _record import add_record_flag, recording

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--index-addresses", type=int, default=1_000_000)
    ap.add_argument("--batch", type=int, default=10_000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument(
        "--rates",
        type=lambda v: [float(x) for x in v.split(",")],
        default=[500.0, 1000.0],
        help="paced rates, req/s (comma-separated)",
    )
    ap.add_argument("--duration", type=int, default=10, help="seconds per paced rate")
    ap.add_argument("--connections", type=int, default=16, help="paced loader connections")
    ap.add_argument("--flat-seconds", type=int, default=6, help="seconds per wrk run")
    ap.add_argument("--rounds", type=int, default=3, help="wrk runs of screening and floor")
    ap.add_argument(
        "--workers",
        type=lambda v: [int(x) for x in v.split(",")],
        default=[1, 2],
        help="uvicorn worker processes, one HTTP run per value (comma-separated)",
    )
    ap.add_argument(
        "--durability",
        type=lambda v: v.split(","),
        default=["fsync", "write"],
        help="FUNDTRAIL_SCREEN_DURABILITY values to serve with, one HTTP run each",
    )
    ap.add_argument("--py-spy", default=None, help="py-spy binary: profile the live server")
    ap.add_argument("--skip-http", action="store_true")
    ap.add_argument("--skip-sql", action="store_true")
    ap.add_argument("--build-only", action="store_true")
    ap.add_argument("--profile", action="store_true", help="cProfile one batch")
    add_record_flag(ap)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="fundtrail-bench-screen-"))
    os.environ["FUNDTRAIL_HOME"] = str(work)
    from fundtrail.settings import reset_settings

    reset_settings()
    data = f"synthetic: {args.index_addresses:,} indexed addresses, seed 7"
    try:
        with recording("screen", args.record, data=data) as rec:
            world, build = bench_build(args.index_addresses, work)
            if args.build_only:
                return
            b = bench_batch(world, work, args)
            ref = None if args.skip_sql else bench_sql(world, work, b, args)
            http: list[dict[str, Any]] = []
            if not args.skip_http:
                from fundtrail.intelstore.keys import create_key

                http = []
                for mode in args.durability:
                    for workers in args.workers:
                        with b["store"].session() as s:
                            key = create_key(s, "exchange", "reader").key
                        http.append(bench_http(world, work, key, b["store"], args, mode, workers))
                parts = bench_parts(world, work, b["store"], key)
                print(f"[3a] one request's steps in process, CPU us ({load()})")
                for name, us in parts:
                    print(f"  {us:7.1f} us  {name}")
                http[0]["parts"] = parts
            b["store"].close()
            rec.table("results", table(args, build, b, ref, http, rec))
    finally:
        shutil.rmtree(work, ignore_errors=True)


def table(
    args: argparse.Namespace,
    build: dict[str, Any],
    b: dict[str, Any],
    ref: dict[str, Any] | None,
    https: list[dict[str, Any]],
    rec: Any,
) -> str:
    rows = [
        (
            f"index build, {build['addresses']:,} addresses ({build['records']:,} reasons)",
            f"{build['total_s']:.1f} s (hash {build['hash_s']:.1f} + write "
            f"{build['write_s']:.1f} + load {build['load_s']:.2f})",
            f"10M -> {build['per_10m_s']:.0f} s (linear); goal < 120 s",
            build["load"],
        ),
        (
            f"batch of {args.batch:,} in process: service (parse+answer+log)",
            f"{b['full_s'] * 1000:.0f} ms wall, {b['full_cpu_s'] * 1000:.0f} ms CPU "
            f"(answer {b['answer_s'] * 1000:.0f} ms wall, {b['answer_cpu_s'] * 1000:.0f} CPU)",
            "goal < 500 ms",
            b["full_load"],
        ),
    ]
    rec.figure("batch_service_ms", b["full_s"] * 1000, f"{b['full_s'] * 1000:.0f} ms", "batch")
    if ref:
        rows.append(
            (
                f"batch of {args.batch:,}: answers, SQL / index",
                f"{ref['batch_sql'] * 1000:.0f} / {ref['batch_idx'] * 1000:.0f} ms",
                f"ratio {ref['batch_sql'] / ref['batch_idx']:.1f}x",
                ref["batch_load"],
            )
        )
        rows.append(
            (
                f"batch of {args.batch:,}: key lookups alone, SQL / index",
                f"{ref['lookup_sql'] * 1000:.0f} / {ref['lookup_idx'] * 1000:.1f} ms",
                f"ratio {ref['lookup_sql'] / ref['lookup_idx']:.0f}x",
                ref["batch_load"],
            )
        )
        rows.append(
            (
                "single address in process: SQL / index",
                f"{ref['single_sql'] * 1e6:.0f} / {ref['single_idx'] * 1e6:.0f} us",
                f"ratio {ref['single_sql'] / ref['single_idx']:.1f}x",
                ref["single_load"],
            )
        )
    goals: list[str] = []
    for http in https:
        n = http["workers"]
        sfx = ("" if http["mode"] == "fsync" else "_" + http["mode"]) + ("" if n == 1 else f"_w{n}")
        w = f"{n} worker{'s' if n > 1 else ''}"
        how = f"{w}, answers after {http['mode']}"
        tag = f"{http['mode']}, {w}"
        f, fl = http["flat"], http["floor"]
        rows.append(
            (
                f"HTTP single address, wrk flat out, 8 connections, {how}",
                f"{f['rps']:.0f} req/s, p50 {f['p50_us'] / 1000:.1f} ms, "
                f"p99 {f['p99_us'] / 1000:.1f} ms",
                f"server CPU {http['cpu_ms']:.2f} ms/request",
                f["load"],
            )
        )
        rows.append(
            (
                "HTTP discovery GET /taxii2/ (the floor), same server, in turns",
                f"{fl['rps']:.0f} req/s, p50 {fl['p50_us'] / 1000:.1f} ms, "
                f"p99 {fl['p99_us'] / 1000:.1f} ms",
                f"screening / floor = {http['ratio']:.2f}x (goal >= 0.5x); server CPU "
                f"{http['floor_cpu_ms']:.2f} ms/request",
                fl["load"],
            )
        )
        rec.figure(f"flat_rps{sfx}", f["rps"], f"{f['rps']:.0f} req/s", f"screening, wrk, {how}")
        rec.figure(
            f"floor_rps{sfx}", fl["rps"], f"{fl['rps']:.0f} req/s", f"GET /taxii2/, wrk, {how}"
        )
        rec.figure(
            f"ratio{sfx}", http["ratio"], f"{http['ratio']:.2f}x", f"screening / floor, {how}"
        )
        rec.figure(
            f"cpu_ms{sfx}",
            http["cpu_ms"],
            f"{http['cpu_ms']:.2f} ms",
            f"server CPU per request, {how}",
        )
        ok = http["ratio"] >= 0.5
        goals.append(
            f"[{tag}] single >= 0.5x the floor: {http['ratio']:.2f}x {'MET' if ok else 'MISSED'}"
        )
        for rate, p in http["paced"].items():
            rows.append(
                (
                    f"HTTP single address, paced {rate:.0f}/s (open-loop loader), {how}",
                    f"{p['rps']:.0f} req/s, p50 {p['p50_ms']:.1f} ms, p99 {p['p99_ms']:.1f} ms",
                    "goal p99 < 20 ms" if rate >= 1000 else "",
                    p["load"],
                )
            )
            p99 = f"{p['p99_ms']:.1f} ms"
            rec.figure(
                f"p99_{rate:.0f}_ms{sfx}", p["p99_ms"], p99, f"p99 paced {rate:.0f}/s, {how}"
            )
            if rate >= 1000:
                ok = p["p99_ms"] < 20 and p["rps"] >= rate * 0.95
                goals.append(
                    f"[{tag}] p99 < 20 ms at {rate:.0f}/s paced: {p['p99_ms']:.1f} ms at "
                    f"{p['rps']:.0f} req/s {'MET' if ok else 'MISSED'}"
                )
        rows.append(
            (
                f"HTTP batch of {args.batch:,} (median of 3), {how}",
                f"{http['batch_s'] * 1000:.0f} ms",
                "goal < 500 ms, decisions logged",
                http["batch_load"],
            )
        )
        rec.figure(
            f"batch_http_ms{sfx}",
            http["batch_s"] * 1000,
            f"{http['batch_s'] * 1000:.0f} ms",
            f"batch of {args.batch:,} over HTTP, {how}",
        )
        ok = http["batch_s"] < 0.5
        goals.append(
            f"[{tag}] batch of {args.batch:,} < 0.5 s: {http['batch_s'] * 1000:.0f} ms "
            f"{'MET' if ok else 'MISSED'}"
        )
        lost = max(0, http["answered"] - http["stored"])
        rows.append(
            (
                f"decisions answered / stored after the server stopped, {how}",
                f"{http['answered']:,} / {http['stored']:,}",
                f"{lost} lost",
                load(),
            )
        )
        met = "MET" if lost == 0 else "MISSED"
        goals.append(f"[{tag}] decisions lost: {lost} {met}")
        for name, us in http.get("parts", []):
            rows.append((f"one request in process: {name}", f"{us:.0f} us CPU", "", ""))
        if "profile" in http:
            for name, share in http["profile"]:
                rows.append(
                    (
                        f"profile: {name}",
                        f"{share * 100:.0f}% of samples",
                        f"~{share * http['cpu_ms']:.2f} ms/request",
                        "",
                    )
                )
    lines = ["| measure | result | vs goal / reference | machine |", "|---|---|---|---|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    text = "\n".join(lines)
    print("\n" + text)
    for g in goals:
        print("goal: " + g)
    return text


if __name__ == "__main__":
    main()
