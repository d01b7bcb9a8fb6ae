"""The commands a user types: cluster, cluster why/show, export clusters, tags import, entity."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fundtrail.cli.main import app

from .builder import Tx, addr, write_chain

A, B, C, D, E = (addr(x) for x in "ABCDE")
# tx2: A+B together -> {A, B}; tx4: B+C together -> {A, B, C}; D, E stay alone
TXS = [
    Tx([], [(A, 5_0000_0000)]),
    Tx([], [(B, 5_0000_0000)]),
    Tx([(A, 5_0000_0000), (B, 5_0000_0000)], [(D, 6_0000_0000), (B, 3_9999_0000)]),
    Tx([], [(C, 1_0000_0000)]),
    Tx([(B, 3_9999_0000), (C, 1_0000_0000)], [(E, 4_9998_0000)]),
]

runner = CliRunner()


def _run(*args: str) -> str:
    result = runner.invoke(app, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_cluster_why_show_export_entity(home: Path, tmp_path: Path) -> None:
    write_chain(home, TXS)
    tags = tmp_path / "tags.csv"
    tags.write_text(
        "address,label,category,source,confidence\n"
        f"{A},Evil Exchange,exchange,https://example.org/a,90\n"
        f"{C},Ransom Gang,ransomware,https://example.org/c,50\n"
        "1NotAnAddress,Broken,scam,x,10\n"
    )
    imported = json.loads(_run("tags", "import", str(tags), "--json"))
    assert imported["imported"] == 2 and imported["invalid"] == 1
    assert f"{tags}:4:" in imported["problems"][0]  # file and line of the bad row

    report = json.loads(_run("cluster", "--json"))
    assert report["clusters"] == 3 and report["largest"] == 3
    assert report["entities"] == 1 and report["label_conflicts"] == 1

    why = json.loads(_run("cluster", "why", A, C, "--json"))
    assert why["together"] is True
    assert [h["heuristic"] for h in why["path"]] == ["multi_input", "multi_input"]
    hops = {frozenset((h["from"], h["to"])) for h in why["path"]}
    assert hops == {frozenset((A, B)), frozenset((B, C))}  # A-B in tx2, B-C in tx4
    apart = json.loads(_run("cluster", "why", A, D, "--json"))
    assert apart["together"] is False and apart["path"] == []
    assert "not" in _run("cluster", "why", A, D)

    shown = json.loads(_run("cluster", "show", C, "--json"))
    assert shown["size"] == 3 and sorted(shown["addresses"]) == sorted([A, B, C])
    assert shown["entity"]["label"] == "Evil Exchange"  # higher confidence wins ...
    assert {x["label"] for x in shown["labels"]} == {"Evil Exchange", "Ransom Gang"}
    assert shown["entity"]["conflict"] is True  # ... but the conflict is kept and reported
    assert shown["balance"] == 0  # the wallet spent everything it received

    out = tmp_path / "clusters.csv"
    _run("export", "clusters", "-o", str(out), "-q")
    rows = list(csv.DictReader(out.open()))
    assert len(rows) == 5 and set(rows[0]) == {"address", "cluster_id"}
    by = {r["address"]: r["cluster_id"] for r in rows}
    assert by[A] == by[B] == by[C] != by[D] != by[E]

    found = json.loads(_run("entity", "ransom", "--json"))
    assert len(found) == 1 and found[0]["label"] == "Ransom Gang" and found[0]["size"] == 3
    assert found[0]["is_primary"] is False and found[0]["conflict"] is True


def test_cluster_errors_are_one_line(home: Path) -> None:
    result = runner.invoke(app, ["cluster", "show", A, "--json"])
    assert result.exit_code != 0
    write_chain(home, TXS)
    result = runner.invoke(app, ["cluster", "--heuristics", "deposit_address"])
    assert result.exit_code != 0
    assert "does not apply to utxo chains" in str(result.exception)


def test_tags_imported_after_clustering_bring_the_attribution_up_to_date(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`tags import` on a clustered chain computes the attribution the next read needs,
    so a trace after it does not pay for it; before any clustering there is none to do."""
    from fundtrail.analysis.attribution import lookup
    from fundtrail.chainstore.store import ChainStore

    write_chain(home, TXS)
    tags = tmp_path / "tags.csv"
    tags.write_text("address,label,category,source,confidence\n"
                    f"{E},Kraylo,exchange,https://example.org/e,90\n")  # fmt: skip
    unclustered = json.loads(_run("tags", "import", str(tags), "--json"))
    assert unclustered["attribution_refreshed"] == []
    _run("cluster", "--quiet")
    tags.write_text(tags.read_text() + f"{A},Ransom Gang,ransomware,https://example.org/a,50\n")
    assert "attribution brought up to date │ BTC" in _run("tags", "import", str(tags))
    assert json.loads(_run("tags", "import", str(tags), "--json"))["attribution_refreshed"] == [
        "BTC"
    ]
    lookup._MEMORY.clear()  # a new process: only the cache files remain

    def computed(*args: object) -> None:
        raise AssertionError("the read computed the attribution the import left stale")

    monkeypatch.setattr(lookup, "_compute", computed)
    att = lookup.attribution(ChainStore("btc", home), home=home)
    assert {e.label for e in att.entities.values()} == {"Kraylo", "Ransom Gang"}
