"""Chain data over the API: counts, an address, a tx and a trace, all behind a key.

c0: coinbase -> victim 1000
pay: victim 1000 -> scam 990 (10 fee)
out: scam 990 -> dep 980 (10 fee)         dep is Kraylo Exchange's deposit address
"""

from __future__ import annotations

from pathlib import Path

import pytest

from fundtrail.analysis.trace.testing import UtxoChain, btc_address, txid_of


@pytest.fixture
def chain_hub(hub):
    chain = UtxoChain()
    chain.tx("c0", [], [("victim", 1000)])
    chain.tx("pay", [("c0", 0)], [("scam", 990)])
    chain.tx("out", [("pay", 0)], [("dep", 980)])
    chain.cluster("exch", ["dep"])
    chain.entity("exch", "Kraylo Exchange", "exchange")
    chain.commit(Path(hub.app.state.settings.home))
    return hub


def test_chain_counts_and_an_address(chain_hub) -> None:
    auth = chain_hub.auth("bank/reader")
    (btc,) = chain_hub.client.get("/api/v1/chains", headers=auth).json()
    assert btc["chain"] == "BTC" and btc["txs"] == 3
    r = chain_hub.client.get(f"/api/v1/addresses/BTC/{btc_address('scam')}", headers=auth)
    assert r.status_code == 200
    body = r.json()
    assert body["balance"] == 0 and body["total_received"] == 990 and body["total_sent"] == 990


def test_a_mistyped_address_names_the_checksum(chain_hub) -> None:
    bad = btc_address("scam")[:-1] + ("q" if btc_address("scam")[-1] != "q" else "p")
    r = chain_hub.client.get(f"/api/v1/addresses/BTC/{bad}", headers=chain_hub.auth("bank/reader"))
    assert r.status_code == 422 and "checksum" in r.json()["message"]


def test_tx_and_trace_to_the_cash_out(chain_hub) -> None:
    auth = chain_hub.auth("police/reader")
    tx = chain_hub.client.get(f"/api/v1/txs/BTC/{txid_of('pay')}", headers=auth).json()
    assert tx["fee"] == 10 and tx["outputs"][0]["value"] == 990
    r = chain_hub.client.get(
        "/api/v1/trace",
        headers=auth,
        params={"chain": "BTC", "start": f"{txid_of('pay')}:0", "method": "haircut", "hops": 5},
    )
    assert r.status_code == 200, r.text
    (end,) = [e for e in r.json()["endpoints"] if e["kind"] == "cash-out"]
    assert end["entity"]["label"] == "Kraylo Exchange" and end["amount"] == 980


def test_chain_routes_need_a_key(chain_hub) -> None:
    assert chain_hub.client.get("/api/v1/chains").status_code == 401
    assert chain_hub.client.get("/api/v1/trace?start=x").status_code == 401


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"method": "magic"}, "method"),
        ({"direction": "sideways"}, "direction"),
        ({"hops": 99}, "hops"),
        ({"min_share": 2}, "min_share"),
        ({"min_amount": -1}, "min_amount"),
        ({"since": "yesterday"}, "since"),
    ],
)
def test_bad_trace_options_name_the_field(chain_hub, params: dict[str, object], field: str) -> None:
    r = chain_hub.client.get(
        "/api/v1/trace",
        headers=chain_hub.auth("police/reader"),
        params={"chain": "BTC", "start": f"{txid_of('pay')}:0", **params},
    )
    assert r.status_code == 422 and r.json()["field"] == field, r.text


def test_an_unknown_chain_names_the_known_ones_and_creates_nothing(chain_hub) -> None:
    home = Path(chain_hub.app.state.settings.home)
    auth = chain_hub.auth("bank/reader")
    for path in ("/api/v1/txs/FOO/x", f"/api/v1/addresses/FOO/{btc_address('scam')}"):
        r = chain_hub.client.get(path, headers=auth)
        assert r.status_code == 422, r.text
        assert "unknown chain 'FOO'" in r.json()["message"] and "TRX" in r.json()["message"]
    r = chain_hub.client.get(f"/api/v1/txs/LTC/{txid_of('pay')}", headers=auth)
    assert r.status_code == 404 and "LTC chain store" in r.json()["message"]
    assert sorted(p.name for p in (home / "chains").iterdir()) == ["btc"]
