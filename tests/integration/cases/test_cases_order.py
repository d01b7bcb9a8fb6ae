"""Order does not matter: the same small world, its steps run in any order, answers alike.

Seven steps a team runs as data arrives: ingest the chain, import tags, cluster, import
complaints, an exchange shares its hot wallets as intel, trace, write the case file.
Whatever order they came in, the campaigns, their traces, their freeze requests and the
trace from the complaints read afterwards are the same JSON (timestamps and row ids
aside) as in the textbook order.

The one order that cannot happen is clustering before there is a chain: that step is
refused with a clear error (checked below), so the property runs over every order with
the chain ingested before the first clustering (2,520 of the 5,040).
"""

from __future__ import annotations

import csv
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import typer.testing
import yaml
from cases_world import World
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from fundtrail.cli.main import app
from fundtrail.errors import FundtrailError
from fundtrail.settings import reset_settings

STEPS = ("ingest", "tags", "cluster", "complaints", "intel", "trace", "report")
TEXTBOOK = ("ingest", "tags", "intel", "cluster", "complaints", "trace", "report")
VOLATILE = {
    "created",
    "updated",
    "generated",
    "generated_at",
    "now",
    "elapsed",
    "seconds",
    "deadline",
}
runner = CliRunner()
# A world of its own, the simulator's smallest (400 txs, seed 3: a scam and a ransomware
# gang, a few dozen complaints), so that the property runs in `make test`: each whole workflow
# (seven real commands, every campaign's case file written twice) takes seconds. The
# case files' PDFs are not rendered here (WeasyPrint takes ~10 s a page set): they are
# renderings of the HTML whose data the freeze-request JSON compared below holds, and
# test_cases_story.py writes real ones. More drawn orders, on the 1,500-tx world:
# FUNDTRAIL_ORDER_EXAMPLES=20 FUNDTRAIL_ORDER_TXS=1500 pytest tests/integration/cases/test_cases_order.py
pytestmark = [pytest.mark.slow]
EXAMPLES = int(os.environ.get("FUNDTRAIL_ORDER_EXAMPLES", "3"))
TXS = int(os.environ.get("FUNDTRAIL_ORDER_TXS", "400"))
SEED = 3
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


class Team:
    """The world's inputs and one fresh workspace; each step a real command."""

    def __init__(self, world: World, home: Path, inputs: Path) -> None:
        self.world, self.home, self.inputs = world, home, inputs
        self.failed: list[tuple[str, str]] = []

    def cli(self, *args: str) -> Any:
        result = runner.invoke(app, list(args))
        if result.exit_code != 0:
            exc = result.exception
            assert isinstance(exc, FundtrailError), (args, result.output, exc)
            raise exc
        return result.stdout

    def json(self, *args: str) -> Any:
        import json

        return json.loads(self.cli(*args, "--json"))

    def campaigns(self) -> list[str]:
        return sorted(c["id"] for c in self.json("campaigns", "--operator"))

    def step(self, name: str) -> None:
        run: dict[str, Callable[[], object]] = {
            "ingest": lambda: self.cli("ingest", "bitcoin", str(self.world.sim / "blocks")),
            "tags": lambda: self.cli("tags", "import", str(self.inputs / "tags.yaml")),
            "cluster": lambda: self.cli("cluster"),
            "complaints": lambda: self.cli(
                "complaints", "import", str(self.world.complaints_csv), "--keep-unverified"
            ),
            "intel": lambda: self.cli(
                "intel",
                "import",
                str(self.inputs / "intel.csv"),
                "--format",
                "csv",
                "--org",
                "Exchange Alliance",
            ),
            "trace": self.trace,
            "report": lambda: self.report(),
        }
        try:
            run[name]()
        except FundtrailError as exc:  # a step whose inputs are not there yet says so
            self.failed.append((name, str(exc)))

    def trace(self) -> None:
        self.cli("trace", "--from-complaints", str(self.world.complaints_csv))
        for cid in self.campaigns():
            self.cli("campaign", "trace", cid, "--operator")

    def report(self, folder: str = "during") -> None:
        for cid in self.campaigns():
            self.cli("campaign", "report", cid, "-o", str(self.home / "cases" / folder / cid),
                     "--operator")  # fmt: skip

    def answers(self) -> dict[str, Any]:
        """What the team reads at the end: every campaign, its trace and freeze requests,
        and the freeze requests of a case file written now."""
        import json

        self.report("final")
        out: dict[str, Any] = {
            "trace": self.json("trace", "--from-complaints", str(self.world.complaints_csv)),
            "campaigns": self.json("campaigns", "--operator"),
        }
        for cid in self.campaigns():
            latest = self.home / "cases" / "final" / cid / "latest"
            out[cid] = {
                "show": self.json("campaign", "show", cid, "--operator"),
                "trace": self.json("campaign", "trace", cid, "--operator"),
                "freeze": self.json("campaign", "freeze", cid, "--operator"),
                "requests": {p.name: json.loads(p.read_text())
                             for p in sorted(latest.glob("freeze-request-*.json"))},
            }  # fmt: skip
        return normalised(out)


def normalised(data: Any) -> Any:
    """Timestamps of when rows were written and random row ids left out."""
    if isinstance(data, dict):
        return {k: normalised(v) for k, v in sorted(data.items()) if not _volatile(k, v)}
    if isinstance(data, list):
        return [normalised(v) for v in data]
    if isinstance(data, str):
        return UUID.sub("<id>", data)
    return data


def _volatile(key: str, value: Any) -> bool:
    if key == "attribution" and isinstance(value, str):
        return True  # a cache key of the inputs' versions (journal numbers, file times)
    return key in VOLATILE or (key == "id" and not str(value).startswith("CMP-"))


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """The simulator's output only: every workflow ingests, tags and clusters it itself."""
    import json

    from fundtrail.chains.simulate.service import run

    sim = tmp_path_factory.mktemp("order-world") / "sim"
    run("mixed", sim, seed=SEED, txs=TXS)
    with pytest.MonkeyPatch.context() as mp:  # case files without their PDF rendering
        for module in ("fundtrail.cases.report", "fundtrail.cases.freeze"):
            mp.setattr(f"{module}.write_pdf", _no_pdf)
        # typer builds the click command anew per invoke (a fifth of a second, sixty
        # invokes a workflow): build it once
        built = typer.testing._get_command(app)
        mp.setattr(typer.testing, "_get_command", lambda _app: built)
        yield World(sim, sim, json.loads((sim / "truth.json").read_text()))


def _no_pdf(html: str, path: Path) -> None:
    path.write_bytes(b"%PDF-1.4 (not rendered in the order test)\n")


@pytest.fixture(scope="module")
def inputs(world: World, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The simulator's tags as the tag file; the exchanges' hot wallets it lacks as intel
    an exchange alliance shares (TLP:GREEN), so tags and intel both name exchanges."""
    out = tmp_path_factory.mktemp("order-inputs")
    shutil.copy(world.sim / "tags.yaml", out / "tags.yaml")
    tagged = {t["address"] for t in yaml.safe_load((world.sim / "tags.yaml").read_text())["tags"]}
    names = {e["id"]: e["name"] for e in world.truth["entities"]}
    with open(out / "intel.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["type", "value", "chain", "category", "confidence", "tlp", "description"])
        for addr, info in sorted(world.truth["addresses"].items()):
            if info["role"] == "hot_wallet" and addr not in tagged:
                w.writerow(["crypto-address", addr, "BTC", "exchange", 90, "green",
                            names[info["entity"]]])  # fmt: skip
    return out


@contextmanager
def workspace() -> Iterator[Path]:
    """A fresh, empty FUNDTRAIL_HOME (hypothesis runs many examples in one test call)."""
    keep = {k: os.environ.get(k) for k in ("FUNDTRAIL_HOME", "FUNDTRAIL_DATABASE_URL",
                                           "FUNDTRAIL_SECRET_KEY")}  # fmt: skip
    home = Path(tempfile.mkdtemp(prefix="campaigns-order-"))
    os.environ["FUNDTRAIL_HOME"] = str(home)
    for k in ("FUNDTRAIL_DATABASE_URL", "FUNDTRAIL_SECRET_KEY"):
        os.environ.pop(k, None)
    reset_settings()
    try:
        yield home
    finally:
        for k, v in keep.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        reset_settings()
        shutil.rmtree(home, ignore_errors=True)


def play(
    world: World, inputs: Path, order: tuple[str, ...], team_cls: type[Team] = Team
) -> tuple[dict[str, Any], Team]:
    """One workflow in ``order`` in a workspace of its own; ``team_cls`` says which chain's steps."""
    with workspace() as home:
        team = team_cls(world, home, inputs)
        team.cli("org", "add", "Exchange Alliance", "--kind", "exchange")
        for name in order:
            team.step(name)
        return team.answers(), team


@pytest.fixture(scope="module")
def textbook(world: World, inputs: Path) -> dict[str, Any]:
    answers, team = play(world, inputs, TEXTBOOK)
    assert team.failed == []
    assert [k for k in answers if k.startswith("CMP-")], "no campaign linked"
    return answers


def orders() -> st.SearchStrategy[tuple[str, ...]]:
    return (
        st.permutations(STEPS).map(tuple).filter(lambda o: o.index("ingest") < o.index("cluster"))
    )


@settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
          suppress_health_check=list(HealthCheck))  # fmt: skip
@pytest.mark.timeout(1800)
@given(order=orders())
@example(order=("ingest", "cluster", "complaints", "trace", "report", "tags", "intel"))
@example(order=("report", "trace", "complaints", "intel", "tags", "ingest", "cluster"))
def test_every_order_gives_the_same_answers(
    world: World, inputs: Path, textbook: dict[str, Any], order: tuple[str, ...]
) -> None:
    answers, team = play(world, inputs, order)
    for name, message in team.failed:  # only steps that came before what they need
        assert name in ("trace", "report") and order.index(name) < order.index("ingest"), (
            name, message,
        )  # fmt: skip
    assert answers == textbook, f"order {order} answers differently: {_diff(textbook, answers)}"


def _diff(a: Any, b: Any, path: str = "") -> list[str]:
    """Where two answers differ (the assertion's message)."""
    if isinstance(a, dict) and isinstance(b, dict):
        return [d for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)
                for d in _diff(a.get(k), b.get(k), f"{path}.{k}")][:6]  # fmt: skip
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [d for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y
                for d in _diff(x, y, f"{path}[{i}]")][:6]  # fmt: skip
    return [f"{path}: {str(a)[:200]} != {str(b)[:200]}"]
