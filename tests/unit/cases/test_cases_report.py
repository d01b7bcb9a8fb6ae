"""The case file from a hand-built campaign: every file, its hash, PDF pages, no leaks."""

from __future__ import annotations

import csv
import json
import subprocess
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cases_chainfix import ADDR1, ADDR2, ADDR3, TXA, TXB

from fundtrail.analysis.trace.result import Edge, Node, TraceResult
from fundtrail.cases.freeze import FreezePlan, plan_freeze
from fundtrail.cases.profiles import CaseProfile
from fundtrail.cases.report import ReportOptions, write_report
from fundtrail.cases.stixout import campaign_bundle
from fundtrail.cases.views import CampaignView, CashoutView, ComplaintView
from fundtrail.intel.stix_check import stix_validation_errors
from fundtrail.model.encoding import segwit_encode
from fundtrail.model.tlp import TLP
from fundtrail.pictures.dot import draw

T = datetime(2024, 3, 1, 12, tzinfo=UTC)


def complaint(i: int, victim: str, visible: bool, amount: int, addr: str) -> ComplaintView:
    return ComplaintView(
        id=f"id{i}",
        ref=f"C-{i}",
        chain="BTC",
        txid=(TXA if i % 2 else TXB),
        vout=i,
        to_address=addr,
        amount=amount,
        asset="BTC",
        status="verified",
        paid_at=T.replace(day=i),
        reported_at=T.replace(day=i + 3),
        org="Police A",
        pii_visible=visible,
        victim=victim if visible else None,
        victim_index=victim,
    )


def make_view() -> CampaignView:
    return CampaignView(
        id="CMP-TEST",
        status="active",
        created=T,
        updated=T,
        complaints=[
            complaint(1, "<script>alert(1)</script> Ann", True, 50_000, ADDR1),
            complaint(2, "Secret Bob", False, 7_000, ADDR2),
            complaint(3, "Cy", True, 120_000, ADDR1),
        ],
        links=[{"a": "k1", "b": "k3", "reason": "same-address", "detail": ADDR1}],
        cashouts=[
            CashoutView("Big Exchange", "exchange", ADDR3, ADDR3, 90_000, "BTC", TXA, T, 3),
            CashoutView("Small Ex.", "exchange", ADDR2, ADDR2, 40_000, "BTC", TXB, T, 4),
            CashoutView("Big Exchange", "exchange", ADDR1, ADDR3, 10_000, "BTC", TXB, T, 5),
        ],
    )


@pytest.fixture(scope="module")
def view() -> CampaignView:
    return make_view()


@pytest.fixture(scope="module")
def case_file(
    view: CampaignView, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, list[Path]]:
    out = tmp_path_factory.mktemp("case")
    profile = CaseProfile("Police A", "Det. Insp. Rivera", "cyber@police.example",
                          "Art. 12 Code of Criminal Procedure", 10)  # fmt: skip
    opts = ReportOptions(reference="FT-2024-0001", tlp=TLP.AMBER, requester="Police A", now=T,
                         profile=profile, freeze=_plan(view))  # fmt: skip

    def flow(path: Path) -> float:
        return draw(_trace(), path).print_width_pt

    return out, write_report(view, out, opts, flow)


def _plan(view: CampaignView) -> FreezePlan:
    """Every cash-out requested: each deposit received only the traced money."""
    received = {(c.chain, c.deposit_address or c.address, "BTC"): 0 for c in view.cashouts}
    for c in view.cashouts:
        received[(c.chain, c.deposit_address or c.address, "BTC")] += c.amount
    return plan_freeze(view.id, view.total_loss, view.cashouts, view.cashouts, received)


def _trace() -> TraceResult:
    """Three victims' clusters -> the gang -> two exchanges and a holding wallet."""
    nodes = [Node(i, None, None, "start", 50_000, 1, 1_709_294_400 + i, 1) for i in (1, 2, 3)]
    nodes += [Node(10, "Gang", "scam", "transit", 177_000, 2, 1_709_400_000),
              Node(20, "Big Exchange", "exchange", "cash-out", 100_000, 1, 1_709_500_000),
              Node(21, "Small Ex.", "exchange", "cash-out", 40_000, 1, 1_709_500_100),
              Node(30, None, None, "held", 37_000, 1, 1_709_500_200)]  # fmt: skip
    edges = [Edge(i, 10, 59_000, "BTC", 1, 1_709_400_000) for i in (1, 2, 3)]
    edges += [Edge(10, 20, 100_000, "BTC", 2, 1_709_500_000),
              Edge(10, 21, 40_000, "BTC", 1, 1_709_500_100),
              Edge(10, 30, 37_000, "BTC", 1, 1_709_500_200)]  # fmt: skip
    summary = {"chain": "BTC", "method": "haircut", "direction": "forward", "starts": 3,
               "start_amount": {"BTC": 177_000}}  # fmt: skip
    return TraceResult([], nodes, edges, summary)


def test_case_file_complete_hashed_and_readable(case_file: tuple[Path, list[Path]]) -> None:
    tmp_path, files = case_file
    names = sorted(p.name for p in files)
    assert names == sorted(
        [
            "timeline.svg",
            "money-flow.svg",
            "indicators.stix.json",
            "report.html",
            "report.pdf",
            "SHA256SUMS",
            *(
                f"freeze-request-{e}.{x}"
                for e in ("big-exchange", "small-ex")
                for x in ("json", "csv", "pdf")
            ),
        ]
    )
    check = subprocess.run(
        ["sha256sum", "-c", "SHA256SUMS"], cwd=tmp_path, capture_output=True, text=True
    )
    assert check.returncode == 0, check.stdout + check.stderr
    assert check.stdout.count(": OK") == len(files) - 1

    html = (tmp_path / "report.html").read_text()
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Ann" in html and "<script>" not in html
    assert "Secret Bob" not in html and "[withheld]" in html
    assert "0.00177 BTC" in html  # 177_000 sat exact total
    stix_hash = next(
        line.split()[0]
        for line in (tmp_path / "SHA256SUMS").read_text().splitlines()
        if line.endswith("indicators.stix.json")
    )
    assert stix_hash in html  # the report cites its evidence files

    subprocess.run(["pdftoppm", "-png", "-r", "40", "report.pdf", "page"], cwd=tmp_path, check=True)
    assert len(list(tmp_path.glob("page-*.png"))) >= 2


def _pdf_pages(pdf: Path) -> list[list[tuple[float, str]]]:
    """Per page, (height in pt, text) of every word, from poppler's pdftotext -bbox."""
    import html
    import re

    out = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], capture_output=True, text=True,
                         check=True).stdout  # fmt: skip
    pages = []
    for page in out.split("<page ")[1:]:
        words = re.findall(r'yMin="([\d.]+)" xMax="[\d.]+" yMax="([\d.]+)">([^<]*)</word>', page)
        pages.append([(float(b) - float(a), html.unescape(w)) for a, b, w in words])
    return pages


def test_findings_first_victims_last_and_the_flow_readable_at_print_size(
    case_file: tuple[Path, list[Path]],
) -> None:
    tmp_path, _ = case_file
    pages = _pdf_pages(tmp_path / "report.pdf")
    text = [" ".join(w for _, w in p) for p in pages]
    first = text[0]
    assert "Summary and findings" in first and "Where the money went" in first
    assert "Big Exchange" in first and "0.001 BTC" in first  # the exchange, its amount
    where = {k: next(i for i, t in enumerate(text) if k in t) for k in
             ("Method and limitations", "Attestation", "Appendix A")}  # fmt: skip
    assert where["Method and limitations"] <= where["Attestation"] < where["Appendix A"]
    assert "Rivera" in " ".join(
        text[where["Attestation"] :]
    ) and "not a claim that these are the victims' own coins" in " ".join(text)
    victims = next(i for i, t in enumerate(text) if "Cy" in t.split() or "Ann" in t)
    assert victims >= where["Appendix A"]  # victims only in the appendix
    flow = next(i for i, t in enumerate(text) if "Columns run left to right" in t)
    drawn = [h for h, w in pages[flow] if w in ("Gang", "Big", "Exchange", "BTC", "Small")]
    assert drawn and min(drawn) >= 8.0  # picture text at 8 pt or more on the printed page


def test_freeze_request_names_requester_method_basis_and_deadline(
    case_file: tuple[Path, list[Path]],
) -> None:
    tmp_path, _ = case_file
    big = json.loads((tmp_path / "freeze-request-big-exchange.json").read_text())
    assert big["requesting_org"] == "Police A" and big["method"] == "haircut"
    assert big["requester"] == {"org": "Police A", "analyst": "Det. Insp. Rivera",
                                "contact": "cyber@police.example",
                                "legal_basis": "Art. 12 Code of Criminal Procedure",
                                "deadline": "2024-03-11T12:00:00Z"}  # fmt: skip
    pdf = " ".join(
        w for p in _pdf_pages(tmp_path / "freeze-request-big-exchange.pdf") for _, w in p
    )
    assert "Legal basis" in pdf and "2024-03-11T12:00:00Z" in pdf and "Haircut" in pdf


def test_freeze_requests_per_exchange_without_pii(case_file: tuple[Path, list[Path]]) -> None:
    tmp_path, _ = case_file
    big = json.loads((tmp_path / "freeze-request-big-exchange.json").read_text())
    assert big["case_reference"] == "FT-2024-0001" and big["exchange"] == "Big Exchange"
    assert big["totals"] == {"BTC": 100_000}
    assert {d["deposit_address"] for d in big["deposits"]} == {ADDR3, ADDR1}
    rows = list(csv.DictReader((tmp_path / "freeze-request-small-ex.csv").read_text().splitlines()))
    assert [(r["deposit_address"], r["amount"], r["txids"]) for r in rows] == [
        (ADDR2, "40000", TXB)
    ]
    for p in tmp_path.glob("freeze-request-*"):
        if p.suffix != ".pdf":
            text = p.read_text()
            assert "Ann" not in text and "Secret Bob" not in text


def test_indicators_bundle_valid_with_chosen_tlp(view: CampaignView) -> None:
    hot = segwit_encode("bc", 0, bytes(range(5, 25)))
    sliver = segwit_encode("bc", 0, bytes(range(7, 27)))
    shared = replace(view, cashouts=[
        *view.cashouts,
        CashoutView("Big Exchange", "exchange", hot, hot, 50_000, "BTC", TXA, T, 2,
                    deposit_identified=False),  # the exchange's own hot wallet
        CashoutView("Big Exchange", "exchange", sliver, sliver, 3, "BTC", TXA, T, 9),  # a sliver
    ])  # fmt: skip
    received = {(c.chain, c.deposit_address or c.address, "BTC"): c.amount for c in shared.cashouts}
    received[("BTC", sliver, "BTC")] = 3_000  # an ordinary customer's address: 3 of 3,000 traced
    plan = plan_freeze(shared.id, shared.total_loss, shared.cashouts, shared.cashouts, received)
    bundle = campaign_bundle(shared, tlp=TLP.GREEN, now=T, reference="R", freeze=plan)
    assert stix_validation_errors(bundle) == []
    indicators = [o for o in bundle["objects"] if o["type"] == "indicator"]
    patterns = " ".join(i["pattern"] for i in indicators)
    assert all(a in patterns for a in (ADDR1, ADDR2, ADDR3))
    assert hot not in patterns and sliver not in patterns
    green = "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"
    assert all(green in i["object_marking_refs"] for i in indicators)


def test_freeze_requests_carry_fiat_values_at_each_transfers_time(
    view: CampaignView, tmp_path: Path
) -> None:
    from fundtrail.intelstore.db import open_store
    from fundtrail.prices.book import PriceBook
    from fundtrail.prices.service import import_prices

    prices = tmp_path / "btc-usd.csv"
    prices.write_text("snapped_at,price,market_cap,total_volume\n"
                      "2024-03-01 00:00:00 UTC,61234.5,1.2e12,3.4e10\n")  # fmt: skip
    store = open_store(f"sqlite:///{tmp_path / 'intel.db'}")
    import_prices(store, prices, asset="BTC", currency="USD")
    out = tmp_path / "case"
    opts = ReportOptions(reference="FT-2024-0002", tlp=TLP.AMBER, requester="Police A", now=T,
                         freeze=_plan(view), prices=PriceBook(store, "USD"))  # fmt: skip
    write_report(view, out, opts)
    big = json.loads((out / "freeze-request-big-exchange.json").read_text())
    # 100,000 sat at 61,234.50 USD/BTC = 61.2345 USD; 90,000 sat = 55.11105; 10,000 = 6.12345
    assert big["fiat_value"] == "≈ 61.23 USD (CoinGecko export)"
    by_addr = {d["deposit_address"]: d["fiat_value"] for d in big["deposits"]}
    assert by_addr == {ADDR3: "≈ 55.11 USD (CoinGecko export)",
                       ADDR1: "≈ 6.12 USD (CoinGecko export)"}  # fmt: skip
    pdf = " ".join(w for p in _pdf_pages(out / "freeze-request-big-exchange.pdf") for _, w in p)
    assert "61.23 USD" in pdf and "55.11 USD" in pdf and "CoinGecko" in pdf
    rows = list(csv.DictReader((out / "freeze-request-small-ex.csv").read_text().splitlines()))
    assert [r["fiat_value"] for r in rows] == ["≈ 24.49 USD (CoinGecko export)"]  # 40,000 sat
