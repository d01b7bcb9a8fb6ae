"""Protocol ledgers as people read them: the web pages, the API and the CLI show TRON's
built-in exchange pools, the shielded pool and burned fees by name, with what flowed
through them in this store, never as a link to an address page that errors.

A small world over the stub node (constructed answers; see
tests/unit/chains/tron/test_tron_legacy.py): a trader A sells 2 TRX into exchange 3 for 20
OLD tokens, and shields 300 zen tokens (the pool burns a 10 fee).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from html import unescape
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from fundtrail.chains.tron.decode import address
from fundtrail.chains.tron.ingest import ingest_rpc
from fundtrail.chains.tron.stub import (
    OLD_TOKEN,
    TRX_TOKEN,
    ZEN_TOKEN,
    NodeData,
    TronStub,
    add_old_zen_market,
    make_block,
)
from fundtrail.chains.tron.stub import contract_tx as _tx
from fundtrail.cli.main import app
from fundtrail.intelstore.db import open_store
from fundtrail.intelstore.keys import create_key
from fundtrail.intelstore.orgs import add_org
from fundtrail.server.app import create_app
from fundtrail.settings import Settings
from fundtrail.testing import web_sign_in

A, Z, ISSUER = ("41" + c * 40 for c in "abc")
OLD, ZEN, TRX = OLD_TOKEN, ZEN_TOKEN, TRX_TOKEN


FUND = _tx("TransferAssetContract", {"owner_address": Z, "to_address": A, "asset_name": ZEN,
                                     "amount": 500})  # fmt: skip
SWAP = _tx("ExchangeTransactionContract", {"owner_address": A, "exchange_id": 3,
                                           "token_id": TRX, "quant": 2_000_000, "expected": 1})  # fmt: skip
SHIELD = _tx("ShieldedTransferContract", {"transparent_from_address": A, "from_amount": 300,
                                          "binding_signature": "00"})  # fmt: skip


def _node() -> NodeData:
    node = NodeData()
    block = make_block(1, "00" * 32, 1_600_000_003_000, [FUND, SWAP, SHIELD])
    node.blocks[1] = block
    node.infos[1] = [
        {"id": FUND["txID"], "blockNumber": 1},
        {"id": SWAP["txID"], "blockNumber": 1, "exchange_id": 3, "exchange_received_amount": 20},
        {"id": SHIELD["txID"], "blockNumber": 1, "shielded_transaction_fee": 10},
    ]
    add_old_zen_market(node, ISSUER)
    return node


@pytest.fixture
def world(home: Path) -> Path:
    with TronStub(_node()) as stub:
        ingest_rpc(stub.url, start=1)
    return home


@pytest.fixture
def client(world: Path) -> Iterator[tuple[TestClient, str]]:
    store = open_store()
    with store.session() as s:
        add_org(s, "Police", "law-enforcement")
        key = create_key(s, "Police", "admin").key
    client = TestClient(create_app(store, Settings(home=world)), base_url="http://testserver")
    assert web_sign_in(client, key, follow_redirects=False).status_code == 303
    yield client, key
    store.close()


def _text(html: str) -> str:
    """What a reader sees: the page without its tags, whitespace collapsed."""
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))


def test_the_tx_page_names_the_pool_and_links_to_its_own_page(client: Any) -> None:
    web, _ = client
    page = web.get(f"/ui/tx/TRX/{SWAP['txID']}")
    assert page.status_code == 200, page.text
    seen = _text(page.text)
    assert "TRON built-in exchange #3 (Bancor pool) tron-dex:3" in seen, seen
    links = set(re.findall(r'href="(/ui/address/[^"]+)"', page.text))
    assert links == {"/ui/address/TRX/tron-dex%3A3", f"/ui/address/TRX/{address(A)}"}, links
    for link in links:  # every address link of the page opens a page, none the error page
        assert web.get(link).status_code == 200, link
    pool = _text(web.get("/ui/address/TRX/tron-dex%3A3").text)
    assert "TRON built-in exchange #3 (Bancor pool)" in pool
    assert "protocol ledger · service" in pool
    assert "shared by every trader, no one's account" in pool
    # what flowed through it: 2 TRX in, 20 OLD out (exact, in each asset's units)
    assert "TRX 2 TRX 0 TRX 2 TRX" in pool, pool
    assert "OLD 0 OLD 20 OLD -20 OLD" in pool, pool
    assert f"{SWAP['txID']}" in pool and address(A) in pool
    assert "Screening verdict" not in pool and "Trace from here" not in pool


def test_the_shielded_pool_and_the_burn_have_pages_saying_what_they_are(client: Any) -> None:
    web, _ = client
    tx = _text(web.get(f"/ui/tx/TRX/{SHIELD['txID']}").text)
    assert "TRON shielded pool shielded-pool" in tx and "fees burned burn" in tx, tx
    pool = _text(web.get("/ui/address/TRX/shielded-pool").text)
    assert "protocol ledger · privacy pool" in pool
    assert "cannot be tied on chain to what entered" in pool
    assert "ZEN 300 ZEN 10 ZEN 290 ZEN" in pool, pool
    burn = _text(web.get("/ui/address/TRX/burn").text)
    assert "fees burned" in burn and "ZEN 10 ZEN 0 ZEN 10 ZEN" in burn, burn
    # the search box finds a protocol ledger by its name
    found = web.get("/ui/search?q=tron-dex:3", follow_redirects=False)
    assert found.status_code == 303 and found.headers["location"] == "/ui/address/TRX/tron-dex%3A3"


def test_a_pool_the_store_never_saw_is_not_found_and_a_malformed_name_is_invalid(
    client: Any,
) -> None:
    web, key = client
    auth = {"Authorization": f"Bearer {key}"}
    missing = web.get("/ui/address/TRX/tron-dex%3A9")
    assert missing.status_code == 404
    assert "tron-dex:9 (TRON built-in exchange #9 (Bancor pool)) is a protocol ledger" in (
        _text(missing.text)
    )
    api = web.get("/api/v1/addresses/TRX/tron-dex:3", headers=auth)
    assert api.status_code == 200, api.text
    body = api.json()
    assert body["protocol"]["label"] == "TRON built-in exchange #3 (Bancor pool)"
    assert (body["balance"], body["cluster"], body["tags"]) == (2_000_000, None, [])
    assert {t["symbol"]: t["balance"] for t in body["tokens"]} == {"OLD": -20}
    assert web.get("/api/v1/addresses/TRX/tron-dex:9", headers=auth).status_code == 404
    bad = web.get("/api/v1/addresses/TRX/tron-dex:x", headers=auth)
    assert bad.status_code == 422 and "'tron-dex:x' names no protocol ledger" in bad.text, bad.text


def test_the_cli_answers_for_a_protocol_ledger(world: Path) -> None:
    cli = CliRunner()
    res = cli.invoke(app, ["address", "tron-dex:3", "--chain", "tron", "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert out["protocol"]["category"] == "service" and out["balance"] == 2_000_000
    res = cli.invoke(app, ["address", "shielded-pool", "--chain", "tron"], env={"COLUMNS": "200"})
    assert res.exit_code == 0 and "TRON shielded pool: TRON's shielded" in res.output, res.output
    res = cli.invoke(app, ["address", "tron-dex:9", "--chain", "tron"])
    assert res.exit_code != 0 and "does not appear in the TRX chain store" in str(res.exception)
    res = cli.invoke(app, ["address", "tron-dex:x", "--chain", "tron"])
    assert res.exit_code != 0 and "names no protocol ledger" in str(res.exception)
    res = cli.invoke(app, ["tx", SWAP["txID"], "--chain", "tron"], env={"COLUMNS": "240"})
    assert res.exit_code == 0 and "tron-dex:3 (TRON built-in exchange #3" in res.output, res.output
    res = cli.invoke(app, ["tx", SWAP["txID"], "--chain", "tron", "--json"])
    assert json.loads(res.output)["protocol"]["tron-dex:3"]["stop"] is True


@pytest.mark.browser
def test_in_chromium_the_pool_link_opens_the_pool_s_page(world: Path, browser: Any) -> None:
    """A real server and a real browser: click the pool on the swap's page, read its page."""
    import os
    import subprocess
    import sys
    import time

    import httpx

    from fundtrail.testing import free_port

    exe = str(Path(sys.executable).parent / "fundtrail")
    env = {**os.environ, "FUNDTRAIL_HOME": str(world)}
    for args in (["org", "add", "Police", "--kind", "law-enforcement"],
                 ["key", "create", "--org", "Police", "--role", "admin"]):  # fmt: skip
        done = subprocess.run([exe, *args], env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
    found = re.search(r"ft_[A-Za-z0-9_-]+", done.stdout)
    assert found, done.stdout
    port = free_port()
    server = subprocess.Popen([exe, "serve", "--host", "127.0.0.1", "--port", str(port)],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                if httpx.get(url + "/taxii2/", timeout=1).status_code < 500:
                    break
            except httpx.HTTPError:
                time.sleep(0.5)
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        p = context.new_page()
        p.goto(url + "/")
        p.fill("input[name=api_key]", found.group(0))
        p.click("button[type=submit]")
        p.wait_for_url("**/ui/")
        p.goto(url + f"/ui/tx/TRX/{SWAP['txID']}")
        p.click("a:has-text('TRON built-in exchange #3 (Bancor pool)')")
        p.wait_for_url("**/ui/address/TRX/tron-dex*3")
        assert p.inner_text("h1").startswith("TRON built-in exchange #3 (Bancor pool)")
        flows = p.inner_text("#flows")
        assert "2 TRX" in flows and "-20 OLD" in flows, flows
        assert "Error" not in p.title()
        context.close()
    finally:
        server.terminate()
        server.wait(timeout=20)
