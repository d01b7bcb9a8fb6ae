"""An investigator in a real browser: sign in, search, cluster, trace, campaign, intel, XSS."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _truth(site) -> dict:
    return json.loads((site.out / "simulation" / "truth.json").read_text())


@pytest.fixture
def page(browser, site):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    p = context.new_page()
    p.goto(site.url + "/")
    p.fill("input[name=api_key]", site.police_key)
    p.click("button[type=submit]")
    p.wait_for_url("**/ui/")
    yield p
    context.close()


def test_signing_in_needs_a_valid_key_and_sets_a_safe_cookie(browser, site) -> None:
    context = browser.new_context()
    p = context.new_page()
    p.goto(site.url + "/ui/campaigns")
    assert "/ui/login" in p.url
    p.fill("input[name=api_key]", "ft_000000000000_wrong")
    p.click("button[type=submit]")
    assert "invalid API key" in p.inner_text("main")
    p.fill("input[name=api_key]", site.police_key)
    p.click("button[type=submit]")
    p.wait_for_url("**/ui/campaigns")
    (cookie,) = [c for c in context.cookies() if c["name"] == "ft_session"]
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    assert site.police_key not in cookie["value"]
    context.close()


def test_search_an_address_and_open_its_cluster(page, site, shots: Path) -> None:
    deposit = _truth(site)["cashouts"][0]["deposit_address"]
    page.fill("input[type=search][name=q]", deposit)
    page.press("input[type=search][name=q]", "Enter")
    page.wait_for_url(f"**/ui/address/BTC/{deposit}")
    assert deposit in page.inner_text("h1")
    cluster = page.inner_text("#cluster")
    assert "addresses" in cluster and "multi_input" in cluster  # members and why they joined
    assert "Screening verdict" in page.inner_text("#screening")
    page.screenshot(path=str(shots / "address.png"), timeout=120_000)
    page.click("#cluster a:has-text('why?')")
    assert "by multi_input in" in page.inner_text("main")


def test_a_mistyped_address_is_refused_as_typed(page) -> None:
    page.fill("input[type=search][name=q]", "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdx")
    page.press("input[type=search][name=q]", "Enter")
    assert "checksum" in page.inner_text(".error")


def test_campaign_page_shows_victims_totals_and_cash_outs(page, site, shots: Path) -> None:
    truth = _truth(site)
    page.goto(site.url + "/ui/campaigns")
    header = page.inner_text("#campaign-list tr")
    assert "Kind" in header and "Status" in header and "Scam campaigns" not in page.inner_text("h1")
    page.click("#campaign-list a")
    victims = page.inner_text("#victims")
    assert "[withheld]" not in victims  # the reporting organisation sees its victims' names
    total = truth["campaigns"][0]["total_loss"]["BTC"]
    assert f"{total // 10**8}." in page.inner_text("main")
    exchanges = {c["exchange_name"] for c in truth["cashouts"]}
    rows = page.inner_text("#exchange-totals").split("\n")[1:]
    assert exchanges & {r.split("\t")[0] for r in rows}  # per-exchange subtotals first
    assert "%" in rows[0]  # with the share of the loss
    assert "page 1 of" in page.inner_text("#victims-card")  # victims come a page at a time
    assert page.evaluate("document.documentElement.scrollHeight") < 9000
    page.wait_for_load_state("networkidle", timeout=120_000)
    page.screenshot(path=str(shots / "campaign.png"), timeout=120_000)


def test_an_xss_payload_in_an_indicator_is_shown_as_text(page, site, shots: Path) -> None:
    payload = '<script>window.__xss=1</script><img src=x onerror="window.__xss=2">'
    r = httpx.post(
        site.url + "/api/v1/indicators",
        headers={"Authorization": f"Bearer {site.police_key}"},
        json={
            "type": "domain",
            "value": "xss-test.example",
            "category": "phishing",
            "tlp": "green",
            "description": payload,
            "references": ["https://example.org/case"],
        },
    )
    assert r.status_code == 201, r.text
    refused = httpx.post(
        site.url + "/api/v1/indicators",
        headers={"Authorization": f"Bearer {site.police_key}"},
        json={"type": "url", "value": "javascript:alert(1)", "category": "phishing"},
    )
    assert refused.status_code == 422
    page.goto(site.url + f"/ui/intel/{r.json()['id']}")
    assert payload in page.inner_text("main")
    assert page.evaluate("window.__xss") is None
    assert page.locator("main script").count() == 0
    assert page.locator("a[href^='javascript:']").count() == 0
    page.screenshot(path=str(shots / "indicator.png"), timeout=120_000)


def test_red_intel_of_one_org_is_invisible_to_another_in_the_browser(browser, site) -> None:
    r = httpx.post(
        site.url + "/api/v1/indicators",
        headers={"Authorization": f"Bearer {site.police_key}"},
        json={
            "type": "domain",
            "value": "secret-ring.example",
            "category": "pig-butchering",
            "tlp": "red",
        },
    )
    assert r.status_code == 201, r.text
    context = browser.new_context()
    p = context.new_page()
    p.goto(site.url + "/ui/login")
    p.fill("input[name=api_key]", site.bank_key)
    p.click("button[type=submit]")
    p.goto(site.url + "/ui/intel?iq=secret-ring")
    assert "secret-ring" not in p.inner_text("#indicators")
    p.goto(site.url + f"/ui/intel/{r.json()['id']}")
    assert "Not found" in p.inner_text("h1")
    context.close()


def test_an_analyst_adds_an_indicator_through_the_form(page, site, shots: Path) -> None:
    page.goto(site.url + "/ui/intel")
    form = page.locator("#add-indicator")
    form.locator("select[name=type]").select_option("crypto-address")
    form.locator("input[name=value]").fill("0x01e2919679362dFBC9ee1644Ba9C6da6D6245BB1")
    form.locator("input[name=chain]").fill("ETH")
    form.locator("select[name=category]").select_option("sanctions")
    form.locator("button[type=submit]").click()
    page.wait_for_url("**/ui/intel/*")
    assert "0x01e2919679362dfbc9ee1644ba9c6da6d6245bb1" in page.inner_text("#indicator-value")
    page.screenshot(path=str(shots / "intel.png"), timeout=120_000)
