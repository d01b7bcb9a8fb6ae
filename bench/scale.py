"""A chain big enough to matter: build it, ingest it file by file, run the analyses on it.

1. Build: a crime scenario (``--crime``, default ``mixed`` at 5,000 txs, with its
   complaints and tags) is written first, then ``--txs`` of ordinary activity from the
   bulk background generator continue its tip, in blk files of ``--file-mb``. Files are
   generated one at a time and ingested; they are kept for the one-process run (2.) and
   deleted after it (``--keep`` keeps them; with ``--no-one-process`` each goes right
   after its ingest, so the disk holds the store plus one file).
2. Ingest: each file is one ``fundtrail ingest bitcoin FILE --workers N`` process; the
   table prints MB/s, tx/s and that process's peak RSS, so memory growth shows file by
   file, and ``run s``, the ingest's own seconds from its ``--json`` report (without
   the process's start-up and exit: imports, numba's cache, teardown, ~2.5 s a file).
   Goals checked: peak RSS of the last file <= 1.2x the first's and <= 4 GB; time per
   MB of the last file <= 1.2x the first's; and both cores: the first background file
   is also ingested with ``--workers 0`` (one core) into a copy of the store, and
   ``--workers N`` must be >= 1.8x faster. Then what a user pays for a whole blocks
   directory (``~/.bitcoin/blocks``): all background files at once, one
   ``fundtrail ingest bitcoin DIR --workers N --json`` process into a copy of the store
   as it was before them (start-up and exit paid once). The files are kept for it
   (about 300 bytes a tx on disk) and deleted after; ``--no-one-process`` skips it.
   ``--one-process-cores`` first ingests that directory with ``--workers 0`` into another
   copy: the cores goal where a user meets it.
3. Then ``tags import``, ``cluster``, ``screen index build``, ``complaints import`` and
   ``trace --from-complaints``, each a process with its time and peak RSS; with
   ``--engine spark`` the clustering runs on Spark as well.
4. An extrapolation to Bitcoin's size (1.1 billion transactions, about 600 GB of blocks)
   from the measured MB/s and the store's disk per transaction.

Every process runs the sources of this checkout. ``uptime`` is printed at the start and
the end: the machine is shared.

    python bench/scale.py --txs 10000000 --work /work/scratch/scale/bench
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

from _record import Record, add_record_flag, recording

ROOT = Path(__file__).resolve().parents[1]
BITCOIN_TXS = 1_100_000_000
BITCOIN_BYTES = 600e9
CPU: list[
    float
] = []  # CPU seconds of each command run, in order (wall time lies on a busy machine)


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def run(
    args: list[str], home: Path, *, env_extra: dict[str, str] | None = None
) -> tuple[float, float, str]:
    """(seconds, peak RSS MiB of the process and its children, stdout) of one CLI command."""
    env = {**os.environ, "FUNDTRAIL_HOME": str(home), "PYTHONPATH": str(ROOT / "src")}
    env.update(env_extra or {})
    entry = "from fundtrail.cli.main import main; main()"
    cmd = ["/usr/bin/time", "-f", "MAXRSS %M CPU %U %S", sys.executable, "-c", entry, *args]
    began = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, env=env)
    seconds = time.perf_counter() - began
    if done.returncode:
        raise SystemExit(f"{' '.join(args)} failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    rss_kb, user, system = re.findall(r"MAXRSS (\d+) CPU ([\d.]+) ([\d.]+)", done.stderr)[-1]
    CPU.append(float(user) + float(system))  # this process and its parser workers
    return seconds, float(rss_kb) / 1024, done.stdout


def tip_of(blk: Path) -> tuple[bytes, int]:
    """(hash, height) of the last block of a simulated chain's blk files."""
    from fundtrail.chains.bitcoin.blkfile import read_paths
    from fundtrail.chains.bitcoin.prepare import header_hash

    height, last = 0, b""
    for rb in read_paths(sorted(blk.glob("blk*.dat"))):
        height += 1
        last = header_hash(rb.data)
    return last, height


def clusters_digest(home: Path) -> str:
    """Rows and an order-free digest of the cluster tables (clusters, cluster_stats), to
    show that two engines wrote the same partition and statistics."""
    from fundtrail.chainstore.store import ChainStore

    con = ChainStore("BTC", home).connect()
    parts = []
    for table, cols in (
        ("clusters", "address_id, cluster_id, heuristic"),
        (
            "cluster_stats",
            "cluster_id, size, balance, first_seen, last_seen, in_degree, out_degree",
        ),
    ):
        n, h = con.execute(f"SELECT count(*), bit_xor(hash({cols})) FROM {table}").fetchone()
        parts.append(f"{table} {n:,} rows {int(h or 0) & 0xFFFFFFFF:08x}")
    con.close()
    return ", ".join(parts)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--txs", type=int, default=10_000_000, help="background transactions")
    ap.add_argument("--file-mb", type=int, default=128)
    ap.add_argument("--crime", default="mixed")
    ap.add_argument("--crime-txs", type=int, default=5_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--engine", choices=("embedded", "spark"), default="embedded")
    ap.add_argument("--work", type=Path, default=Path("/tmp/fundtrail-scale"))
    ap.add_argument("--keep", action="store_true", help="keep the blk files")
    ap.add_argument(
        "--no-one-process",
        dest="one_process",
        action="store_false",
        help="skip the one-process ingest of the whole directory (files then go one by one)",
    )
    ap.add_argument(
        "--one-process-cores",
        action="store_true",
        help="also ingest the whole directory with --workers 0 (one core) into a copy: the "
        "cores goal on the directory path",
    )
    ap.add_argument("--skip-analysis", action="store_true")
    ap.add_argument(
        "--reference",
        help="a recorded run on a smaller chain (bench/results/NAME.json, e.g. scale-5m): each "
        "command's peak RSS here over its peak there, the goal 'flat as the chain grows'",
    )
    ap.add_argument(
        "--name", default="scale", help="record as bench/results/NAME.json (the docs quote scale)"
    )
    add_record_flag(ap)
    a = ap.parse_args()
    data = (
        f"synthetic: a {a.crime} scenario of {a.crime_txs:,} txs (seed {a.seed}), then "
        f"{a.txs:,} txs of bulk background activity, blk files of {a.file_mb} MB"
    )
    with recording(a.name, a.record, data=data) as rec:
        bench(a, rec)


def bench(a: argparse.Namespace, rec: Record) -> None:
    sys.path.insert(0, str(ROOT / "src"))
    from fundtrail.chains.simulate import run as simulate
    from fundtrail.chains.simulate.background import write_background

    shutil.rmtree(a.work, ignore_errors=True)
    home, sim = a.work / "ws", a.work / "sim"
    print(
        f"== scale bench: {a.txs:,} background txs after a {a.crime} scenario of "
        f"{a.crime_txs:,}; files of {a.file_mb} MB; {a.workers} parser workers"
    )
    print(
        f"commit {subprocess.run(['git', '-C', str(ROOT), 'rev-parse', '--short', 'HEAD'], capture_output=True, text=True).stdout.strip()}; {uptime()}"
    )
    simulate(a.crime, sim, seed=a.seed, txs=a.crime_txs)
    prev, height = tip_of(sim / "blocks")
    crime_files = sorted((sim / "blocks").glob("blk*.dat"))
    print(
        f"{'file':<14}{'MB':>8}{'txs':>11}{'gen s':>8}{'ingest s':>10}{'MB/s':>8}"
        f"{'tx/s':>9}{'s/MB':>8}{'peak RSS MB':>13}{'store GB':>10}{'CPU s':>8}{'run s':>7}"
    )
    rows: list[dict[str, float]] = []

    def ingest_once(path: Path, workers: int, where: Path) -> tuple[float, float, float]:
        """(wall s, peak RSS MiB, the run's own seconds) of one ``ingest bitcoin`` process."""
        args = ["ingest", "bitcoin", str(path), "--workers", str(workers), "--json"]
        s, rss, out = run(args, where)
        return s, rss, float(json.loads(out)["seconds"])

    def ingest(path: Path, txs: int, gen_s: float) -> None:
        mb = path.stat().st_size / 1e6
        s, rss, run_s = ingest_once(path, a.workers, home)
        store_gb = sum(f.stat().st_size for f in home.rglob("*") if f.is_file()) / 1e9
        rows.append(
            {
                "mb": mb,
                "txs": txs,
                "s": s,
                "rss": rss,
                "store_gb": store_gb,
                "cpu": CPU[-1],
                "run_s": run_s,
            }
        )
        print(
            f"{path.name:<14}{mb:>8.0f}{txs:>11,}{gen_s:>8.1f}{s:>10.1f}{mb / s:>8.1f}"
            f"{txs / s:>9,.0f}{s / mb:>8.3f}{rss:>13,.0f}{store_gb:>10.2f}{CPU[-1]:>8.1f}"
            f"{run_s:>7.1f}",
            flush=True,
        )

    one_core: dict[str, float] = {}

    def one_core_reference(path: Path) -> None:
        """The first background file once more, into a copy of the store as it was before
        it, with --workers 0 (one core): the reference of the cores figure, same run."""
        ref = a.work / "ws-1core"
        shutil.rmtree(ref, ignore_errors=True)
        shutil.copytree(home, ref)
        s, _, run_s = ingest_once(path, 0, ref)
        CPU.pop()  # not part of the ingest's CPU total
        one_core.update(s=s, run_s=run_s)
        shutil.rmtree(ref, ignore_errors=True)

    for f in crime_files:
        ingest(f, a.crime_txs, 0.0)
    before_bg = a.work / "ws-before-background"  # the one-process run starts from here
    if a.one_process:
        shutil.copytree(home, before_bg)
    done, index = 0, len(crime_files)
    per_file = max(1000, int(a.file_mb * 1e6 / 300))  # ~300 bytes per background tx
    while done < a.txs:
        want = min(per_file, a.txs - done)
        began = time.perf_counter()
        bg = write_background(
            sim / "bg",
            want,
            seed=a.seed + index,
            prev=prev,
            height=height,
            start_time=1_710_000_000 + 600 * height,
            first_file=index,
            file_bytes=1 << 40,
        )
        gen = time.perf_counter() - began
        prev, height = bg.tip_hash, bg.height
        path = bg.files[0]
        if not one_core and a.workers > 1:
            one_core_reference(path)
        ingest(path, bg.txs, gen)
        if not a.keep and not a.one_process:
            path.unlink()
        done += bg.txs
        index += 1
    bg_rows = rows[len(crime_files) :]
    full = [r for r in bg_rows if r["txs"] >= per_file] or bg_rows  # a short last file aside
    first, last = full[0], full[-1]
    total_mb = sum(r["mb"] for r in bg_rows)
    total_s = sum(r["s"] for r in bg_rows)
    all_txs = sum(r["txs"] for r in rows)
    print(
        f"ingest: {total_mb:,.0f} MB, {all_txs:,} txs in {total_s:.0f} s = "
        f"{total_mb / total_s:.1f} MB/s, {all_txs / total_s:,.0f} tx/s end to end"
    )
    run_total = sum(r["run_s"] for r in bg_rows)
    in_run = total_mb / run_total
    print(
        f"ingest in-run (each process's own seconds, without its ~{(total_s - run_total) / len(bg_rows):.1f} s "
        f"of start-up and exit): {in_run:.1f} MB/s"
    )
    rec.figure("ingest_in_run_mb_s", in_run, f"{in_run:.1f} MB/s", "background ingest, in-run")
    if one_core:
        f1 = bg_rows[0]
        wall_x, run_x = one_core["s"] / f1["s"], one_core["run_s"] / f1["run_s"]
        print(
            f"goal {a.workers} workers / 1 core (--workers 0), first file >= 1.8: {wall_x:.2f}x "
            f"end to end ({one_core['s']:.1f} s -> {f1['s']:.1f} s), {run_x:.2f}x in-run"
        )
        rec.figure("cores_speedup", wall_x, f"{wall_x:.2f}×", "first file, end to end")
        rec.figure("cores_speedup_in_run", run_x, f"{run_x:.2f}×", "first file, in-run")
    cpu = sum(r["cpu"] for r in bg_rows)
    print(f"ingest CPU (main + workers): {cpu:.0f} s = {total_mb / cpu:.1f} MB per CPU-second")
    print(
        f"goal time per MB last/first <= 1.2: {last['s'] / last['mb'] / (first['s'] / first['mb']):.2f}"
    )
    c_ratio = last["cpu"] / last["mb"] / (first["cpu"] / first["mb"])
    print(f"CPU seconds per MB last/first (what a busy machine does not distort): {c_ratio:.2f}")
    print(
        f"goal peak RSS last/first <= 1.2 and <= 4096 MB: {last['rss'] / first['rss']:.2f}, "
        f"{max(r['rss'] for r in rows):,.0f} MB"
    )
    if a.one_process:
        bg_txs = sum(int(r["txs"]) for r in bg_rows)
        one_process(a, rec, sim / "bg", before_bg, bg_txs, (total_mb, total_s))
    disk_per_tx = last["store_gb"] * 1e9 / all_txs
    rate, tps = total_mb / total_s, all_txs / total_s
    peak = max(r["rss"] for r in rows)
    rec.figure("ingest_mb_s", rate, f"{rate:.1f} MB/s", "background ingest, end to end")
    rec.figure("ingest_tx_s", tps, f"{tps:,.0f} tx/s", "background ingest, end to end")
    rec.figure("txs", all_txs, f"{all_txs / 1e6:.1f}M", "transactions in the chain")
    rec.figure("peak_rss_mb", peak, f"{peak:,.0f} MB", "largest peak RSS of an ingest process")
    t_ratio = last["s"] / last["mb"] / (first["s"] / first["mb"])
    m_ratio = last["rss"] / first["rss"]
    rec.figure("time_per_mb_ratio", t_ratio, f"{t_ratio:.2f}×", "s/MB, last file / first")
    rec.figure("cpu_per_mb_ratio", c_ratio, f"{c_ratio:.2f}×", "CPU s/MB, last file / first")
    rec.figure("ingest_mb_cpu_s", total_mb / cpu, f"{total_mb / cpu:.1f} MB", "per CPU-second")
    rec.figure("rss_ratio", m_ratio, f"{m_ratio:.2f}×", "peak RSS, last file / first")
    rec.figure("disk_per_tx", disk_per_tx, f"{disk_per_tx:.0f} bytes", "store per tx")
    print(f"store on disk: {last['store_gb']:.2f} GB = {disk_per_tx:.0f} bytes per tx")

    if not a.skip_analysis:
        police = ["org", "add", "police", "--kind", "law-enforcement"]
        run(police, home)
        steps = [
            ("tags import", ["tags", "import", str(sim / "tags.yaml")]),
            ("cluster", ["cluster", "-q"]),
            ("screen index build", ["screen", "index", "build", "-q"]),
            (
                "complaints import",
                ["complaints", "import", str(sim / "complaints.csv"), "--org", "police"],
            ),
            (
                "trace --from-complaints",
                ["trace", "--from-complaints", str(sim / "complaints.csv"), "--json"],
            ),
        ]
        if a.engine == "spark":
            steps.insert(
                2, ("cluster --engine spark", ["cluster", "--engine", "spark", "--full", "-q"])
            )
        print(f"{'command':<26}{'seconds':>9}{'peak RSS MB':>13}")
        digests: dict[str, str] = {}
        for name, args in steps:
            try:
                s, rss, out = run(args, home)
            except SystemExit as exc:
                print(f"{name:<26} failed: {str(exc)[:300]}")
                continue
            extra = ""
            if name.startswith("trace"):
                with contextlib.suppress(ValueError):
                    extra = f"  ({len(json.loads(out).get('endpoints', []))} endpoints)"
            if name.startswith("cluster"):
                digests[name] = clusters_digest(home)
                extra = f"  (clusters {digests[name]})"
            print(f"{name:<26}{s:>9.1f}{rss:>13,.0f}{extra}", flush=True)
            key = name.split()[0] if name != "cluster --engine spark" else "cluster_spark"
            rec.figure(f"{key}_s", s, f"{s:.0f} s", f"{name}, wall time")
            rec.figure(f"{key}_rss_mb", rss, f"{rss:,.0f} MB", f"{name}, peak RSS")

        if a.reference:
            flat_against(a.reference, rec)
        if len(digests) == 2:
            same = len(set(digests.values())) == 1
            print(f"Spark's clusters and statistics identical to the embedded engine's: {same}")
            rec.figure("spark_identical", float(same), "yes" if same else "NO", "cluster tables")

    hours = BITCOIN_BYTES / 1e6 / rate / 3600
    print(
        f"extrapolation to Bitcoin (~{BITCOIN_TXS / 1e9:.1f}B txs, ~{BITCOIN_BYTES / 1e9:.0f} GB "
        f"of blocks) at the measured {rate:.1f} MB/s: {hours:.0f} h of ingest; store "
        f"{disk_per_tx * BITCOIN_TXS / 1e9:,.0f} GB at {disk_per_tx:.0f} bytes/tx "
        f"(ours are {total_mb * 1e6 / max(1, sum(r['txs'] for r in bg_rows)):.0f} bytes/tx of blocks, "
        f"Bitcoin's ~{BITCOIN_BYTES / BITCOIN_TXS:.0f}); peak ingest RSS "
        f"{'flat' if last['rss'] <= 1.2 * first['rss'] else 'growing'} "
        f"({first['rss']:,.0f} -> {last['rss']:,.0f} MB)"
    )
    print(f"children CPU {resource.getrusage(resource.RUSAGE_CHILDREN).ru_utime:.0f} s; {uptime()}")


def flat_against(name: str, rec: Record) -> None:
    """Each command's peak RSS over a smaller chain's recorded one: the goal is <= 1.2x
    and <= 4 GB. The reference is another run (same machine, its commit named)."""
    path = ROOT / "bench" / "results" / f"{name}.json"
    if not path.exists():
        print(f"reference {name}: no {path.relative_to(ROOT)}")
        return
    ref = json.loads(path.read_text())
    there = {k: v["value"] for k, v in ref.get("figures", {}).items()}
    commit = re.search(r"commit (\w+)", ref.get("output", ""))
    print(
        f"goal peak RSS <= 1.2x at {there.get('txs', 0) / 1e6:.0f}M txs ({name}, commit "
        f"{commit.group(1) if commit else '?'}) and <= 4096 MB:"
    )
    worst = 0.0
    for key in ("tags", "cluster", "screen", "complaints", "trace"):
        here, old = rec.figures.get(f"{key}_rss_mb"), there.get(f"{key}_rss_mb")
        if here is None or not old:
            continue
        x = here.value / old
        worst = max(worst, x)
        ok = "yes" if x <= 1.2 and here.value <= 4096 else "no"
        print(f"  {key:<12}{old:>9,.0f} MB -> {here.value:>7,.0f} MB  {x:5.2f}x  {ok}")
    rec.figure("rss_vs_reference", worst, f"{worst:.2f}×", f"largest command peak RSS / {name}'s")


def one_process(
    a: argparse.Namespace,
    rec: Record,
    bg: Path,
    ws: Path,
    txs: int,
    per_file: tuple[float, float],
) -> None:
    """Every background file by one ``ingest bitcoin DIR`` process into ``ws`` (the store
    before them): what ingesting a node's blocks directory costs, start-up and exit paid
    once instead of per file. The files and that store are deleted after (unless --keep)."""
    files = sorted(bg.glob("blk*.dat"))
    mb = sum(f.stat().st_size for f in files) / 1e6
    one_core: tuple[float, float] | None = None
    if a.one_process_cores and a.workers > 1:  # the cores goal on the directory path
        ref = ws.with_name(ws.name + "-1core")
        shutil.rmtree(ref, ignore_errors=True)
        shutil.copytree(ws, ref)
        s0, _, out0 = run(["ingest", "bitcoin", str(bg), "--workers", "0", "--json"], ref)
        CPU.pop()
        one_core = s0, float(json.loads(out0)["seconds"])
        shutil.rmtree(ref, ignore_errors=True)
    args = ["ingest", "bitcoin", str(bg), "--workers", str(a.workers), "--json"]
    s, rss, out = run(args, ws)
    cpu = CPU.pop()  # reported here, not in the per-file CPU total
    report = json.loads(out)
    run_s = float(report["seconds"])
    if one_core is not None:
        wall_x, run_x = one_core[0] / s, one_core[1] / run_s
        print(
            f"goal {a.workers} workers / 1 core (--workers 0), one process over the directory "
            f">= 1.8: {wall_x:.2f}x end to end ({one_core[0]:.1f} s -> {s:.1f} s), "
            f"{run_x:.2f}x in-run"
        )
        rec.figure("cores_speedup_one_process", wall_x, f"{wall_x:.2f}×", "whole directory")
        rec.figure(
            "cores_speedup_one_process_in_run", run_x, f"{run_x:.2f}×", "whole directory, in-run"
        )
    print(
        f"one process over the directory ({len(files)} files, {mb:,.0f} MB, --workers "
        f"{a.workers}): {s:.1f} s = {mb / s:.1f} MB/s end to end ({run_s:.1f} s = "
        f"{mb / run_s:.1f} MB/s in-run), {cpu:.0f} CPU s, peak RSS {rss:,.0f} MB; "
        f"file by file {per_file[0] / per_file[1]:.1f} MB/s",
        flush=True,
    )
    if report["txs_added"] != txs:
        print(f"  CHECK: it added {report['txs_added']:,} txs, the files hold {txs:,}")
    rec.figure(
        "ingest_one_process_mb_s", mb / s, f"{mb / s:.1f} MB/s", "one process, whole directory"
    )
    rec.figure(
        "ingest_one_process_in_run_mb_s",
        mb / run_s,
        f"{mb / run_s:.1f} MB/s",
        "one process, whole directory, in-run",
    )
    rec.figure("ingest_one_process_rss_mb", rss, f"{rss:,.0f} MB", "one process, peak RSS")
    shutil.rmtree(ws, ignore_errors=True)
    if not a.keep:
        for f in files:
            f.unlink()


if __name__ == "__main__":
    main()
