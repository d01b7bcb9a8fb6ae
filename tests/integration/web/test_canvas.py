"""The trace canvas in a real Chromium: geometry, amounts, save and reopen.

Checks what the round-one canvas got wrong: every box on one line, satoshi shown as BTC.
The boxes must spread over both axes without overlapping, the start must sit left of
every cash-out and every arrow point right; each amount shown must be the trace's base
units formatted by the display layer; a graph saved into the campaign must reopen.
"""

from __future__ import annotations

from itertools import combinations
from pathlib import Path

import httpx
import pytest

from fundtrail.model.display import amount

pytestmark = [pytest.mark.browser, pytest.mark.slow]

BOXES = """() => cy.nodes().filter(n => !n.isParent()).map(n => {
  const b = n.boundingBox({includeLabels: false});
  return {id: n.id(), kind: n.data('kind'), x1: b.x1, x2: b.x2, y1: b.y1, y2: b.y2,
          x: n.position('x')};
})"""
ARROWS = "() => cy.edges().map(e => [e.source().position('x'), e.target().position('x')])"


@pytest.fixture
def canvas(browser, site):
    context = browser.new_context(viewport={"width": 1500, "height": 1100})
    p = context.new_page()
    p.goto(site.url + "/")
    p.fill("input[name=api_key]", site.police_key)
    p.click("button[type=submit]")
    p.wait_for_url("**/ui/")
    p.goto(site.url + "/ui/campaigns")
    p.click("#campaign-list a")
    p.click("text=Open the interactive trace")
    p.locator("#status", has_text="boxes drawn").wait_for(timeout=180_000)
    yield p
    context.close()


def test_boxes_spread_left_to_right_without_overlap(canvas, shots: Path) -> None:
    boxes = canvas.evaluate(BOXES)
    assert len(boxes) >= 5
    xs = [b["x"] for b in boxes]
    ys = [(b["y1"] + b["y2"]) / 2 for b in boxes]
    assert max(xs) - min(xs) > 400 and max(ys) - min(ys) > 150  # both axes, not one strip
    for a, b in combinations(boxes, 2):
        apart = a["x2"] <= b["x1"] or b["x2"] <= a["x1"] or a["y2"] <= b["y1"] or b["y2"] <= a["y1"]
        assert apart, f"{a['id']} overlaps {b['id']}"
    starts = [b["x"] for b in boxes if b["kind"] == "start"]
    cashouts = [b["x"] for b in boxes if b["kind"] == "cash-out"]
    assert starts and cashouts and max(starts) < min(cashouts)
    assert all(s < t for s, t in canvas.evaluate(ARROWS))  # arrows point right
    labels = canvas.evaluate("() => cy.nodes('[kind = \"cash-out\"]').map(n => n.data('label'))")
    assert all(not label.startswith("cluster") for label in labels)  # named by entity
    canvas.screenshot(path=str(shots / "trace.png"), timeout=120_000)


def test_amounts_are_the_traces_base_units_formatted(canvas, site) -> None:
    cells = canvas.evaluate(
        "() => Array.from(document.querySelectorAll('#endpoints tbody td.num'))"
        ".map(td => [td.textContent, td.title])"
    )
    assert len(cells) >= 10
    raw = canvas.evaluate(
        "() => fetch(document.getElementById('graph').dataset.src.replace('trace.json', "
        "'trace.raw.json')).then(r => r.json())"
    )
    api = [e["amount"] for e in raw["endpoints"][: len(cells)]]
    shown = [int(title.split()[0]) for _, title in cells]
    assert shown == api  # the rows are the trace's own endpoints, in order
    for (text, _), value in zip(cells, api, strict=True):
        assert text == amount(value, "BTC")  # e.g. 1.74653173 BTC, never 174653173 BTC
    subtotal = canvas.inner_text("#exchanges")
    assert " BTC" in subtotal and "no cash-out" not in subtotal


def test_save_into_the_campaign_and_reopen(canvas, site) -> None:
    canvas.once("dialog", lambda d: d.accept("gang to exchanges"))
    canvas.evaluate("() => cy.nodes('[kind = \"start\"]').select()")
    canvas.click("#pin")
    canvas.click("#save")
    canvas.locator("#status", has_text="saved").wait_for(timeout=30_000)
    campaign = canvas.get_attribute("#graph", "data-campaign")
    listed = httpx.get(
        f"{site.url}/api/v1/campaigns/{campaign}/graphs",
        headers={"Authorization": f"Bearer {site.police_key}"},
    ).json()
    assert [g["name"] for g in listed] == ["gang to exchanges"]
    saved = httpx.get(
        f"{site.url}/api/v1/campaigns/{campaign}/graphs/{listed[0]['id']}",
        headers={"Authorization": f"Bearer {site.police_key}"},
    ).json()["graph"]
    assert saved["state"]["pinned"] and len(saved["nodes"]) == canvas.evaluate("cy.nodes().length")
    other = httpx.get(
        f"{site.url}/api/v1/campaigns/{campaign}/graphs",
        headers={"Authorization": f"Bearer {site.bank_key}"},
    )
    assert other.status_code == 404  # a bank not on the case sees no campaign, no graph
    canvas.select_option("#saved", index=1)
    canvas.locator("#status", has_text="opened saved graph").wait_for(timeout=30_000)
    assert canvas.evaluate("cy.nodes().length") == len(saved["nodes"])
