"""The forensic figures on independent worlds (issue 14: "build for the behaviours").

``bench/forensics.py`` measures on the project's own simulator. This runs the same
judgements on worlds from ``bench/indep_world.py``, a generator written apart from it
with other habits, through the real command line only (``ingest bitcoin``, ``tags
import``, ``cluster`` in both orders, ``trace --from-complaints --json``, ``complaints
import``, ``campaigns --json``, ``campaign show/freeze --json``, ``org add``, ``intel import``, ``screen index build``,
``screen ... --org --json``)::

    python bench/independent.py                  # 10 seeds x both orders, ~4k txs each
    python bench/independent.py --seeds 20 --txs 8000 --keep --work /tmp/indep
    python bench/independent.py --record         # bench/results/independent.json

Figures (the goals are issue 14's, on the worst world):
- trace_recall: the gangs' deposit addresses fed from their own wallets (no CoinJoin on
  the way) and swept by their exchange, named as cash-outs by the forward trace;
- trace_recall_coinjoin: the same for deposits fed only out of the ransomware's CoinJoin
  (informative: a CoinJoin passes taint in proportion);
- freeze_value_precision / freeze_recall / freeze_innocent_asked: ``campaign freeze`` on
  every linked campaign, judged on truth (a deposit is the gang's own when it is a true
  cash-out of that campaign or only that gang ever paid it);
- campaigns_exact: ``campaign_match.judge`` against truth;
- screen_ransom_recall: the ransomware gang's deposit addresses fed from its own wallets
  (peel chains, swept or not), screened exposed by an exchange: risk above none with a
  ransomware reason, as ``bench/forensics.py`` counts it;
- screen_ransom_recall_coinjoin: the same for deposits fed only out of its CoinJoin
  (informative); screen_ransom_hops_median: the hops those reasons name (informative);
- screen_ordinary_high: the share of ordinary users' addresses (every address of a
  ``user-*`` entity: victims and CoinJoin participants too) screened high or severe.

What the screen knows is what a partner has after the victims report: a police org
(``org add --kind law-enforcement``) imports the addresses the ransomware's victims say
they paid (the ``to_address`` of their rows in complaints.csv) as ransomware indicators,
TLP:GREEN (``intel import --format csv``), and nothing of the gang's later wallets or
deposits; an exchange org screens as itself. ``campaign share`` is not used for this
figure: it also shares the deposits the freeze plan requests, so the deposits would be
direct hits and the figure would measure the tracer, not the screening's exposure.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import statistics
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from _record import add_record_flag, recording
from campaign_match import Linked, judge
from indep_world import generate

GOALS: dict[str, tuple[str, float] | None] = {
    "trace_recall": (">=", 0.95),
    "trace_recall_coinjoin": None,
    "freeze_value_precision": (">=", 0.9),
    "freeze_recall": (">=", 0.9),
    "freeze_innocent_asked": ("<=", 0.0),
    "campaigns_exact": (">=", 1.0),
    "screen_ransom_recall": (">=", 0.9),
    "screen_ransom_recall_coinjoin": None,
    "screen_ransom_hops_median": None,
    "screen_ordinary_high": ("<=", 0.01),
}
POLICE, EXCHANGE = "Indep Police", "Indep Exchange"  # the orgs of the screening step


def cli(args: list[str]) -> str:
    """One ``fundtrail`` command in this process (the CLI's own click tree); its stdout."""
    from click.testing import CliRunner

    from fundtrail.cli.main import command

    res = CliRunner().invoke(command(), args, catch_exceptions=False)
    if res.exit_code:
        raise RuntimeError(f"fundtrail {' '.join(args)}: exit {res.exit_code}: {res.output[-500:]}")
    return res.stdout


def run_world(seed: int, txs: int, order: str, root: Path,
              hot_consolidation: bool = True) -> dict[str, Any]:  # fmt: skip
    from fundtrail.settings import reset_settings

    sim, home = root / "sim", root / "home"
    truth = generate(seed, txs, sim, hot_consolidation)
    os.environ["FUNDTRAIL_HOME"] = str(home)
    reset_settings()
    seconds: dict[str, float] = {}

    def timed(name: str, args: list[str]) -> str:
        t = time.process_time()
        out = cli(args)
        seconds[name] = round(seconds.get(name, 0) + time.process_time() - t, 2)
        return out

    timed("ingest", ["ingest", "bitcoin", str(sim / "blocks"), "--quiet"])
    steps = [("tags", ["tags", "import", str(sim / "tags.yaml"), "--quiet"]),
             ("cluster", ["cluster", "--quiet"])]  # fmt: skip
    for name, args in steps if order == "tags-first" else steps[::-1]:
        timed(name, args)
    complaints = str(sim / "complaints.csv")
    trace = json.loads(timed("trace", ["trace", "--from-complaints", complaints, "--json"]))
    timed("complaints", ["complaints", "import", complaints, "--quiet"])
    camps = json.loads(timed("campaigns", ["campaigns", "--operator", "--json"]))
    linked, plans = [], []
    of = {k: c["id"] for c in truth["campaigns"] for k in c["complaint_ids"]}
    for c in camps:
        shown = json.loads(timed("show", ["campaign", "show", c["id"], "--operator", "--json"]))
        refs = frozenset(p["ref"] for p in shown["payments"])
        linked.append(Linked(c["id"], refs, {k: int(v) for k, v in c["total_loss"].items()}))
        plan = json.loads(timed("freeze", ["campaign", "freeze", c["id"], "--operator", "--json"]))
        true = Counter(of.get(r, "") for r in refs).most_common(1)
        plans.append((true[0][0] if true else "", plan))
    screened = screen_world(truth, sim, root, timed)
    row = {"seed": seed, "order": order, "txs": truth["txs"], "seconds": seconds}
    row.update(judge_world(truth, trace, linked, plans))
    row.update(judge_screening(truth, screened))
    notes = row.pop("screen_notes", [])
    if notes:
        row["notes"] = row.get("notes", []) + notes
    return row


def screen_world(truth: dict[str, Any], sim: Path, root: Path,
                 timed: Any) -> dict[str, dict[str, Any]]:  # fmt: skip
    """The ransomware victims' reported payment addresses shared as intel, the screening
    index built, and every deposit and ordinary user's address screened by an exchange
    (address -> the screen's JSON item)."""
    ransom = {
        k for c in truth["campaigns"] if c["kind"] == "ransomware" for k in c["complaint_ids"]
    }
    with open(sim / "complaints.csv", newline="") as fh:
        known = sorted({r["to_address"] for r in csv.DictReader(fh) if r["complaint_id"] in ransom})
    intel = root / "ransomware-intel.csv"
    with open(intel, "w", newline="") as fh:
        wr = csv.writer(fh)
        wr.writerow(["type", "value", "chain", "category", "confidence", "tlp", "description"])
        wr.writerows(["crypto-address", a, "BTC", "ransomware", 90, "green",
                      "paid by a ransomware victim (complaint)"] for a in known)  # fmt: skip
    timed("orgs", ["org", "add", POLICE, "--kind", "law-enforcement"])
    timed("orgs", ["org", "add", EXCHANGE, "--kind", "exchange"])
    timed("intel", ["intel", "import", str(intel), "--format", "csv", "--org", POLICE])
    timed("screen_build", ["screen", "index", "build", "--quiet"])
    wanted = sorted({c["deposit_address"] for c in truth["cashouts"]}
                    | {a for a, v in truth["addresses"].items() if _ordinary(v["entity"])})  # fmt: skip
    out: dict[str, dict[str, Any]] = {}
    for k in range(0, len(wanted), 5000):
        args = ["screen", "check", *wanted[k : k + 5000], "--org", EXCHANGE, "--json"]
        out.update((i["address"], i) for i in json.loads(timed("screen", args))["items"])
    return out


def _ordinary(entity: str) -> bool:
    return entity.startswith("user-")


def _exposed(item: dict[str, Any]) -> bool:
    """Screened exposed to the ransomware, as bench/forensics.py counts it."""
    return item["risk"] != "none" and any(r["category"] == "ransomware" for r in item["reasons"])


def judge_screening(truth: dict[str, Any], screened: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The screening figures of one world, and notes on the deposits it missed."""
    out: dict[str, Any] = {}
    ransom = {c["id"] for c in truth["campaigns"] if c["kind"] == "ransomware"}
    mine = [c for c in truth["cashouts"] if c["campaign"] in ransom]
    fed = sorted({c["deposit_address"] for c in mine if c["via"] == "peel"})
    mixed = sorted({c["deposit_address"] for c in mine if c["via"] == "coinjoin"} - set(fed))
    for key, addrs in (("screen_ransom_recall", fed), ("screen_ransom_recall_coinjoin", mixed)):
        out[key] = sum(_exposed(screened[a]) for a in addrs) / len(addrs) if addrs else None
    hops = [r["hops"] for a in fed for r in screened[a]["reasons"]
            if r["category"] == "ransomware" and r.get("hops") is not None]  # fmt: skip
    out["screen_ransom_hops_median"] = float(statistics.median(hops)) if hops else None
    users = [a for a, v in truth["addresses"].items() if _ordinary(v["entity"])]
    high = [a for a in users if screened[a]["risk"] in ("high", "severe")]
    out["screen_ordinary_high"] = len(high) / len(users) if users else None
    notes = []
    missed = [a for a in fed if not _exposed(screened[a])]
    if missed:
        risks = Counter(screened[a]["risk"] for a in missed)
        notes.append(f"screen missed {len(missed)} of {len(fed)} fed deposits: "
                     + ", ".join(f"{n} {k}" for k, n in risks.items()))  # fmt: skip
    if high:
        roles = Counter(truth["addresses"][a]["role"] for a in high)
        notes.append(f"screen put {len(high)} of {len(users)} ordinary addresses high/severe: "
                     + ", ".join(f"{n} {k}" for k, n in roles.most_common()))  # fmt: skip
    if notes:
        out["screen_notes"] = notes
    return out


def judge_world(truth: dict[str, Any], trace: dict[str, Any], linked: list[Linked],
                plans: list[tuple[str, dict[str, Any]]]) -> dict[str, Any]:  # fmt: skip
    """Every figure of one world, and notes saying what fell short."""
    out: dict[str, Any] = {}
    notes: list[str] = []
    cashouts = truth["cashouts"]
    named = {e["deposit_address"] for e in trace["endpoints"] if e["kind"] == "cash-out"}
    owner = {a: v["entity"] for a, v in truth["addresses"].items()}
    for key, via in (("trace_recall", "peel"), ("trace_recall_coinjoin", "coinjoin")):
        true = {c["deposit_address"] for c in cashouts if c["via"] == via and c["swept"]}
        if via == "coinjoin":
            true -= {c["deposit_address"] for c in cashouts if c["via"] == "peel"}
        out[key] = len(true & named) / len(true) if true else None
        missed = sorted(true - named)
        if missed and via == "peel":
            kinds = Counter(_endpoint_kind(trace, a) for a in missed)
            notes.append(f"trace missed {len(missed)} of {len(true)} deposits: "
                         + ", ".join(f"{n} {k}" for k, n in kinds.items()))  # fmt: skip
    operator = {c["id"]: c["operator"] for c in truth["campaigns"]}
    own: dict[str, set[str]] = {}
    for c in cashouts:
        own.setdefault(c["campaign"], set()).add(c["deposit_address"])
    for a, d in truth["deposits"].items():  # a deposit only that gang ever paid
        for camp, op in operator.items():
            if d["payers"] == [op]:
                own.setdefault(camp, set()).add(a)
    asked = [(t, d["deposit_address"], int(d["amount"]))
             for t, plan in plans for r in plan["requests"] for d in r["deposits"]]  # fmt: skip
    total = sum(a for _, _, a in asked)
    good = sum(a for t, d, a in asked if d in own.get(t, set()))
    out["freeze_value_precision"] = good / total if total else None
    swept = {c["deposit_address"] for c in cashouts if c["via"] == "peel" and c["swept"]}
    requested = {d for _, d, _ in asked}
    out["freeze_recall"] = len(swept & requested) / len(swept) if swept else None
    wrong = {(t, d) for t, d, _ in asked if d not in own.get(t, set())}
    out["freeze_innocent_asked"] = float(len(wrong))
    if wrong:
        role = {a: v["role"] for a, v in truth["addresses"].items()}
        who = Counter(f"{owner.get(d, '?').split('-')[0]} {role.get(d, '?')} paid by "
                      + "+".join(sorted({p.split("-")[0] for p in
                                         truth["deposits"].get(d, {}).get("payers", ["?"])}))
                      for _, d in wrong)  # fmt: skip
        notes.append(f"freeze asked {len(wrong)} addresses not the gang's own: "
                     + ", ".join(f"{n} {k}" for k, n in who.most_common()))  # fmt: skip
    outcomes = judge(truth["campaigns"], linked, set())
    out["campaigns_exact"] = float(all(o.exact for o in outcomes))
    notes += [f"campaign {o.truth_id} ({o.complaints}): {o.why}" for o in outcomes if not o.exact]
    out["linked_campaigns"] = len(linked)
    if notes:
        out["notes"] = notes
    return out


def _endpoint_kind(trace: dict[str, Any], address: str) -> str:
    """How the trace listed a deposit it did not name as a cash-out (or 'not reached')."""
    kinds = {e["kind"] for e in trace["endpoints"] if e["address"] == address}
    return "/".join(sorted(kinds)) or "not reached"


def summarise(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for name, goal in GOALS.items():
        values = [r[name] for r in rows if r.get(name) is not None]
        if not values:
            continue
        lo, hi = min(values), max(values)
        met = None if goal is None else (lo >= goal[1] if goal[0] == ">=" else hi <= goal[1])
        out.append({"figure": name, "worlds": len(values), "min": lo,
                    "median": statistics.median(values), "max": hi, "goal": goal, "met": met})  # fmt: skip
    return out


def table(summary: list[dict[str, Any]]) -> str:
    lines = ["| figure | worlds | min | median | max | goal | met |",
             "|---|---:|---:|---:|---:|---|---|"]  # fmt: skip
    for s in summary:
        goal = f"{s['goal'][0]} {s['goal'][1]:g}" if s["goal"] else ""
        met = {True: "yes", False: "**no**", None: ""}[s["met"]]
        lines.append(f"| {s['figure']} | {s['worlds']} | {s['min']:.4g} | {s['median']:.4g} "
                     f"| {s['max']:.4g} | {goal} | {met} |")  # fmt: skip
    return "\n".join(lines)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    p.add_argument("--seeds", type=int, default=10)
    p.add_argument("--first-seed", type=int, default=1)
    p.add_argument("--txs", type=int, default=4000, help="transactions per world (about)")
    p.add_argument("--orders", default="both", help="tags-first, tags-after or both")
    p.add_argument("--work", type=Path, default=None, help="folder for the worlds (temp)")
    p.add_argument("--keep", action="store_true", help="keep the worlds on disk")
    p.add_argument("--json", type=Path, default=None, help="also write every row here")
    p.add_argument("--no-hot-consolidation", action="store_true",
                   help="exchanges never spend their hot addresses together (a stress case)")  # fmt: skip
    p.add_argument("--name", default="independent", help="record name (bench/results/NAME.json)")
    add_record_flag(p)
    args = p.parse_args()
    orders = ["tags-first", "tags-after"] if args.orders == "both" else [args.orders]
    data = (f"independent worlds (bench/indep_world.py), ~{args.txs:,} txs, {args.seeds} seeds "
            f"from {args.first_seed}, orders {', '.join(orders)}"
            + (", hot addresses never spent together" if args.no_hot_consolidation else ""))  # fmt: skip
    with recording(args.name, args.record, data=data) as rec:
        work = Path(tempfile.mkdtemp(prefix="independent-", dir=args.work))
        rows = []
        began = time.perf_counter()
        print(f"load average at start: {os.getloadavg()[0]:.2f}", flush=True)
        try:
            for seed in range(args.first_seed, args.first_seed + args.seeds):
                for order in orders:
                    root = work / f"seed{seed}-{order}"
                    row = run_world(seed, args.txs, order, root, not args.no_hot_consolidation)
                    rows.append(row)
                    shown = {k: round(v, 3) for k, v in row.items()
                             if k in GOALS and v is not None}  # fmt: skip
                    print(f"seed {seed} {order} ({row['txs']} txs, {row['linked_campaigns']} "
                          f"campaigns): {shown}", flush=True)  # fmt: skip
                    for note in row.get("notes", []):
                        print(f"    {note}", flush=True)
                    if not args.keep:
                        shutil.rmtree(root, ignore_errors=True)
        finally:
            if not args.keep:
                shutil.rmtree(work, ignore_errors=True)
        print(f"\n{len(rows)} worlds in {time.perf_counter() - began:.0f} s, "
              f"load average {os.getloadavg()[0]:.2f}\n")  # fmt: skip
        summary = summarise(rows)
        text = table(summary)
        print(text)
        rec.table("goals", text)
        for s in summary:
            if s["goal"] is not None:
                worst = s["min"] if s["goal"][0] == ">=" else s["max"]
                rec.figure(s["figure"], worst, f"{worst:.3g}", f"{s['figure']} (worst world)")
        failed = [s["figure"] for s in summary if s["met"] is False]
        print("\ngoals met" if not failed else f"\ngoals NOT met: {', '.join(failed)}")
        if args.json:
            args.json.write_text(json.dumps({"rows": rows, "summary": summary}, indent=1))


if __name__ == "__main__":
    main()
