"""The id map's ``get_or_add`` on a batch of random keys, at growing table sizes: peak
memory and ns per key should stay flat as the table outgrows the memory budget.

For each size N an :class:`~fundtrail.chainstore.idmap.IdMap` is filled with N random
32-byte keys (txid-like), then one batch of ``--batch`` keys (half already stored, half
new, shuffled) goes through ``get_or_add`` twice over (fresh new keys each time):

- ``windowed``: as the ingest runs it (queries in home-slot order, pages released
  window by window, windows sized by ``FUNDTRAIL_MEMORY_MB``);
- ``one window``: the same code with the whole batch in one window, which is what
  every batch did before: each key leaves its slot page and its stored bytes' pages
  resident until the call returns.

Peak RSS is the call's own (``VmHWM`` reset through ``/proc/self/clear_refs`` before
it, after one warm-up batch); the figures are ratios of the largest size to the smallest, since absolute ns on a
shared machine mean little. ``uptime`` is printed at the start and the end.

    python bench/hashindex.py                          # 1M, 8M, 32M keys; batch 1M
    python bench/hashindex.py --sizes 1000000 4000000 --batch 500000 --work /tmp/hx
    python bench/hashindex.py --record                 # bench/results/hashindex.json
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from unittest import mock

import numpy as np
import pyarrow as pa

from _record import add_record_flag, recording
from fundtrail.chainstore import hashindex as hx
from fundtrail.chainstore.budget import memory_budget
from fundtrail.chainstore.idmap import IdMap

KEY = 32


def keys(rng: np.random.Generator, n: int) -> pa.Array:
    return fixed(rng.integers(0, 256, size=n * KEY, dtype=np.uint8).tobytes(), n)


def fixed(raw: bytes, n: int) -> pa.Array:
    offsets = pa.py_buffer(np.arange(0, KEY * n + 1, KEY, dtype=np.int32).tobytes())
    return pa.Array.from_buffers(pa.binary(), n, [None, offsets, pa.py_buffer(raw)])


def rss_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def one_window(n: int, bytes_per_row: int, mapped_bytes: int) -> Iterator[tuple[int, int]]:
    if n:
        yield 0, n


def measure(m: IdMap, batch: pa.Array) -> tuple[float, float, float]:
    """(ns per key wall, ns per key CPU, peak RSS MiB above the resident set before)."""
    before = rss_kb("VmRSS")
    Path("/proc/self/clear_refs").write_text("5")  # VmHWM := VmRSS
    wall, cpu = time.perf_counter(), time.process_time()
    m.get_or_add(batch)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    peak = rss_kb("VmHWM")
    return wall * 1e9 / len(batch), cpu * 1e9 / len(batch), (peak - before) / 1024


def fill(m: IdMap, rng: np.random.Generator, n: int) -> None:
    step = 2_000_000
    for lo in range(0, n, step):
        m.add(keys(rng, min(step, n - lo)))
    m.flush()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 8_000_000, 32_000_000])
    ap.add_argument("--batch", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--work", type=Path, default=Path("/tmp/fundtrail-hashindex"))
    add_record_flag(ap)
    a = ap.parse_args()
    up = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    data = (
        f"random 32-byte keys, tables of {', '.join(f'{n:,}' for n in a.sizes)}; batches of "
        f"{a.batch:,} (half stored, half new), seed {a.seed}; "
        f"FUNDTRAIL_MEMORY_MB {memory_budget() >> 20}"
    )
    with recording("hashindex", a.record, data=data) as rec:
        print(f"== id map get_or_add; budget {memory_budget() >> 20} MiB; {up}")
        print(
            f"{'keys':>12} {'slots MiB':>10} {'values MiB':>11} {'mode':>11} "
            f"{'ns/key':>8} {'CPU ns/key':>11} {'peak RSS MiB':>13}"
        )
        rows: dict[tuple[int, str], tuple[float, float, float]] = {}
        for n in a.sizes:
            rng = np.random.default_rng(a.seed)
            folder = a.work / f"n{n}"
            shutil.rmtree(folder, ignore_errors=True)
            m = IdMap(folder, "k")
            fill(m, rng, n)
            if n == a.sizes[0]:  # warm-up: the allocator keeps the batch's arrays after it
                m.get_or_add(keys(rng, a.batch))
            stored = m.values.chars.view()
            for mode in ("windowed", "one window"):
                half = a.batch // 2
                pick = rng.integers(0, n, size=half)
                old = stored.reshape(-1, KEY)[np.sort(pick)].tobytes()
                m.values.chars.release()
                mixed = pa.concat_arrays([keys(rng, a.batch - half), fixed(old, half)])
                mixed = mixed.take(pa.array(rng.permutation(a.batch)))
                patch = mock.patch.object(hx, "touch_windows", one_window)
                with patch if mode == "one window" else contextlib.nullcontext():
                    got = measure(m, mixed)
                rows[(n, mode)] = got
                slots_mib = m.table.capacity * hx.SLOT_BYTES / 2**20
                values_mib = (m.values.ends.length * 8 + m.values.chars.length) / 2**20
                print(
                    f"{n:>12,} {slots_mib:>10,.0f} {values_mib:>11,.0f} {mode:>11} "
                    f"{got[0]:>8,.0f} {got[1]:>11,.0f} {got[2]:>13,.0f}"
                )
            m.close()
            shutil.rmtree(folder, ignore_errors=True)
        lo, hi = a.sizes[0], a.sizes[-1]
        for mode, tag in (("windowed", "windowed"), ("one window", "one_window")):
            rss = rows[(hi, mode)][2] / max(1.0, rows[(lo, mode)][2])
            ns = rows[(hi, mode)][1] / rows[(lo, mode)][1]
            print(
                f"{mode}: {hi:,} keys / {lo:,}: peak RSS {rss:.2f}x, CPU ns/key {ns:.2f}x "
                f"({rows[(hi, mode)][2]:,.0f} MiB, {rows[(hi, mode)][1]:,.0f} ns)"
            )
            rec.figure(f"{tag}_rss_ratio", rss, f"{rss:.2f}×", f"peak RSS of a batch, {mode}")
            rec.figure(f"{tag}_ns_ratio", ns, f"{ns:.2f}×", f"CPU ns per key, {mode}")
            rec.figure(
                f"{tag}_rss_mib",
                rows[(hi, mode)][2],
                f"{rows[(hi, mode)][2]:,.0f} MiB",
                f"peak RSS of a batch at {hi:,} keys, {mode}",
            )
        ratio = rows[(hi, "windowed")][2] / max(1.0, rows[(hi, "one window")][2])
        print(f"at {hi:,} keys windowed / one window: peak RSS {ratio:.2f}x")
        up = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
        print(f"== {up}; load {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
