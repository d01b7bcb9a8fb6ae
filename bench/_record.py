"""What a benchmark run leaves behind for the docs: its output, its figures, its machine.

A benchmark wraps its run in :func:`recording` and names the figures a reader may quote::

    from _record import add_record_flag, recording

    parser = argparse.ArgumentParser()
    add_record_flag(parser)
    args = parser.parse_args()
    with recording("cluster", args.record, data="mixed simulation, 100,000 txs, seed 1") as rec:
        print(...)                                   # printed and kept
        rec.figure("vs_networkx", 12.3, "12×", "union-find vs networkx, same edges")
        rec.table("kernels", markdown_table_text)

With ``--record`` the run is written to ``bench/results/NAME.json``; the docs quote it
through ``<!--fig NAME:KEY-->`` markers and ``tools/docs.py`` copies the text in, so a
figure in the README is never typed by hand. Without ``--record`` nothing is written:
exploratory runs do not move the docs.

The load average is taken at the start and the end: this machine is shared, and a
figure means little without it.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import shlex
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

RESULTS = Path(__file__).resolve().parent / "results"


@dataclass
class Figure:
    """One number a reader may quote: ``text`` is how the docs show it."""

    value: float
    text: str
    about: str


@dataclass
class Record:
    """One recorded benchmark run (the JSON schema of ``bench/results/*.json``)."""

    name: str
    benchmark: str
    command: str
    data: str
    recorded: str
    machine: dict[str, Any]
    load: dict[str, list[float]]
    output: str = ""
    figures: dict[str, Figure] = field(default_factory=dict)
    tables: dict[str, str] = field(default_factory=dict)

    def figure(self, key: str, value: float, text: str, about: str) -> None:
        """Name a figure; ``text`` is exactly what the docs will show."""
        self.figures[key] = Figure(float(value), text, about)

    def table(self, key: str, markdown: str) -> None:
        """Name a Markdown table the docs may show whole."""
        self.tables[key] = markdown.strip("\n")

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=1, ensure_ascii=False) + "\n"

    @classmethod
    def from_json(cls, text: str) -> Record:
        raw = json.loads(text)
        raw["figures"] = {k: Figure(**v) for k, v in raw.get("figures", {}).items()}
        return cls(**raw)

    def load_text(self) -> str:
        """'1.2 -> 1.5': the one-minute load average at the start and the end of the run."""
        return f"{self.load['start'][0]:.1f} -> {self.load['end'][0]:.1f}"


def machine() -> dict[str, Any]:
    """CPU model, cores, memory and Python: what a reader needs to weigh a figure."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gib = 0.0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_gib = round(int(line.split()[1]) / 2**20, 1)
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count() or 1,
        "memory_gib": mem_gib,
        "python": platform.python_version(),
        "system": f"{platform.system()} {platform.release()}",
    }


def add_record_flag(parser: argparse.ArgumentParser) -> None:
    """``--record``: write this run to bench/results/ for the docs."""
    parser.add_argument(
        "--record",
        action="store_true",
        help="write this run's output and figures to bench/results/ (what the docs quote)",
    )


class _Tee(io.TextIOBase):
    """Writes through to the real stdout and keeps a copy of everything printed."""

    def __init__(self, real: TextIO) -> None:
        self.real = real
        self.kept = io.StringIO()

    def write(self, s: str) -> int:
        self.kept.write(s)
        return self.real.write(s)

    def flush(self) -> None:
        self.real.flush()


@contextmanager
def recording(name: str, record: bool, *, data: str) -> Iterator[Record]:
    """Keep what the run prints; with ``record`` write it to ``bench/results/NAME.json``.

    ``data`` says what was measured on, in words a reader can check: synthetic or real,
    size, seed. The file is written only if the run finishes.
    """
    script = Path(sys.argv[0]).resolve()
    try:
        bench = str(script.relative_to(RESULTS.parents[1]))
    except ValueError:
        bench = script.name
    args = [a for a in sys.argv[1:] if a != "--record"]
    rec = Record(
        name=name,
        benchmark=bench,
        command=shlex.join(["python", bench, *args]),
        data=data,
        recorded=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        machine=machine(),
        load={"start": list(os.getloadavg())},
    )
    tee = _Tee(sys.stdout)
    real, sys.stdout = sys.stdout, tee
    try:
        yield rec
    finally:
        sys.stdout = real
    rec.load["end"] = list(os.getloadavg())
    rec.output = tee.kept.getvalue()
    if record:
        RESULTS.mkdir(exist_ok=True)
        path = RESULTS / f"{name}.json"
        path.write_text(rec.to_json())
        print(f"recorded {path.relative_to(RESULTS.parents[1])}")
