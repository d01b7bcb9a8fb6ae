"""``run()``: one call that simulates a scenario and writes the chain plus its ground truth."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from fundtrail.chains.simulate.style import Style
from fundtrail.errors import InvalidInputError

SCENARIOS = ("investment-scam", "ransomware", "mixed", "background")
CHAINS = ("btc", "evm", "tron")
START_TIME = int(datetime(2024, 1, 1, tzinfo=UTC).timestamp())
MAX_TXS = 100_000_000
MIN_TXS = 400


@dataclass
class SimulationSummary:
    """What a run wrote, for the CLI and for scripts."""

    scenario: str
    seed: int
    chain: str
    out: Path
    blocks: int
    txs: int
    addresses: int
    entities: int
    complaints: int
    cashouts: int
    coinjoins: int
    campaigns: list[dict[str, object]] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    seconds: float = 0.0


def run(
    scenario: str,
    out: Path,
    *,
    seed: int = 0,
    txs: int = 5000,
    chain: str = "btc",
    rpc: str | None = None,
    quiet: bool = True,
    progress: Callable[[int, int], None] | None = None,
    style: Style | str | None = None,
) -> SimulationSummary:
    """Simulate ``scenario`` with about ``txs`` transactions into ``out`` (replaced if present).

    ``style``: the gangs' and exchanges' habits (``Style``, or its text: a preset name
    and/or ``key=value`` knobs; the crime scenarios of every chain). Same arguments, same
    bytes: every random draw derives from ``seed``.
    """
    style = check_args(scenario, chain, txs, seed, rpc, style)
    out = Path(out)
    _prepare(out)
    began = time.perf_counter()
    if scenario == "background":
        summary = _run_background(out, seed, txs, progress)
    elif chain == "btc":
        summary = _run_btc(scenario, out, seed, txs, progress, style)
    elif chain == "tron":
        from fundtrail.chains.tron.simulate import run_tron

        summary = run_tron(scenario, out, seed, txs, START_TIME, progress, style)
    else:
        from fundtrail.chains.simulate.evm.economy import run_evm

        summary = run_evm(scenario, out, seed, txs, START_TIME, rpc, progress, style)
    summary.seconds = round(time.perf_counter() - began, 2)
    return summary


def check_args(
    scenario: str,
    chain: str,
    txs: int,
    seed: int,
    rpc: str | None = None,
    style: Style | str | None = None,
) -> Style:
    """Refuse a bad request with a message naming the argument, before any work; the
    style it asks for."""
    if scenario not in SCENARIOS:
        raise InvalidInputError(
            f"unknown scenario {scenario!r}; choose one of {', '.join(SCENARIOS)}", field="scenario"
        )
    if chain not in CHAINS:
        raise InvalidInputError(f"unknown chain {chain!r}; choose btc, evm or tron", field="chain")
    if chain == "tron" and scenario != "investment-scam":
        raise InvalidInputError(
            "--chain tron simulates the USDT investment scam: use --scenario investment-scam",
            field="scenario",
        )
    if not MIN_TXS <= txs <= MAX_TXS:
        raise InvalidInputError(
            f"--txs {txs} is out of range: a scenario needs {MIN_TXS} to {MAX_TXS} transactions",
            field="txs",
        )
    if not 0 <= seed < 2**63:
        raise InvalidInputError("--seed must be between 0 and 2**63 - 1", field="seed")
    if scenario == "background" and chain != "btc":
        raise InvalidInputError(
            "--scenario background writes Bitcoin blk files only", field="chain"
        )
    if rpc is not None and chain != "evm":
        raise InvalidInputError("--rpc replays EVM scenarios only: add --chain evm", field="rpc")
    parsed = style if isinstance(style, Style) else Style.parse(style)
    if not parsed.is_default and scenario == "background":
        raise InvalidInputError(
            "--style sets the crime scenarios' habits: --scenario background has no crime",
            field="style",
        )
    if rpc is not None and parsed.withdrawal_batch != Style().withdrawal_batch:
        raise InvalidInputError(
            "--rpc replays no batched withdrawals: leave withdrawal_batch at its default",
            field="style",
        )
    return parsed


def _prepare(out: Path) -> None:
    """Empty the output folder of a previous run (only files a run writes), then create it."""
    if out.exists() and not out.is_dir():
        raise InvalidInputError(f"--out {out} exists and is not a folder", field="out")
    try:
        for name in ("blocks", "evm", "tron"):
            if (out / name).is_dir():
                shutil.rmtree(out / name)
        for name in ("truth.json", "complaints.csv", "tags.yaml", ".addresses.tmp"):
            (out / name).unlink(missing_ok=True)
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        message = f"cannot write to --out {out}: {exc.strerror}"
        raise InvalidInputError(message, field="out") from exc


def _run_background(
    out: Path, seed: int, txs: int, progress: Callable[[int, int], None] | None
) -> SimulationSummary:
    """Ordinary activity only, in bulk (no crime, so no truth, complaints or tags)."""
    from fundtrail.chains.simulate.background import write_background

    tick = None if progress is None else (lambda n: progress(n, txs))
    bg = write_background(out / "blocks", txs, seed=seed, start_time=START_TIME, progress=tick)
    return SimulationSummary(
        scenario="background",
        seed=seed,
        chain="btc",
        out=out,
        blocks=bg.blocks,
        txs=bg.txs,
        addresses=0,
        entities=0,
        complaints=0,
        cashouts=0,
        coinjoins=0,
        files=[str(p.relative_to(out)) for p in bg.files],
    )


def _run_btc(
    scenario: str,
    out: Path,
    seed: int,
    txs: int,
    progress: Callable[[int, int], None] | None,
    style: Style,
) -> SimulationSummary:
    from fundtrail.chains.simulate.btc.economy import BitcoinSim

    sim = BitcoinSim(scenario, out, seed, txs, START_TIME, style)
    sim.run(None if progress is None else (lambda n: progress(n, txs)))
    sim.finish()
    truth = sim.truth
    return SimulationSummary(
        scenario=scenario,
        seed=seed,
        chain="btc",
        out=out,
        blocks=sim.ledger.stats.blocks,
        txs=sim.ledger.stats.txs,
        addresses=sum(sim.registry.used),
        entities=len(sim.registry.entities),
        complaints=len(truth.complaints),
        cashouts=len(truth.cashouts),
        coinjoins=len(truth.coinjoin_txids),
        campaigns=[
            {"id": c.id, "kind": c.kind, "victims": len(c.victims), "total_loss": c.total_loss}
            for c in truth.campaigns
        ],
        files=[str(p.relative_to(out)) for p in sim.writer.files]
        + ["truth.json", "complaints.csv", "tags.yaml"],
    )
