"""`fundtrail cluster`: cluster a chain's addresses; `cluster why`, `cluster show`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from fundtrail.cli.common import HomeOpt, JsonOpt, QuietOpt, console, emit, kv_table
from fundtrail.model import display
from fundtrail.model.assets import Asset, resolve

cluster_app = typer.Typer(
    help="Cluster addresses into entities (multi_input, change_address, deposit_address).",
    invoke_without_command=True,
    no_args_is_help=False,
)

ChainOpt = typer.Option("BTC", "--chain", help="Chain to cluster (BTC, ETH, BSC, ...).")


@cluster_app.callback()
def cluster(
    ctx: typer.Context,
    chain: str = ChainOpt,
    engine: str = typer.Option("embedded", "--engine", help="embedded (numba) or spark."),
    master: str | None = typer.Option(None, "--master", help="Spark master URL (--engine spark)."),
    heuristics: str | None = typer.Option(
        None,
        "--heuristics",
        help="Comma list: multi_input,change_address (UTXO) or deposit_address (account chains).",
    ),
    full: bool = typer.Option(
        False, "--full", help="Recompute instead of merging new blocks only."
    ),
    as_json: bool = JsonOpt,
    quiet: bool = QuietOpt,
    home: Path | None = HomeOpt,
) -> None:
    """Cluster CHAIN's addresses (partitions only: who a cluster is is read when asked)."""
    if ctx.invoked_subcommand is not None:
        return
    from fundtrail.analysis.attribution import attribution
    from fundtrail.analysis.cluster.service import run_clustering
    from fundtrail.chainstore.store import ChainStore

    report = run_clustering(
        chain,
        home=home,
        engine=engine,
        heuristics=heuristics,
        quiet=quiet,
        master=master,
        full=full,
    ).to_dict()
    att = attribution(ChainStore(chain, home), home=home)  # what a read sees now
    report["entities"] = len(att.entities)
    report["label_conflicts"] = sum(1 for e in att.entities.all() if e.conflict)
    if quiet and not as_json:
        return
    emit(report, as_json, _render_report)


def _render_report(r: dict[str, Any]) -> None:
    rows = [
        ("chain", r["chain"]),
        ("engine", r["engine"]),
        ("heuristics", ", ".join(r["heuristics"])),
        ("incremental", r["incremental"]),
        ("txs processed", r["txs_processed"]),
        ("addresses", r["addresses"]),
        ("clusters", r["clusters"]),
        ("singletons", r["singletons"]),
        ("largest cluster", r["largest"]),
    ]
    rows += [
        (f"edges {h}", f"{n} ({r['merges'].get(h, 0)} joined clusters)")
        for h, n in r["edges"].items()
    ]
    rows += [
        ("coinjoins (skipped)", ", ".join(f"{k} {v}" for k, v in r["coinjoins"].items()) or "none")
    ]
    if r["whirlpool_tx0"]:
        rows.append(("whirlpool tx0 (not a coinjoin)", r["whirlpool_tx0"]))
    if r["counterparties"]:
        rows.append(("forwarders (deposit_address evidence)", r["counterparties"]))
    rows += [
        ("entities (read from tags and behaviour)", r["entities"]),
        ("clusters with conflicting labels", r["label_conflicts"]),
        ("seconds", r["seconds"]),
    ]
    if r.get("trace_arrays_seconds"):
        rows.append(("of which trace arrays (for trace and linking)", r["trace_arrays_seconds"]))
    console.print(kv_table("clustering", rows))
    for note in r.get("notes", []):
        console.print(f"[yellow]note:[/yellow] {note}")


@cluster_app.command("why")
def why_cmd(
    address_a: str = typer.Argument(..., help="First address."),
    address_b: str = typer.Argument(..., help="Second address."),
    chain: str = ChainOpt,
    as_json: bool = JsonOpt,
    home: Path | None = HomeOpt,
) -> None:
    """Print the evidence (transactions and heuristics) that puts two addresses together."""
    from fundtrail.analysis.cluster.query import why
    from fundtrail.chainstore.store import ChainStore

    emit(why(ChainStore(chain, home), address_a, address_b, home=home), as_json, _render_why)


def _render_why(r: dict[str, Any]) -> None:
    if not r["together"]:
        console.print(
            f"{r['a']} (cluster {r['cluster_a']}) and {r['b']} (cluster {r['cluster_b']}) "
            "are [bold]not[/bold] in the same cluster."
        )
        same = r.get("attribution")
        if same:
            name = (same["service"] or {}).get("label", "one service")
            console.print(f"but both belong to [bold]{name}[/bold]:")
            for e in same["evidence"]:
                ev = e["evidence"] or {}
                console.print(
                    f"  cluster {e['cluster_id']}: {e['heuristic']} in tx {ev.get('tx')} "
                    f"into {ev.get('address')} (confidence {e['confidence']})"
                )
        return
    console.print(f"{r['a']} and {r['b']} are in cluster {r['cluster_a']}:")
    for i, hop in enumerate(r["path"], 1):
        console.print(
            f"  {i}. {hop['from']} -- {hop['heuristic']} in tx {hop['tx']} -- {hop['to']}"
        )
    if r.get("note"):
        console.print(f"  ({r['note']})")


@cluster_app.command("show")
def show_cmd(
    address: str = typer.Argument(..., help="Any address of the cluster."),
    chain: str = ChainOpt,
    page: int = typer.Option(1, "--page", min=1, help="Page of member addresses (100 per page)."),
    as_json: bool = JsonOpt,
    home: Path | None = HomeOpt,
) -> None:
    """Show the cluster of ADDRESS: id, size, balance, entity, tags, member addresses."""
    from fundtrail.analysis.cluster.query import show
    from fundtrail.chainstore.store import ChainStore

    store = ChainStore(chain, home)
    coin = resolve(store.chain.code)
    emit(show(store, address, page=page, home=home), as_json, lambda r: _render_show(r, coin))


def _render_show(r: dict[str, Any], coin: Asset) -> None:
    entity = r["entity"]
    rows = [
        ("cluster", r["cluster_id"]),
        ("size", r["size"]),
        ("balance", display.amount(r["balance"], coin)),
        ("first seen (UTC)", display.time_utc(r["first_seen"])),
        ("last seen (UTC)", display.time_utc(r["last_seen"])),
        ("in/out degree", f"{r['in_degree']}/{r['out_degree']}"),
        (
            "entity",
            f"{entity['label']} ({entity['category']}, {entity['heuristic']}, "
            f"confidence {entity['confidence']})"
            if entity
            else "-",
        ),
        ("tags", len(r["tags"])),
    ]
    if entity and entity["conflict"]:
        rows.append(("conflicting labels", ", ".join(x["label"] for x in r["labels"])))
    console.print(kv_table(f"cluster of {r['address']}", rows))
    console.print(f"addresses (page {r['page']}/{r['pages']}):")
    for a in r["addresses"]:
        console.print(f"  {a}")


def register(app: typer.Typer) -> None:
    app.add_typer(cluster_app, name="cluster")
