"""Forensic accuracy across laundering styles, seeds, sizes and orders of work.

A figure measured on one simulated world, in one order of work, proves little. This
harness builds many worlds (``--styles`` x ``--seeds`` x ``--sizes``, each in both orders
of work: partner tags imported before clustering, and after it) and computes every
registered figure on each, then prints, per figure and size, the min and median over
all worlds and whether the goal is met (goals are on the worst world: min, or max for
"at most" goals).

    python bench/forensics.py                                  # 20 seeds x styles at 5k
    python bench/forensics.py --sizes 5000,50000 --seeds 20
    python bench/forensics.py --sizes 1000000 --seeds 1 --styles default
    python bench/forensics.py --figures trace_recall --keep    # keep the worlds to inspect
    python bench/forensics.py --chain evm --seeds 12           # the EVM simulation's styles
    python bench/forensics.py --chain tron --seeds 16          # TRON: the USDT scam, over the stub
    python bench/forensics.py --sizes 1000000 --seeds 1 --styles default --processes
                                                # each step its own process: peak RSS each

Campaigns (issue 14's "campaigns exact"): ``campaigns_exact`` is 1 on a world when every
true campaign came out of ``complaints import`` as exactly one linked campaign with the
same complaints and the same total loss in base units (the goal: every world, every
order, every chain). ``campaigns_exact_linkable`` forgives one thing only: a complaint
with no evidence that could link it (``complaints_unlinkable``, read from the chain store
and the complaints, not from the linker: its paid address never sent and got nothing from
another complaint's address, and no perpetrator contact was reported) standing alone as a
campaign of one. A world where the two differ lost a complaint nothing could link; a world
failing both is a linking fault. Worlds that are not exact print which true campaign was
split or merged, and how.

An independent check: ``bench/independent.py`` judges trace_recall, the freeze figures,
campaigns_exact and the screening figures the same way on worlds from
``bench/indep_world.py``, a generator written apart from the simulator with other habits,
through the command line only.

Adding a figure: a function taking a ``World``
and returning a float (or None when it does not apply to that world), registered with
``@figure(name, goal=(">=", 0.95), text="what it measures")``. Expensive steps shared by
several figures (a trace from the complaints, complaints imported and linked, the
screening index) are memoised per world with ``world.once(key, fn)``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from _record import add_record_flag, recording
from campaign_match import Linked, Outcome, evidence_islands, judge, unlinkable_complaints

Order = Literal["tags-first", "tags-after"]
ORDERS: tuple[Order, ...] = ("tags-first", "tags-after")
Goal = tuple[Literal[">=", "<="], float]


@dataclass(frozen=True, slots=True)
class Figure:
    name: str
    fn: Callable[[World], float | None]
    goal: Goal | None
    text: str
    goal_from_txs: int = 0  # sizes below this report the figure without judging it


FIGURES: dict[str, Figure] = {}


def figure(
    name: str, *, goal: Goal | None = None, text: str = "", goal_from_txs: int = 0
) -> Callable[[Callable[[World], float | None]], Callable[[World], float | None]]:
    """Register ``fn`` as a figure computed on every world."""

    def register(fn: Callable[[World], float | None]) -> Callable[[World], float | None]:
        doc = text or (fn.__doc__ or "").strip().split("\n")[0]
        FIGURES[name] = Figure(name, fn, goal, doc, goal_from_txs)
        return fn

    return register


# -- worlds ---------------------------------------------------------------------------------
# Laundering styles: the simulator's presets (``fundtrail simulate --style``). "default" is
# the simulator's own habits; the others each push one behaviour seen in the field
# (single-use deposits, slow sweeps, long peel chains, CoinJoins, one exchange, ...).
def _styles() -> dict[str, str]:
    from fundtrail.chains.simulate.style import PRESETS

    return {name: name for name in PRESETS}


STYLES: dict[str, str] = _styles()
# the presets that change something on the EVM simulation (its knobs: deposits, sweeps,
# unswept deposits, peel share, exchanges per gang, batched withdrawals, busy exchanges,
# mules who are customers); the others are Bitcoin's (CoinJoins, consolidations, ...)
EVM_STYLES = ("default", "single-use-deposits", "slow-sweeps", "unswept", "long-peels",
              "short-peels", "one-exchange", "two-exchanges", "big-batches", "busy-exchanges",
              "mule-customers", "field")  # fmt: skip
# TRON's simulation is that account economy with TRON's habits (the USDT scam alone, swaps
# to TRX): the same knobs change it, so the same presets
TRON_STYLES = EVM_STYLES


@dataclass
class World:
    """One simulated chain, ingested, tagged and clustered in one order of work."""

    style: str
    seed: int
    txs: int
    order: Order
    root: Path
    processes: bool = False  # every step a ``fundtrail`` process, its peak RSS kept
    chain: str = "btc"  # the simulator's chain: btc (blk files), evm (ethereum-etl CSV), tron
    truth: dict[str, Any] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    rss: dict[str, float] = field(default_factory=dict)  # MiB per command (``processes``)
    notes: dict[str, Any] = field(default_factory=dict)  # why a figure fell short (printed)
    shown: list[dict[str, Any]] = field(default_factory=list)  # ``campaign show --json`` each
    _memo: dict[str, Any] = field(default_factory=dict)

    @property
    def code(self) -> str:
        """The chain store's code: BTC, ETH for the EVM simulation, TRX for TRON's."""
        return {"btc": "BTC", "evm": "ETH", "tron": "TRX"}[self.chain]

    @property
    def scenario(self) -> str:
        """TRON's simulation is the USDT investment scam alone (no ransomware)."""
        return "investment-scam" if self.chain == "tron" else "mixed"

    def norm(self, address: str | None) -> str | None:
        """One spelling of an address (EVM: lowercase, as truth.json writes them)."""
        return address.lower() if address and self.chain == "evm" else address

    @property
    def sim(self) -> Path:
        return self.root / "sim"

    @property
    def home(self) -> Path:
        return self.root / "home"

    def once(self, key: str, fn: Callable[[], Any]) -> Any:
        """``fn()`` computed once per world (shared by every figure that needs it)."""
        if key not in self._memo:
            self._memo[key] = fn()
        return self._memo[key]

    def build(self) -> World:
        if self.processes:
            return self._build_by_commands()
        from fundtrail.analysis.cluster.service import run_clustering
        from fundtrail.chains.bitcoin.ingest import ingest_paths
        from fundtrail.chains.evm.ingest import ingest_files
        from fundtrail.chains.simulate.service import run as simulate
        from fundtrail.intel.tag_import import import_tags
        from fundtrail.settings import reset_settings

        os.environ["FUNDTRAIL_HOME"] = str(self.home)
        reset_settings()
        style = STYLES[self.style]
        self._timed("simulate", lambda: simulate(self.scenario, self.sim, seed=self.seed,
                                                 txs=self.txs, chain=self.chain,
                                                 style=style))  # fmt: skip
        self.truth = json.loads((self.sim / "truth.json").read_text())
        if self.chain == "btc":
            self._timed("ingest", lambda: ingest_paths([self.sim / "blocks"], home=self.home))
        elif self.chain == "tron":
            self._timed("ingest", self._ingest_tron)
        else:
            self._timed("ingest", lambda: ingest_files(self.sim / "evm", chain="ETH",
                                                       home=self.home))  # fmt: skip
        steps = [
            ("tags", lambda: import_tags(self.sim / "tags.yaml", home=self.home)),
            ("cluster", lambda: run_clustering(self.code, home=self.home)),
        ]
        for name, step in steps if self.order == "tags-first" else steps[::-1]:
            self._timed(name, step)
        return self

    def _ingest_tron(self) -> None:
        """Over the java-tron HTTP API, from the local stub replaying the simulated node."""
        from fundtrail.chains.tron.ingest import ingest_rpc
        from fundtrail.chains.tron.stub import NodeData, TronStub

        node = NodeData.from_json(json.loads((self.sim / "tron" / "node.json").read_text()))
        with TronStub(node) as stub:
            ingest_rpc(stub.url, home=self.home)

    def command(self, name: str, args: list[str], home: Path | None = None) -> str:
        """One ``fundtrail`` process (``bench/scale.py``'s runner): seconds, peak RSS; stdout."""
        from scale import run

        seconds, rss, out = run(args, home or self.home)
        # a name run several times (``campaign show`` of every campaign): seconds summed,
        # the largest peak kept
        self.seconds[name] = self.seconds.get(name, 0.0) + seconds
        self.rss[name] = max(self.rss.get(name, 0.0), rss)
        return out

    def _build_by_commands(self) -> World:
        from fundtrail.settings import reset_settings

        os.environ["FUNDTRAIL_HOME"] = str(self.home)
        reset_settings()
        self.command("simulate", ["simulate", "--scenario", "mixed", "--out", str(self.sim),
                                  "--seed", str(self.seed), "--txs", str(self.txs),
                                  "--style", STYLES[self.style], "--quiet"])  # fmt: skip
        self.truth = json.loads((self.sim / "truth.json").read_text())
        self.command("ingest", ["ingest", "bitcoin", str(self.sim / "blocks"), "--quiet"])
        steps = [("tags", ["tags", "import", str(self.sim / "tags.yaml"), "--quiet"]),
                 ("cluster", ["cluster", "--quiet"])]  # fmt: skip
        for name, args in steps if self.order == "tags-first" else steps[::-1]:
            self.command(name, args)
        shutil.copytree(self.home, self.commands_home)  # for measure_commands
        return self

    @contextmanager
    def workspace(self, home: Path) -> Iterator[None]:
        """In-process steps read and write ``home`` (``FUNDTRAIL_HOME``) inside the block."""
        from fundtrail.settings import reset_settings

        before = os.environ["FUNDTRAIL_HOME"]
        os.environ["FUNDTRAIL_HOME"] = str(home)
        reset_settings()
        try:
            yield
        finally:
            os.environ["FUNDTRAIL_HOME"] = before
            reset_settings()

    @property
    def commands_home(self) -> Path:
        """The copy of the workspace the reading commands run on (``--processes``)."""
        return self.root / "home-commands"

    def measure_commands(self) -> None:
        """The reading commands as their own processes (on a copy of the workspace taken
        right after the build, so the figures' in-process steps do not change them).

        The campaigns are read from the commands' JSON (``campaigns --json``, then
        ``campaign show --json`` of each, for its complaints' refs): the campaign figures
        judge what ``complaints import`` linked as a process, not an in-process copy."""
        home = self.commands_home
        complaints = str(self.sim / "complaints.csv")
        self.command(
            "trace --from-complaints", ["trace", "--from-complaints", complaints, "--json"], home
        )
        self.command("screen index build", ["screen", "index", "build"], home)
        self.command("complaints import", ["complaints", "import", complaints], home)
        shown = self.command("campaigns", ["campaigns", "--operator", "--json"], home)
        camps = sorted(json.loads(shown), key=lambda c: -int(c.get("complaints") or 0))
        self.shown = [json.loads(self.command("campaign show", ["campaign", "show", c["id"],
                                               "--operator", "--json"], home))
                      for c in camps]  # fmt: skip
        for c in camps[:2]:  # the two largest (a whole scam, a whole ransomware campaign)
            self.command(f"campaign freeze {c['id']}",
                         ["campaign", "freeze", c["id"], "--operator", "--json"], home)  # fmt: skip

    def _timed(self, name: str, fn: Callable[[], Any]) -> Any:
        t = time.perf_counter()
        out = fn()
        self.seconds[name] = time.perf_counter() - t
        return out


# -- figures of the tracing part ------------------------------------------------------------
def forward_trace(w: World) -> Any:
    """The forward haircut trace from every complaint of the world (memoised)."""
    from fundtrail.analysis.trace.request import TraceRequest
    from fundtrail.analysis.trace.service import read_complaints, trace

    def run() -> Any:
        chain, starts, amounts = read_complaints(w.sim / "complaints.csv")
        request = TraceRequest.parse(chain, starts, amounts=amounts)
        return w._timed("trace", lambda: trace(request, home=w.home))

    return w.once("forward_trace", run)


def true_deposits(
    w: World, via: tuple[str, ...], kind: str | None = None, swept: bool | None = None
) -> set[str]:
    """The gang's true deposit addresses whose proceeds came ``via`` these ways (truth's
    ``via``: ``peel`` from the gang's own wallets, ``coinjoin``, ``mixer``, ``swap``: TRX
    a TRON gang got from a DEX swap of its USDT), of campaigns
    of ``kind`` (None: all); ``swept``: only those the exchange had (True) or had not
    (False) swept by the chain's end (None: both)."""
    camps = {c["id"] for c in w.truth["campaigns"] if kind is None or c["kind"] == kind}
    return {w.norm(c["deposit_address"]) or "" for c in w.truth["cashouts"]
            if c.get("via", "peel") in via and c["campaign"] in camps
            and (swept is None or c.get("swept", True) == swept)}  # fmt: skip


def _named(w: World, true: set[str]) -> float | None:
    if not true:
        return None
    found = {w.norm(e.deposit_address) for e in forward_trace(w).cash_outs()}
    return len(true & found) / len(true)


@figure(
    "trace_recall",
    goal=(">=", 0.95),
    text="true cash-out deposit addresses fed from the gang's own wallets (peel chains, "
    "consolidations) and shown to be deposits on chain (swept by the end), named as "
    "cash-outs by the forward trace from the complaints",
)
def trace_recall(w: World) -> float | None:
    return _named(w, true_deposits(w, ("peel",), swept=True))


def tagged_exchanges(w: World) -> set[str]:
    """Truth's entities of which the world's tags.yaml names at least one address."""
    import yaml

    tags = yaml.safe_load((w.sim / "tags.yaml").read_text()).get("tags", [])
    owner = w.truth["addresses"]
    return {owner[a]["entity"] for t in tags
            if (a := w.norm(t["address"]) or "") in owner}  # fmt: skip


@figure(
    "trace_recall_tagged",
    text="trace_recall over deposits at exchanges the partners' tags name (the others are "
    "recognised by behaviour: deposit_sweep, hot_wallet)",
)
def trace_recall_tagged(w: World) -> float | None:
    known = tagged_exchanges(w)
    owner = w.truth["addresses"]
    true = {a for a in true_deposits(w, ("peel",), swept=True)
            if owner.get(a, {}).get("entity") in known}  # fmt: skip
    return _named(w, true)


@figure(
    "trace_unswept_listed",
    text="single-use deposit addresses fed from the gang's wallets and never swept (no "
    "on-chain sign of a deposit yet), listed by that trace (as held money)",
)
def trace_unswept_listed(w: World) -> float | None:
    true = true_deposits(w, ("peel",), swept=False)
    if not true:
        return None
    listed = {w.norm(e.deposit_address or e.address) for e in forward_trace(w).endpoints}
    return len(true & listed) / len(true)


@figure(
    "trace_recall_coinjoin",
    text="true deposit addresses of coins the gang took out of CoinJoins, named (haircut "
    "passes a CoinJoin's taint in proportion: most are summed as dispersed)",
)
def trace_recall_coinjoin(w: World) -> float | None:
    return _named(w, true_deposits(w, ("coinjoin",)))


@figure(
    "trace_false_places",
    text="cash-out places named that are not the gang's deposits, over all cash-out places named",
)
def trace_false_places(w: World) -> float | None:
    found = {w.norm(e.deposit_address) for e in forward_trace(w).cash_outs()}
    if not found:
        return None
    return len(found - true_deposits(w, ("peel", "coinjoin", "mixer", "swap"))) / len(found)


@figure("trace_endpoints", text="endpoints listed by that trace (a person reads them)")
def trace_endpoints(w: World) -> float:
    return float(len(forward_trace(w).endpoints))


@figure(
    "trace_vs_ingest",
    goal=("<=", 0.5),
    goal_from_txs=1_000_000,
    text="that trace's time over the chain's ingest time (judged at 1M txs: fixed costs rule "
    "below; with --processes both are whole commands: start-up, imports and output counted)",
)
def trace_vs_ingest(w: World) -> float:
    """Like against like: in-process, both steps in this process; with ``--processes``,
    the ``trace --from-complaints`` command against the ``ingest`` command (an in-process
    trace over a command's ingest left the trace's start-up and output out of the sum)."""
    if w.processes:
        w.once("measure_commands", w.measure_commands)
        return w.seconds["trace --from-complaints"] / max(w.seconds["ingest"], 1e-9)
    forward_trace(w)
    return w.seconds["trace"] / max(w.seconds["ingest"], 1e-9)


# -- figures of campaigns (complaints imported and linked, judged on truth) ---------------
def linked_campaigns(w: World) -> list[Linked]:
    """Complaints imported and linked (``complaints import``, then ``campaigns link``); every
    active campaign as the operator lists it (``fundtrail campaigns --json``: its
    complaints' refs and its total loss per asset key) (memoised: freezing reads it too)."""

    def from_commands() -> list[Linked]:
        w.once("measure_commands", w.measure_commands)
        return [Linked(d["id"], frozenset(p["ref"] or p["id"] for p in d["payments"]),
                       {k: int(v) for k, v in d["total_loss"].items()})
                for d in w.shown]  # fmt: skip

    def run() -> list[Linked]:
        if w.processes:
            return from_commands()
        from fundtrail.cases.campaigns import list_campaigns
        from fundtrail.cases.intake import import_complaints
        from fundtrail.cases.relink import link_campaigns
        from fundtrail.intelstore.db import open_store
        from fundtrail.model.identity import Identity

        store = open_store()
        try:
            w._timed("complaints", lambda: import_complaints(w.sim / "complaints.csv", store=store))
            w._timed("link", lambda: link_campaigns(store))
            with store.read_session() as s:
                views = list_campaigns(s, Identity.operator())
            return [Linked(v.id, frozenset(c.ref or c.payment_key for c in v.complaints),
                           v.total_loss) for v in views]  # fmt: skip
        finally:
            store.close()

    return w.once("linked_campaigns", run)


def campaign_outcomes(w: World) -> list[Outcome]:
    """Every true campaign judged (``campaign_match.judge``); the ones not exact are kept
    in the world's notes, printed with its row, so a sweep says what broke and where."""

    def run() -> list[Outcome]:
        from fundtrail.model.assets import resolve

        out = judge(w.truth["campaigns"], linked_campaigns(w), unlinkable(w),
                    key=lambda a: resolve(a, w.code).key, islanded=islanded(w))  # fmt: skip
        bad = [f"{o.truth_id} ({o.complaints}): {o.why}" for o in out if not o.exact]
        if bad:
            w.notes["campaigns"] = bad
        return out

    return w.once("campaign_outcomes", run)


def unlinkable(w: World) -> set[str]:
    """Truth's complaints with no evidence that could link them, read from the complaints
    and the chain store, not from the linker (``campaign_match.unlinkable_complaints``)."""

    def run() -> set[str]:
        import csv

        from fundtrail.chainstore.store import ChainStore

        with open(w.sim / "complaints.csv", newline="") as fh:
            rows = [r | {"to_address": w.norm(r["to_address"]) or ""} for r in csv.DictReader(fh)]
        addresses = {r["to_address"] for r in rows}
        con = ChainStore(w.code, w.home).connect()
        con.execute("CREATE TEMP TABLE paid_to (address VARCHAR)")
        con.executemany("INSERT INTO paid_to VALUES (?)", [(a,) for a in sorted(addresses)])
        spent = (  # every address id that ever sent
            "SELECT address_id AS id FROM inputs" if w.chain == "btc"
            else f"SELECT from_id AS id FROM transfers WHERE kind IN {_MOVES}"
        )  # fmt: skip
        moved = {a for (a,) in con.execute(
            f"""SELECT DISTINCT p.address FROM paid_to p JOIN addresses a ON a.address = p.address
                JOIN ({spent}) s ON s.id = a.address_id""").fetchall()}  # fmt: skip
        return unlinkable_complaints(rows, moved, paid_by(w, addresses))

    return w.once("unlinkable", run)


def islanded(w: World) -> set[str]:
    """Truth's complaints the evidence keeps apart from the rest of their campaign
    (``campaign_match.evidence_islands``), read from the chain store, truth's owners and
    the complaints, not from the linker."""

    def run() -> set[str]:
        import csv

        with open(w.sim / "complaints.csv", newline="") as fh:
            rows = [r | {"to_address": w.norm(r["to_address"]) or ""} for r in csv.DictReader(fh)]
        return evidence_islands(w.truth["campaigns"], rows, gang_met(w), contacts=reported)

    return w.once("islanded", run)


def reported(row: dict[str, str]) -> list[str]:
    """A complaint row's perpetrator contacts as the intake normalises them (an onion
    site cut to its host, an e-mail lower-cased), generic ones too: more joins, fewer
    islands."""
    from fundtrail.cases.contacts import parse_contacts

    return [f"{c.kind}:{c.value}" for c in parse_contacts(row)]


def gang_met(w: World) -> list[tuple[str, str, str]]:
    """``(true campaign, address, address)``: two of the gang's own addresses, or one and
    a deposit its campaign cashed out to, in one tx the gang made (a tx spending its
    coins; one transfer of an account chain), CoinJoins aside; and a custodial mixer's
    order address with each address the mixer paid that order back to (truth's
    ``mixer_orders``). Money of two complaints meets when their paid addresses are
    connected by these rows."""
    from fundtrail.chainstore.store import ChainStore

    operator = {c["operator"]: c["id"] for c in w.truth["campaigns"]}
    own = [
        (w.norm(a) or "", operator[info["entity"]], "gang")
        for a, info in w.truth["addresses"].items()
        if info.get("entity") in operator
    ]
    own += [(w.norm(c["deposit_address"]) or "", c["campaign"], "deposit")
            for c in w.truth["cashouts"]]  # fmt: skip
    # a custodial mixer's order: the gang's tx pays its order address, the mixer pays the
    # order back to fresh addresses of the gang's (the truth pairs them; the linker can
    # only match amounts and times: its through-mixer rule)
    orders = w.truth.get("mixer_orders", [])
    own += [(w.norm(m["deposit_address"]) or "", m["campaign"], "deposit") for m in orders]
    paid_back = [(m["campaign"], w.norm(m["deposit_address"]) or "", w.norm(a) or "")
                 for m in orders for a in m["payouts"]]  # fmt: skip
    con = ChainStore(w.code, w.home).connect()
    con.execute("CREATE TEMP TABLE own (address VARCHAR, campaign VARCHAR, kind VARCHAR)")
    if own:
        con.executemany("INSERT INTO own VALUES (?, ?, ?)", sorted(set(own)))
    con.execute("CREATE TEMP TABLE mixed (txid VARCHAR)")
    if coinjoins := [(t,) for t in w.truth.get("coinjoin_txids", [])]:  # none off Bitcoin
        con.executemany("INSERT INTO mixed VALUES (?)", coinjoins)
    con.execute("""CREATE TEMP TABLE own_id AS SELECT a.address_id AS id, o.address,
                   o.campaign, o.kind FROM own o JOIN addresses a ON a.address = o.address""")
    if w.chain == "btc":  # the gang's txs: an input of its own; every own address they touch
        touched = """
            WITH spent AS (SELECT DISTINCT i.tx_id, g.campaign FROM inputs i
                           JOIN own_id g ON g.id = i.address_id AND g.kind = 'gang'
                           WHERE i.tx_id NOT IN (SELECT t.tx_id FROM txs t JOIN mixed USING (txid)))
            SELECT s.tx_id AS tx, s.campaign, g.address FROM spent s JOIN inputs i USING (tx_id)
                JOIN own_id g ON g.id = i.address_id AND g.campaign = s.campaign AND g.kind = 'gang'
            UNION
            SELECT s.tx_id AS tx, s.campaign, g.address FROM spent s JOIN outputs o USING (tx_id)
                JOIN own_id g ON g.id = o.address_id AND g.campaign = s.campaign"""
    else:  # one transfer from the gang's address to one of its own or a deposit it paid
        touched = f"""
            SELECT row_number() OVER () AS tx, f.campaign, f.address || chr(0) || g.address
                AS address FROM transfers t
            JOIN own_id f ON f.id = t.from_id AND f.kind = 'gang'
            JOIN own_id g ON g.id = t.to_id AND g.campaign = f.campaign
            WHERE t.kind IN {_MOVES}"""
    rows = con.execute(f"SELECT tx, campaign, address FROM ({touched}) ORDER BY tx").fetchall()
    met: list[tuple[str, str, str]] = paid_back
    first: dict[tuple[Any, str], str] = {}
    for tx, camp, address in rows:
        if w.chain != "btc":
            a, b = address.split(chr(0))
            met.append((camp, a, b))
            continue
        head = first.setdefault((tx, camp), address)
        if head != address:
            met.append((camp, head, address))
    return met


@figure(
    "campaigns_exact",
    goal=(">=", 1.0),
    text="1 when every true campaign's complaints are exactly one linked campaign (same "
    "complaints, so the same count) with the same total loss in base units, else 0",
)
def campaigns_exact(w: World) -> float | None:
    outcomes = campaign_outcomes(w)
    return float(all(o.exact for o in outcomes)) if outcomes else None


@figure(
    "campaigns_exact_linkable",
    text="campaigns_exact, but a complaint with no evidence to link it (complaints_unlinkable) "
    "may stand alone as a campaign of one; every other split or merge still fails",
)
def campaigns_exact_linkable(w: World) -> float | None:
    outcomes = campaign_outcomes(w)
    return float(all(o.exact_linkable for o in outcomes)) if outcomes else None


@figure("campaigns_found", text="linked campaigns over true campaigns (1 when exact)")
def campaigns_found(w: World) -> float | None:
    true = len(w.truth["campaigns"])
    return len(linked_campaigns(w)) / true if true else None


@figure(
    "complaints_unlinkable",
    text="true complaints with no evidence that could link them: the paid address never "
    "sent and got nothing from another complaint's address, and no perpetrator contact",
)
def complaints_unlinkable(w: World) -> float:
    return float(len(unlinkable(w)))


@figure(
    "complaints_islanded",
    text="true complaints the evidence keeps apart from the rest of their campaign: their "
    "money never meets the rest's in the gang's own txs or at a deposit, and they share no "
    "reported contact with it (a group of victims linked only to each other; no goal)",
)
def complaints_islanded(w: World) -> float:
    return float(len(islanded(w)))


# -- figures of freeze requests (the campaigns part's FreezePlan, judged on truth) ----------
def freeze_plans(w: World) -> list[dict[str, Any]]:
    """Every linked campaign's freeze plan (``campaign freeze``), each with the true
    campaign most of its complaints belong to (memoised)."""

    def run() -> list[dict[str, Any]]:
        # --processes: the campaigns are the commands' (their copy of the workspace)
        home = w.commands_home if w.processes else w.home
        with w.workspace(home):
            return plans_at(home)

    def plans_at(home: Path) -> list[dict[str, Any]]:
        from collections import Counter

        from fundtrail.cases.freezing import campaign_freeze
        from fundtrail.intelstore.db import open_store
        from fundtrail.model.identity import Identity

        operator = Identity.operator()
        of = {k: c["id"] for c in w.truth["campaigns"] for k in c["complaint_ids"]}
        camps = linked_campaigns(w)
        store = open_store()
        try:
            plans = []
            began = time.perf_counter()
            for c in camps:
                true = Counter(of.get(r, "") for r in c.refs).most_common(1)
                _traced, plan = campaign_freeze(store, c.id, viewer=operator, home=home)
                plans.append({"true": true[0][0] if true else "", "plan": plan})
            w.seconds["freeze"] = time.perf_counter() - began
            return plans
        finally:
            store.close()

    return w.once("freeze_plans", run)


def _requested(w: World) -> list[tuple[str, str, int]]:
    """(true campaign, deposit address, amount) of every requested deposit of the world."""
    return [(p["true"], w.norm(d.deposit_address) or "", d.amount) for p in freeze_plans(w)
            for r in p["plan"].requests for d in r.deposits]  # fmt: skip


_MOVES = "('native', 'internal', 'token')"  # account-chain transfers that move value


def paid_by(w: World, addresses: set[str]) -> dict[str, set[str]]:
    """{address: every address that ever paid into it} (from the chain store)."""
    from fundtrail.chainstore.store import ChainStore

    if not addresses:
        return {}
    con = ChainStore(w.code, w.home).connect()
    con.execute("CREATE TEMP TABLE wanted (address VARCHAR)")
    con.executemany("INSERT INTO wanted VALUES (?)", [(a,) for a in sorted(addresses)])
    paid = (  # (receiving address id, paying address id) of every payment
        "SELECT o.address_id AS to_id, i.address_id AS from_id FROM outputs o "
        "JOIN inputs i ON i.tx_id = o.tx_id"
        if w.chain == "btc"
        else f"SELECT to_id, from_id FROM transfers WHERE kind IN {_MOVES}"
    )
    rows = con.execute(
        f"""SELECT DISTINCT wa.address, pa.address
            FROM wanted wa JOIN addresses a ON a.address = wa.address
            JOIN ({paid}) p ON p.to_id = a.address_id
            JOIN addresses pa ON pa.address_id = p.from_id"""
    ).fetchall()
    out: dict[str, set[str]] = {a: set() for a in addresses}
    for address, payer in rows:
        out[address].add(payer)
    return out


def payers(w: World, addresses: set[str]) -> dict[str, set[str]]:
    """{address: truth's owners of every address that ever paid into it} (from the chain)."""
    owner = {a: info.get("entity", "") for a, info in w.truth["addresses"].items()}
    return {a: {owner.get(p, "?") for p in ps} for a, ps in paid_by(w, addresses).items()}


def gang_own(w: World) -> dict[str, set[str]]:
    """{true campaign: the deposit addresses its gang holds at a service}: truth's cash-out
    deposits at exchanges, and requested addresses only the gang's own wallets ever paid
    (a custodial mixer's per-order deposit address: the gang's order, no one else's)."""

    def run() -> dict[str, set[str]]:
        out: dict[str, set[str]] = {}
        for c in w.truth["cashouts"]:
            out.setdefault(c["campaign"], set()).add(w.norm(c["deposit_address"]) or "")
        operator = {c["id"]: c["operator"] for c in w.truth["campaigns"]}
        asked = {(t, d) for t, d, _ in _requested(w)}
        paid = payers(w, {d for _, d in asked})
        for t, d in asked:
            if t in operator and paid.get(d) == {operator[t]}:
                out.setdefault(t, set()).add(d)
        return out

    return w.once("gang_own", run)


@figure(
    "freeze_value_precision",
    goal=(">=", 0.9),
    text="share of the value the freeze requests ask for (campaign freeze on every linked "
    "campaign) that sits on its gang's own deposit addresses (truth's cash-outs, or a "
    "service address only the gang's wallets paid)",
)
def freeze_value_precision(w: World) -> float | None:
    own = gang_own(w)
    asked = _requested(w)
    total = sum(a for _, _, a in asked)
    if not total:
        return None
    return sum(a for t, d, a in asked if d in own.get(t, set())) / total


@figure(
    "freeze_value_at_exchanges",
    text="share of that value on the gang's deposits at exchanges (truth's cash-outs); the "
    "rest of the gang's own is at an unnamed custodial mixer's order addresses",
)
def freeze_value_at_exchanges(w: World) -> float | None:
    truth = {w.norm(c["deposit_address"]) for c in w.truth["cashouts"]}
    asked = _requested(w)
    total = sum(a for _, _, a in asked)
    if not total:
        return None
    return sum(a for _, d, a in asked if d in truth) / total


@figure(
    "freeze_recall",
    goal=(">=", 0.9),
    text="the gangs' true deposit addresses fed on chain from their own wallets and swept "
    "by the end (those trace_recall counts), requested by a freeze request",
)
def freeze_recall(w: World) -> float | None:
    true = true_deposits(w, ("peel",), swept=True)
    if not true:
        return None
    asked = {d for _, d, _ in _requested(w)}
    return len(true & asked) / len(true)


@figure(
    "freeze_innocent_asked",
    goal=("<=", 0.0),
    text="requested deposit addresses that are not their campaign's gang's own (someone "
    "else's money reached them: a customer asked in error)",
)
def freeze_innocent_asked(w: World) -> float | None:
    own = gang_own(w)
    asked = {(t, d) for t, d, _ in _requested(w)}
    return float(sum(d not in own.get(t, set()) for t, d in asked))


@figure(
    "freeze_customers_asked",
    text="requested deposit addresses that are no gang's own at all (not a cash-out of any "
    "campaign, not paid only by one gang's wallets): freeze_innocent_asked less the other "
    "gang's deposits a campaign linked across two gangs asks",
)
def freeze_customers_asked(w: World) -> float | None:
    cashouts = {w.norm(c["deposit_address"]) or "" for c in w.truth["cashouts"]}
    gangs = {c["operator"] for c in w.truth["campaigns"]}
    asked = {d for _, d, _ in _requested(w)}
    paid = payers(w, asked - cashouts)
    one_gang = {d for d, who in paid.items() if len(who) == 1 and who <= gangs}
    return float(len(asked - cashouts - one_gang))


# -- figures of screening (one taint semantics with the tracer) -----------------------------
def screening(w: World) -> dict[str, Any]:
    """A partner's TagPack names the ransomware gang's payment addresses the victims
    reported (what a campaign share sends); the screening index is built; the gang's true
    deposit addresses fed on chain (not out of a custodial mixer) and every ordinary
    user's address are screened (memoised: risk and reasons per address)."""

    def run() -> dict[str, Any]:
        from fundtrail.chainstore.tags import Tag, TagStore, tags_table
        from fundtrail.screen.build import build_index
        from fundtrail.screen.index import IndexCache
        from fundtrail.screen.scoring import Rules
        from fundtrail.screen.verdicts import MAX_BATCH, ScreenItem, answer

        ransom = [c for c in w.truth["campaigns"] if c["kind"] == "ransomware"]
        if not ransom:
            return {}
        camp = ransom[0]
        known = camp["collection_addresses"]
        tags = [Tag(w.code, a, "ransomware gang (partner)", "ransomware", "partner", 90)
                for a in known]  # fmt: skip
        TagStore(w.home).replace("forensics-partner", tags_table(tags))
        w._timed("screen_build", lambda: build_index(w.home, force=True, alerts=False))
        index = IndexCache(w.home).get()
        fed = sorted(true_deposits(w, ("peel",), "ransomware"))
        mixed = sorted(true_deposits(w, ("coinjoin",), "ransomware") - set(fed))
        users = sorted({a for e in w.truth["entities"] if e["kind"] == "user"
                        for a in e["addresses"]})  # fmt: skip

        def screen(addresses: list[str]) -> list[dict[str, Any]]:
            out: list[dict[str, Any]] = []
            for k in range(0, len(addresses), MAX_BATCH):
                items = [ScreenItem(w.code, a) for a in addresses[k : k + MAX_BATCH]]
                out += answer(index, items, viewer_org="forensics", rules=Rules())
            return out

        return {"fed": screen(fed), "coinjoin": screen(mixed), "users": screen(users)}

    return w.once("screening", run)


def _exposed(hit: dict[str, Any], category: str) -> bool:
    return hit["risk"] != "none" and any(r["category"] == category for r in hit["reasons"])


@figure(
    "screen_ransom_recall",
    goal=(">=", 0.9),
    text="deposit addresses the ransomware gang fed from its own wallets (peel chains), "
    "screened exposed (a partner shares the payment addresses its victims reported)",
)
def screen_ransom_recall(w: World) -> float | None:
    fed = screening(w).get("fed")
    if not fed:
        return None
    return sum(_exposed(h, "ransomware") for h in fed) / len(fed)


@figure(
    "screen_ransom_recall_coinjoin",
    text="deposit addresses fed only with coins the gang took out of CoinJoins, screened "
    "exposed (a CoinJoin passes exposure in proportion: mostly below the 0.1% noise floor)",
)
def screen_ransom_recall_coinjoin(w: World) -> float | None:
    fed = screening(w).get("coinjoin")
    if not fed:
        return None
    return sum(_exposed(h, "ransomware") for h in fed) / len(fed)


@figure(
    "screen_ransom_hops_median",
    text="median hops named in those deposits' ransomware reasons (peel chains count as one)",
)
def screen_ransom_hops(w: World) -> float | None:
    hops = [r["hops"] for h in screening(w).get("fed", []) for r in h["reasons"]
            if r["category"] == "ransomware" and r.get("hops") is not None]  # fmt: skip
    return float(statistics.median(hops)) if hops else None


@figure(
    "screen_users_high",
    goal=("<=", 0.01),
    text="ordinary users' addresses screened high or severe",
)
def screen_users_high(w: World) -> float | None:
    users = screening(w).get("users")
    if not users:
        return None
    return sum(h["risk"] in ("high", "severe") for h in users) / len(users)


# -- memory of each command ----------------------------------------------------------------
@figure(
    "command_peak_rss_mib",
    goal=("<=", 2048),
    goal_from_txs=1_000_000,
    text="peak RSS (MiB) of the largest of the commands run as their own processes "
    "(simulate, ingest, tags import, cluster, trace --from-complaints, screen index build, "
    "complaints import, campaigns, campaign show, campaign freeze; --processes only)",
)
def command_peak_rss(w: World) -> float | None:
    if not w.processes:
        return None
    w.once("measure_commands", w.measure_commands)
    return max(w.rss.values())


# -- the harness ----------------------------------------------------------------------------
Row = dict[str, Any]


def run_world(style: str, seed: int, txs: int, order: Order, work: Path, names: list[str],
              processes: bool = False, chain: str = "btc") -> Row:  # fmt: skip
    root = Path(tempfile.mkdtemp(prefix=f"{chain}-{style}-{seed}-{txs}-{order}-", dir=work))
    row: Row = {"chain": chain, "style": style, "seed": seed, "txs": txs, "order": order,
                "root": str(root)}  # fmt: skip
    w = World(style, seed, txs, order, root, processes, chain).build()
    for name in names:
        try:
            row[name] = FIGURES[name].fn(w)
        except Exception as exc:  # a figure that breaks is reported, the others still run
            row[name] = None
            row.setdefault("errors", {})[name] = f"{type(exc).__name__}: {exc}"
    row["seconds"] = {k: round(v, 2) for k, v in w.seconds.items()}
    if w.rss:
        row["rss_mib"] = {k: round(v) for k, v in w.rss.items()}
    if w.notes:
        row["notes"] = w.notes
    return row


def summarise(rows: list[Row], names: list[str]) -> list[Row]:
    """Per figure and size: worlds counted, min, median, max, goal, met."""
    out = []
    for name in names:
        fig = FIGURES[name]
        for txs in sorted({r["txs"] for r in rows}):
            values = [r[name] for r in rows if r["txs"] == txs and r.get(name) is not None]
            if not values:
                continue
            lo, med, hi = min(values), statistics.median(values), max(values)
            met = None
            if fig.goal is not None and txs >= fig.goal_from_txs:
                op, target = fig.goal
                met = lo >= target if op == ">=" else hi <= target
            out.append({"figure": name, "txs": txs, "worlds": len(values), "min": lo,
                        "median": med, "max": hi, "goal": fig.goal, "met": met})  # fmt: skip
    return out


def table(summary: list[Row]) -> str:
    """The summary as a Markdown table (what is printed and what the docs quote)."""
    lines = ["| figure | txs | worlds | min | median | max | goal | met |",
             "|---|---:|---:|---:|---:|---:|---|---|"]  # fmt: skip
    for s in summary:
        goal = f"{s['goal'][0]} {s['goal'][1]:g}" if s["goal"] else ""
        met = {True: "yes", False: "**no**", None: ""}[s["met"]]
        lines.append(f"| {s['figure']} | {s['txs']:,} | {s['worlds']} | {s['min']:.4g} "
                     f"| {s['median']:.4g} | {s['max']:.4g} | {goal} | {met} |")  # fmt: skip
    return "\n".join(lines)


def main() -> None:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--sizes", default="5000", help="comma-separated chain sizes (txs)")
    p.add_argument("--seeds", type=int, default=20, help="seeds per size, spread over styles")
    p.add_argument("--first-seed", type=int, default=1)
    p.add_argument("--styles", default="all", help=f"comma list of {', '.join(STYLES)} or all")
    p.add_argument("--orders", default="both", help="tags-first, tags-after or both")
    p.add_argument("--figures", default="all", help="comma list of figure names or all")
    p.add_argument("--work", type=Path, default=None, help="folder for the worlds (temp)")
    p.add_argument("--keep", action="store_true", help="keep the worlds on disk")
    p.add_argument("--chain", default="btc", choices=("btc", "evm", "tron"),
                   help="the simulator's chain (evm, tron: the account economy's styles)")  # fmt: skip
    p.add_argument("--processes", action="store_true",
                   help="run each step as its own fundtrail process and keep its peak RSS")  # fmt: skip
    p.add_argument("--json", type=Path, default=None, help="also write every row here")
    p.add_argument("--name", default="forensics",
                   help="record name (bench/results/NAME.json), e.g. forensics-50k")  # fmt: skip
    add_record_flag(p)
    args = p.parse_args()
    styles = list(STYLES) if args.styles == "all" else args.styles.split(",")
    if args.chain != "btc" and args.styles == "all":
        styles = list(EVM_STYLES if args.chain == "evm" else TRON_STYLES)
    if args.chain != "btc" and args.processes:
        sys.exit("--processes runs the Bitcoin steps only")
    orders: list[Order] = list(ORDERS) if args.orders == "both" else [args.orders]  # type: ignore[list-item]
    names = list(FIGURES) if args.figures == "all" else args.figures.split(",")
    unknown = [n for n in names if n not in FIGURES] + [s for s in styles if s not in STYLES]
    if unknown:
        sys.exit(f"unknown figure or style: {', '.join(unknown)}")
    data = (
        f"{'investment-scam' if args.chain == 'tron' else 'mixed'} simulation ({args.chain}), sizes {args.sizes} txs, {args.seeds} seeds from "
        f"{args.first_seed} over styles {', '.join(styles)}, orders {', '.join(orders)}"
    )
    with recording(args.name, args.record, data=data) as rec:
        summary = run_all(args, styles, orders, names)
        text = table(summary)
        print(text)
        print()
        for name in names:
            print(f"- {name}: {FIGURES[name].text}")
        rec.table("goals", text)
        for s in summary:
            if s["met"] is not None:
                key = f"{s['figure']}_{s['txs']}"
                worst = s["min"] if s["goal"][0] == ">=" else s["max"]
                shown = f"{worst:,.0f}" if abs(worst) >= 100 else f"{worst:.3g}"
                rec.figure(key, worst, shown, f"{FIGURES[s['figure']].text} (worst world)")
        failed = [s["figure"] for s in summary if s["met"] is False]
        print("\ngoals met" if not failed else f"\ngoals NOT met: {', '.join(sorted(set(failed)))}")


def run_all(args: argparse.Namespace, styles: list[str], orders: list[Order],
            names: list[str]) -> list[Row]:  # fmt: skip
    """Every world of the run, printed as it finishes; the summary."""
    work = Path(tempfile.mkdtemp(prefix="forensics-", dir=args.work))
    rows: list[Row] = []
    began = time.perf_counter()
    print(f"load average at start: {os.getloadavg()[0]:.2f}", flush=True)
    try:
        for txs in (int(s) for s in args.sizes.split(",")):
            for k in range(args.seeds):
                seed, style = args.first_seed + k, styles[k % len(styles)]
                for order in orders:
                    row = run_world(style, seed, txs, order, work, names, args.processes,
                                    args.chain)  # fmt: skip
                    rows.append(row)
                    shown = {n: row[n] for n in names if row.get(n) is not None}
                    if "rss_mib" in row:
                        print(f"  peak RSS MiB per command: {row['rss_mib']}", flush=True)
                    print(f"{args.chain} {style} seed {seed} {txs:,} txs {order}: {shown}"
                          f"{' errors: ' + str(row['errors']) if 'errors' in row else ''}",
                          flush=True)  # fmt: skip
                    for name, lines in row.get("notes", {}).items():
                        print("\n".join(f"    {name}: {line}" for line in lines), flush=True)
                    if not args.keep:
                        shutil.rmtree(row["root"], ignore_errors=True)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    summary = summarise(rows, names)
    print(f"\n{len(rows)} worlds in {time.perf_counter() - began:.0f} s, "
          f"load average {os.getloadavg()[0]:.2f}\n")  # fmt: skip
    if args.json:
        args.json.write_text(json.dumps({"rows": rows, "summary": summary}, indent=1))
    return summary


if __name__ == "__main__":
    main()
