"""Campaign linking at scale: complaints import plus linking against the whole ingest.

The issue's world: ``simulate --scenario mixed --seed 3 --txs N`` (default 200,000; the
goal is stated at 1,000,000). Each step is one ``fundtrail`` process, timed, with its
peak RSS: ingest, tags import, cluster, then ``complaints import`` (which imports and
links). ``cluster`` leaves the trace arrays built (linking reads them); their share of its
time is printed beside it. The campaigns are compared with the simulator's truth: how many, and whether
each true campaign's complaints and total loss came out exactly as one campaign.

Goals (issue 14, item 4): the simulator's campaigns exactly; complaints import + linking
at most half the ingest's time; under 2 GB. The ratio is of two processes of the same
run on the same machine; ``uptime`` is printed at the start and the end.

    flock /work/coord/bench.lock python bench/linking.py --txs 200000
"""

from __future__ import annotations

import argparse
import csv
import json
import shutil
import sys
from collections import Counter
from pathlib import Path

from _record import add_record_flag, recording
from scale import ROOT, run, uptime


def unmoved(home: Path, complaints: Path) -> set[str]:
    """Complaints whose payment the gang never spent by the chain's end: nothing on
    chain links them to anyone, so no linking can join them (shown, not hidden)."""
    import numpy as np

    from fundtrail.analysis.trace.graph import utxo_graph
    from fundtrail.chainstore.store import ChainStore

    g = utxo_graph(ChainStore("btc", home))
    con = g.cursor()
    rows = con.execute("SELECT txid, tx_id FROM txs").fetchall()
    ids = {t: i for t, i in rows}
    out = set()
    with open(complaints, newline="") as fh:
        rows_csv = list(csv.DictReader(fh))
    for c in rows_csv:
        if c["txid"] in ids and c["vout"] != "":
            pos = int(g.position(np.array([ids[c["txid"]]]))[0])
            if g.out_spent[g.output_index(pos, int(c["vout"]))] < 0:
                out.add(c["complaint_id"])
    return out


def compare(
    truth: dict, campaigns: list[dict], members: dict[str, set[str]], still: set[str]
) -> list[str]:
    """One line per true campaign: exact, or how it came out."""
    lines = []
    for t in truth["campaigns"]:
        want = set(t["complaint_ids"])
        holding = Counter({cid: len(refs & want) for cid, refs in members.items() if refs & want})
        (best, _n), *_ = holding.most_common(1) or [("-", 0)]
        found = next((c for c in campaigns if c["id"] == best), None)
        exact = len(holding) == 1 and members.get(best) == want
        exact = exact and found is not None and found["total_loss"] == t["total_loss"]
        parts = ", ".join(str(v) for _, v in holding.most_common(6))
        alone = [cid for cid, n in holding.items() if cid != best and members[cid] <= still]
        why = (f"; {sum(holding[c] for c in alone)} of them alone because their ransom "
               "never moved (no on-chain link)") if alone else ""  # fmt: skip
        lines.append(
            f"{t['id']} ({t['kind']}, {len(want)} complaints): "
            + ("exact" if exact else f"split into {len(holding)} campaigns ({parts}){why}")
        )
    return lines


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--txs", type=int, default=200_000)
    ap.add_argument("--seed", type=int, default=3)
    ap.add_argument("--work", type=Path, default=Path("/tmp/fundtrail-linking"))
    add_record_flag(ap)
    a = ap.parse_args()
    data = f"simulate --scenario mixed --seed {a.seed} --txs {a.txs:,}"
    with recording("linking", a.record, data=data) as rec:
        sys.path.insert(0, str(ROOT / "src"))
        from fundtrail.chains.simulate.service import run as simulate

        shutil.rmtree(a.work, ignore_errors=True)
        sim, home = a.work / "sim", a.work / "ws"
        print(f"== linking bench: {data}; {uptime()}")
        simulate("mixed", sim, seed=a.seed, txs=a.txs)
        truth = json.loads((sim / "truth.json").read_text())
        steps = {
            "ingest": ["ingest", "bitcoin", str(sim / "blocks")],
            "tags import": ["tags", "import", str(sim / "tags.yaml")],
            "cluster": ["cluster", "--json"],
            "complaints import + link": ["complaints", "import", str(sim / "complaints.csv")],
        }
        took: dict[str, tuple[float, float]] = {}
        for name, args in steps.items():
            seconds, rss, out = run(args, home)
            took[name] = (seconds, rss)
            print(f"{name:28s} {seconds:8.1f} s  peak {rss:8.0f} MiB")
            if name == "cluster":  # it leaves the trace arrays linking walks built: say so
                start = out.find("{\n")  # the report (anything printed before it is shown)
                if start > 0:
                    print(f"  (cluster printed before its JSON: {out[:start].strip()[:200]!r})")
                arrays = json.loads(out[max(start, 0) :]).get("trace_arrays_seconds", 0.0)
                print(f"  (of which building the trace arrays that linking and trace read: "
                      f"{arrays:.1f} s)")  # fmt: skip
        _, _, out = run(["campaigns", "--operator", "--json"], home)
        campaigns = json.loads(out)
        members: dict[str, set[str]] = {}
        reasons: Counter[str] = Counter()
        conflicts = 0
        for c in campaigns:
            _, _, out = run(["campaign", "show", c["id"], "--operator", "--json"], home)
            shown = json.loads(out)
            members[c["id"]] = {p["ref"] for p in shown["payments"]}
            reasons.update(
                f"same-contact ({lk['detail']})" if lk["reason"] == "same-contact" else lk["reason"]
                for lk in shown["links"]
            )
            conflicts += len(shown["contact_conflicts"])
        lines = compare(truth, campaigns, members, unmoved(home, sim / "complaints.csv"))
        ratio = took["complaints import + link"][0] / took["ingest"][0]
        peak = took["complaints import + link"][1]
        print(f"campaigns: {len(campaigns)} linked, {len(truth['campaigns'])} in the truth")
        by_contact = sum(n for r, n in reasons.items() if r.startswith("same-contact"))
        chain = sum(reasons.values()) - by_contact
        print(f"links: {chain} from the chain, {by_contact} from reported contacts; "
              + ", ".join(f"{r} {n}" for r, n in sorted(reasons.items())))  # fmt: skip
        print(f"contact conflicts (shared by campaigns kept apart, not merged): {conflicts}")
        for line in lines:
            print("  " + line)
        print(f"complaints import + link / ingest: {ratio:.2f} (goal <= 0.5); "
              f"peak {peak:.0f} MiB (goal < 2048)")  # fmt: skip
        rec.figure("link_vs_ingest", ratio, f"{ratio:.2f}×", "complaints import + link / ingest")
        rec.figure("link_peak_mib", peak, f"{peak:.0f} MiB", "peak RSS of complaints import")
        rec.figure("contact_links", by_contact, str(by_contact), "links from reported contacts")
        rec.figure("chain_links", chain, str(chain), "links from the chain")
        rec.figure("contact_conflicts", conflicts, str(conflicts), "contact conflicts shown")
        exact = sum(line.endswith("exact") for line in lines)
        rec.figure("exact", exact, f"{exact} of {len(lines)}", "true campaigns linked exactly")
        print(uptime())


if __name__ == "__main__":
    main()
