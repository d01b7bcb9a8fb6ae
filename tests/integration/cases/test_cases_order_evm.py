"""Order does not matter on an account chain either: the same small EVM world, its steps
in the textbook order and in the orders where new knowledge arrives last (tags and an
exchange's intel after clustering, tracing and the case files), answers alike.

On EVM (and TRON, which shares the code) an exchange's deposit addresses are the
addresses forwarding (almost) all they receive to its hot wallet: ``fundtrail cluster``
stores the forwarders, and which of them are deposits is read from the tags and intel
of the moment. Same JSON as the textbook order (timestamps and row ids aside): the
trace from the complaints, every campaign, its trace and its freeze requests.
"""

from __future__ import annotations

import csv
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer.testing
import yaml
from cases_world import World
from test_cases_order import Team, _diff, _no_pdf, play

from fundtrail.cli.main import app
from fundtrail.errors import FundtrailError

pytestmark = [pytest.mark.slow]
SEED, TXS = 3, 1200
TEXTBOOK = ("ingest", "tags", "intel", "cluster", "complaints", "trace", "report")
ORDERS = [
    ("ingest", "cluster", "complaints", "trace", "report", "tags", "intel"),
    ("report", "trace", "complaints", "intel", "tags", "ingest", "cluster"),
    ("ingest", "complaints", "cluster", "trace", "intel", "report", "tags"),
]


class EvmTeam(Team):
    def step(self, name: str) -> None:
        if name == "ingest":
            self.cli("ingest", "evm", "--files", str(self.world.sim / "evm"), "--chain", "eth")
        elif name == "cluster":
            try:
                self.cli("cluster", "--chain", "ETH")
            except FundtrailError as exc:  # before the ingest: refused, said so
                self.failed.append((name, str(exc)))
        else:
            super().step(name)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    from fundtrail.chains.simulate.service import run

    sim = tmp_path_factory.mktemp("order-evm-world") / "sim"
    run("mixed", sim, seed=SEED, txs=TXS, chain="evm")
    with pytest.MonkeyPatch.context() as mp:
        for module in ("fundtrail.cases.report", "fundtrail.cases.freeze"):
            mp.setattr(f"{module}.write_pdf", _no_pdf)
        built = typer.testing._get_command(app)
        mp.setattr(typer.testing, "_get_command", lambda _app: built)
        yield World(sim, sim, json.loads((sim / "truth.json").read_text()))


@pytest.fixture(scope="module")
def inputs(world: World, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The simulator's tags; one untagged exchange's hot wallets shared as intel."""
    out = tmp_path_factory.mktemp("order-evm-inputs")
    shutil.copy(world.sim / "tags.yaml", out / "tags.yaml")
    tagged = {t["address"].lower()
              for t in yaml.safe_load((world.sim / "tags.yaml").read_text())["tags"]}  # fmt: skip
    names = {e["id"]: e["name"] for e in world.truth["entities"]}
    hot = sorted((info["entity"], a) for a, info in world.truth["addresses"].items()
                 if info["role"] == "hot_wallet" and a.lower() not in tagged)  # fmt: skip
    shared = [a for e, a in hot if e == hot[0][0]] if hot else []
    with open(out / "intel.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["type", "value", "chain", "category", "confidence", "tlp", "description"])
        for addr in shared:
            w.writerow(["crypto-address", addr, "ETH", "exchange", 90, "green",
                        names[world.truth["addresses"][addr]["entity"]]])  # fmt: skip
    return out


@pytest.fixture(scope="module")
def textbook(world: World, inputs: Path) -> dict[str, Any]:
    answers, team = play(world, inputs, TEXTBOOK, EvmTeam)
    assert team.failed == []
    camps = [k for k in answers if k.startswith("CMP-")]
    assert camps, "no campaign linked"
    # the answers are worth comparing: the trace names deposits at exchanges, and a
    # campaign's freeze plan asks an exchange for one
    cash = [e for e in answers["trace"]["endpoints"] if e["kind"] == "cash-out"]
    assert cash and all(e["entity"] for e in cash)
    assert any(answers[c]["freeze"]["requests"] for c in camps)
    return answers


@pytest.mark.timeout(1200)
@pytest.mark.parametrize("order", ORDERS, ids=lambda o: "-".join(o))
def test_evm_answers_do_not_depend_on_the_order(
    world: World, inputs: Path, textbook: dict[str, Any], order: tuple[str, ...]
) -> None:
    answers, team = play(world, inputs, order, EvmTeam)
    for name, _message in team.failed:
        assert name in ("trace", "report") and order.index(name) < order.index("ingest")
    assert answers == textbook, f"order {order} answers differently: {_diff(textbook, answers)}"
