"""`fundtrail campaigns` (list, link) and `fundtrail campaign show|trace|freeze|report|share`."""

from __future__ import annotations

from pathlib import Path

import typer

from fundtrail.cli.common import JsonOpt, OperatorOpt, console, emit, progress, table
from fundtrail.model import display

campaigns_app = typer.Typer(help="Campaigns (scams, ransomware, ...) linked from complaints.")
campaign_app = typer.Typer(
    help="One campaign: show, trace, freeze, report, share.", no_args_is_help=True
)
OrgOpt = typer.Option(None, "--org", help="Read with this organisation's rights.")
MethodOpt = typer.Option("haircut", "--method", help="Taint method: haircut, poison or fifo.")
HopsOpt = typer.Option(10, "--hops", help="Hop limit of the forward trace.")


def _units(amounts: dict[str, int], chains: list[str] | None = None) -> str:
    """Per-asset totals in each asset's units (a symbol is read on the campaign's one chain)."""
    chain = chains[0] if chains and len(chains) == 1 else None
    return display.amounts(amounts, chain=chain)


@campaigns_app.callback(invoke_without_command=True)
def campaigns(
    ctx: typer.Context,
    org: str | None = OrgOpt,
    operator: bool = OperatorOpt,
    as_json: bool = JsonOpt,
) -> None:
    """List campaigns (id, complaints, victims, total loss, first/last seen, cash-outs)."""
    if ctx.invoked_subcommand is not None:
        return
    from fundtrail.cases.service import campaigns_list

    def render(rows: list[dict]) -> None:
        out = table(
            "id",
            "complaints",
            "victims",
            "total loss",
            "first seen",
            "last seen",
            "addresses",
            "cash-out exchanges",
        )
        for r in rows:
            out.add_row(
                r["id"],
                str(r["complaints"]),
                str(r["victims"]),
                _units(r["total_loss"], r["chains"]),
                display.time_utc(r["first_seen"]),
                display.time_utc(r["last_seen"]),
                str(len(r["addresses"])),
                ", ".join(sorted({c["exchange"] for c in r["cashouts"]})),
            )
        console.print(out)

    emit(campaigns_list(org, operator=operator), as_json, render)


@campaigns_app.command("link")
def link(
    method: str = MethodOpt,
    hops: int = HopsOpt,
    no_trace: bool = typer.Option(False, "--no-trace", help="Link by address and cluster only."),
    as_json: bool = JsonOpt,
) -> None:
    """Re-link every confirmed complaint into campaigns (after new complaints or blocks)."""
    from fundtrail.cases.service import relink

    data = relink(method=method, hops=hops, trace=not no_trace)
    emit(
        data,
        as_json,
        lambda d: console.print(
            f"{d['complaints_linked']} complaint(s) in {d['campaigns']} campaign(s); "
            f"{len(d['created'])} new, {len(d['merged'])} merged"
            + "".join(f"\n{n}" for n in d["notes"])
        ),
    )


@campaign_app.command("show")
def show(
    campaign_id: str,
    org: str | None = OrgOpt,
    operator: bool = OperatorOpt,
    as_json: bool = JsonOpt,
) -> None:
    """One campaign: totals, payments, why each complaint belongs, cash-outs."""
    from fundtrail.cases.service import campaign_show

    def render(d: dict) -> None:
        console.print(
            f"[bold]{d['id']}[/bold]  {d['complaints']} complaints, {d['victims']} victims, "
            f"loss {_units(d['total_loss'], d['chains'])}, "
            f"{display.time_utc(d['first_seen'])} .. {display.time_utc(d['last_seen'])}"
            + (f"  case {d['case_reference']}" if d["case_reference"] else "")
        )
        t = table("complaint", "victim", "paid (UTC)", "to address", "amount", "txid")
        for p in d["payments"]:
            t.add_row(
                p["ref"] or p["id"],
                p["victim"] or "",
                display.time_utc(p["paid_at"]),
                p["to_address"],
                display.amount(p["amount"], p["asset"], chain=p["chain"]),
                p["txid"],
            )
        console.print(t)
        if d.get("pending"):
            refs = ", ".join(f"{p['ref'] or p['id']} ({p['org']})" for p in d["pending"])
            console.print(f"pending the case lead's acceptance, not counted: {refs}")
        lt = table("complaint", "joined via", "reason", "evidence")
        for lk in d["links"]:
            value = f" {lk['value']}" if lk.get("value") else ""
            lt.add_row(lk["b"], lk["a"], lk["reason"], lk["detail"] + value)
        console.print(lt)
        for c in d.get("contact_conflicts", []):
            value = f" {c['value']}" if c.get("value") else ""
            console.print(
                f"[yellow]contact conflict[/yellow]: a reported {c['detail']}{value} of "
                f"{len(c['complaints'])} complaint(s) here is also reported in "
                f"{', '.join(c['campaigns'])}; not merged: {c['why']}"
            )
        for c in d.get("deposit_conflicts", []):
            console.print(
                f"[yellow]deposit conflict[/yellow]: deposit address {c['deposit']} also took "
                f"the money of {', '.join(c['campaigns'])}; not merged: {c['why']}"
            )

    emit(campaign_show(campaign_id, org, operator=operator), as_json, render)


@campaign_app.command("trace")
def trace(
    campaign_id: str,
    method: str = MethodOpt,
    hops: int = HopsOpt,
    org: str | None = OrgOpt,
    operator: bool = OperatorOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Forward trace from every victim payment: cash-out points per exchange."""
    from fundtrail.cases.service import campaign_trace

    def render(d: dict) -> None:
        console.print(
            f"campaign [bold]{d['campaign']}[/bold]: loss {_units(d['total_loss'], _chains(d))}, "
            f"method {d['params']['method']}, {d['params']['hops']} hops"
        )
        t = table("exchange", "deposit address", "amount", "txid", "time (UTC)", "frozen")
        for name, ex in d["exchanges"].items():
            for dep in ex["deposits"]:
                f = dep.get("frozen")
                t.add_row(
                    name,
                    dep["deposit_address"] or dep["address"],
                    display.amount(dep["amount"], dep["asset"], chain=dep["chain"]),
                    dep["txid"] or "",
                    display.time_utc(dep["time"]),
                    f"by {f['by']}" if f else "",
                )
        console.print(t)
        for name, ex in d["exchanges"].items():
            if ex.get("frozen"):
                marked = {x["deposit_address"] for x in ex["deposits"] if x.get("frozen")}
                console.print(
                    f"frozen at {name}, as answered to your requests: "
                    f"{display.amounts(ex['frozen'])} at {len(marked)} deposit address(es)"
                )

    emit(
        campaign_trace(campaign_id, method=method, hops=hops, org=org, operator=operator),
        as_json,
        render,
    )


@campaign_app.command("freeze")
def freeze(
    campaign_id: str,
    method: str = MethodOpt,
    hops: int = HopsOpt,
    org: str | None = OrgOpt,
    operator: bool = OperatorOpt,
    as_json: bool = JsonOpt,
) -> None:
    """The freeze requests the case file would hold: each deposit with its evidence
    (amount, share of the loss, what it received, FIFO beside haircut, confidence), and
    what was left out and why."""
    from fundtrail.cases.service import campaign_freeze

    def render(d: dict) -> None:
        console.print(f"campaign [bold]{d['campaign']}[/bold]: {d['threshold']['rule']}")
        t = table("exchange", "deposit address", "amount", "share", "of received",
                  "confidence", "note")  # fmt: skip
        for r in d["requests"]:
            for dep in r["deposits"]:
                t.add_row(r["exchange"], dep["deposit_address"],
                          display.amount(dep["amount"], dep["asset"], chain=dep["chain"]),
                          f"{dep['share']:.2%}", f"{dep['share_of_received']:.0%}",
                          str(dep["confidence"]), dep["note"] or "")  # fmt: skip
        console.print(t)
        if d["left_out"]:
            lt = table("left out", "amount", "share", "why")
            for x in d["left_out"]:
                lt.add_row(x["address"] or f"({x['exchange']}, several)",
                           display.amount(x["amount"], x["asset"], chain=x["chain"]),
                           f"{x['share']:.2%}", x["reason"])  # fmt: skip
            console.print(lt)

    data = campaign_freeze(campaign_id, method=method, hops=hops, org=org, operator=operator)
    emit(data, as_json, render)


@campaign_app.command("report")
def report(
    campaign_id: str,
    out: Path = typer.Option(..., "-o", "--out", help="Folder for the case file."),
    tlp: str = typer.Option("amber", "--tlp", help="TLP of the report and indicators."),
    method: str = MethodOpt,
    hops: int = HopsOpt,
    org: str | None = OrgOpt,
    operator: bool = OperatorOpt,
    analyst: str | None = typer.Option(None, "--analyst", help="Analyst who attests the file."),
    contact: str | None = typer.Option(None, "--contact", help="Contact for the exchanges."),
    legal_basis: str | None = typer.Option(None, "--legal-basis", help="Legal basis cited."),
    deadline_days: int | None = typer.Option(None, "--deadline-days", help="Days to answer."),
    as_json: bool = JsonOpt,
) -> None:
    """Write a new version OUT/vN: report.html/.pdf, freeze requests per exchange,
    indicators.stix.json, SHA256SUMS (OUT/latest points to it; earlier versions stay).

    --analyst, --contact, --legal-basis and --deadline-days override the organisation's
    case profile (`fundtrail case-profile ORG`)."""
    from fundtrail.cases.service import campaign_report

    profile = {"analyst": analyst, "contact": contact, "legal_basis": legal_basis,
               "deadline_days": deadline_days}  # fmt: skip
    from fundtrail.cases.report import REPORT_STEPS

    with progress(as_json) as bar:
        task = bar.add_task("case file", total=REPORT_STEPS, info="")
        started: list[str] = []

        def step(name: str) -> None:  # a step begins: the ones before it are done
            bar.update(task, completed=len(started), info=name)
            started.append(name)

        data = campaign_report(campaign_id, out, tlp=tlp, method=method, hops=hops, org=org,
                               operator=operator, profile=profile, progress=step)  # fmt: skip
        bar.update(task, completed=REPORT_STEPS, info="done")

    def render(d: dict) -> None:
        chains = d.get("chains")
        console.print(f"case {d['case_reference']}: loss {_units(d['total_loss'], chains)}")
        for exchange, totals in d["freeze_requests"].items():
            console.print(f"  freeze request to {exchange}: {_units(totals, chains)}")
        console.print(f"{len(d['files'])} files in {d['out']} (version {d['version']})")
        for f in d["files"]:
            console.print(f"  {f}")

    emit(data, as_json, render)


@campaign_app.command("accept")
def accept(
    campaign_id: str,
    complaints: list[str] = typer.Argument(..., help="Ids of complaints pending in the case."),
    org: str | None = typer.Option(None, "--org", help="The organisation leading the case."),
    operator: bool = OperatorOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Accept complaints of organisations not on the case into it (the lead decides what
    its case counts); until then they are listed as pending and counted nowhere."""
    from fundtrail.cases.service import campaign_accept

    def render(d: dict) -> None:
        console.print(f"case {d['case_reference']}: {len(d['accepted'])} complaint(s) accepted, "
                      f"{d['complaints']} counted, {len(d['pending'])} still pending")  # fmt: skip

    emit(campaign_accept(campaign_id, complaints, org, operator=operator), as_json, render)


@campaign_app.command("share")
def share(
    campaign_id: str,
    with_: list[str] = typer.Option(..., "--with", help="Organisation to put on the case."),
    owner: str | None = typer.Option(None, "--owner", help="Organisation leading the case."),
    category: str = typer.Option("scam", "--category", help="Category of the shared addresses."),
    operator: bool = OperatorOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Open the campaign's case (if needed), add organisations to it, and share the
    campaign's collection and cash-out deposit addresses with everyone on the case
    (TLP:AMBER indicators of the lead organisation: their screening flags them at once)."""
    from fundtrail.cases.service import campaign_share

    def render(d: dict) -> None:
        ind = d["indicators"]
        console.print(f"case {d['case_reference']}: {', '.join(d['orgs'])}")
        if d["note"]:
            console.print(d["note"])
        else:
            n, m = len(ind["collection"]), len(ind["deposits"])
            console.print(f"shared as {d['lead']} (TLP:AMBER): {n} collection, {m} cash-out "
                          "deposit address(es)")  # fmt: skip

    emit(campaign_share(campaign_id, with_, owner, operator=operator, category=category),
         as_json, render)  # fmt: skip


def _chains(d: dict) -> list[str]:
    return sorted({c["chain"] for c in d.get("cashouts", [])})


def register(app: typer.Typer) -> None:
    app.add_typer(campaigns_app, name="campaigns")
    app.add_typer(campaign_app, name="campaign")
