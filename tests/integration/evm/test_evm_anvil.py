"""Ingest from a real node (anvil) and check every balance against the node itself."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from fundtrail.chains.evm import reads
from fundtrail.chains.evm.devnode import DevNode
from fundtrail.chains.evm.ingest import ingest_rpc
from fundtrail.chainstore.store import ChainStore
from fundtrail.cli.main import app

pytestmark = pytest.mark.evmnode


def _evm_addresses(store: ChainStore) -> list[str]:
    rows = store.read_table("addresses").to_pylist()
    return [r["address"] for r in rows if r["script_type"] == "evm"]


def _assert_balances_match(store: ChainStore, node: DevNode, at: int, token: str | None) -> int:
    checked = 0
    for a in _evm_addresses(store):
        summary = reads.address_summary(store, a)
        assert summary["balance"] == node.balance(a, at), a
        if token is not None:
            held = {t["contract"].lower(): t["balance"] for t in summary["tokens"]}
            if a != "0x" + "0" * 40:  # the zero address is the mint's source (goes negative)
                raw = node.rpc(
                    "eth_call", {"to": token, "data": "0x70a08231" + a[2:].rjust(64, "0")}, hex(at)
                )
                assert held.get(token, 0) == int(raw, 16), a
        checked += 1
    return checked


def test_every_balance_matches_the_node(
    anvil: DevNode, anvil_activity: dict[str, Any], home: Path
) -> None:
    report = ingest_rpc(anvil.url, chain="eth", home=home)  # default 12 confirmations
    tip = anvil.block_number() - 12
    assert report.last == tip and report.tracer == "debug"
    store = ChainStore("ETH", home)
    assert _assert_balances_match(store, anvil, tip, anvil_activity["token"]) >= 8
    s = reads.stats(store)
    assert s["blocks"] == tip + 1
    assert s["txs"] == int(
        anvil.rpc("eth_getTransactionCount", anvil_activity["accounts"][0], hex(tip)), 16
    ) + sum(
        int(anvil.rpc("eth_getTransactionCount", a, hex(tip)), 16)
        for a in anvil_activity["accounts"][1:]
    )
    token = next(t for t in reads.address_summary(store, anvil_activity["accounts"][1])["tokens"])
    assert (token["symbol"], token["decimals"]) == ("FTT", 6)


def test_internal_failed_and_reverted_movements(
    anvil: DevNode, anvil_activity: dict[str, Any], home: Path
) -> None:
    ingest_rpc(anvil.url, chain="eth", home=home)
    store = ChainStore("ETH", home)
    txs = anvil_activity["txs"]
    a, _b, _c, d = anvil_activity["accounts"]

    def kinds(tx: str) -> list[tuple[str, str | None, str | None, int]]:
        out = reads.tx_summary(store, tx)["transfers"]
        return sorted(
            (t["kind"], (t["from"] or "").lower(), (t["to"] or "").lower(), t["value"]) for t in out
        )

    internal = [k for k in kinds(txs["internal"]) if k[0] == "internal"]
    assert internal == [("internal", anvil_activity["forwarder"], d, 7 * 10**17)]
    # the inner call failed: the forwarder keeps the value, no internal transfer recorded
    assert [k[0] for k in kinds(txs["inner_failed"])] == ["burn", "fee", "native"]
    # reverted txs pay gas and move nothing else (no native value, no token transfer)
    for tx in (txs["failed"], txs["failed_token"]):
        summary = reads.tx_summary(store, tx)
        assert summary["status"] == "failed"
        assert sorted(k[0] for k in kinds(tx)) == ["burn", "fee"]
        assert sum(t["value"] for t in summary["transfers"]) == summary["fee"] > 0
    created = [k for k in kinds(txs["create"]) if k[0] == "internal"]
    assert created == [
        ("internal", anvil_activity["forwarder"], anvil_activity["child"], 4 * 10**16)
    ]
    destroyed = [k for k in kinds(txs["selfdestruct"]) if k[0] == "internal"]
    assert destroyed == [("internal", anvil_activity["child"], a, 4 * 10**16)]


def test_resume_in_two_steps_equals_one_run(
    anvil: DevNode, anvil_activity: dict[str, Any], tmp_path: Path
) -> None:
    one, two = tmp_path / "one", tmp_path / "two"
    tip = anvil.block_number() - 12
    ingest_rpc(anvil.url, home=one, stop=tip)
    first = ingest_rpc(anvil.url, home=two, stop=5)
    second = ingest_rpc(anvil.url, home=two, stop=tip)
    again = ingest_rpc(anvil.url, home=two, stop=tip)
    assert (first.last, second.first, second.last, again.blocks) == (5, 6, tip, 0)
    s1, s2 = ChainStore("ETH", one), ChainStore("ETH", two)
    # ids depend on batch boundaries; the movements themselves must not
    q = """SELECT t.tx_hash, t.block, t.tx_index, t.log_index, t.trace_index, f.address, r.address,
                  t.asset_id, t.value, t.kind
           FROM transfers t JOIN addresses f ON f.address_id = t.from_id
           JOIN addresses r ON r.address_id = t.to_id ORDER BY ALL"""
    rows = s1.connect().sql(q).fetchall()
    assert len(rows) > 30 and rows == s2.connect().sql(q).fetchall()


def test_reorg_rolls_back_changed_blocks(home: Path) -> None:
    with DevNode() as node:
        a, b, c = node.accounts[:3]
        node.send(a, b, value=10**18)
        snap = node.rpc("evm_snapshot")
        node.send(a, b, value=2 * 10**18)  # block 2, to be orphaned
        node.send(b, c, value=10**17)  # block 3, to be orphaned
        first = ingest_rpc(node.url, home=home, confirmations=0)
        assert first.last == 3
        node.rpc("evm_revert", snap)
        node.send(a, c, value=5 * 10**18)  # new block 2
        node.mine(3)  # blocks 3..5
        second = ingest_rpc(node.url, home=home, confirmations=0)
        assert second.rolled_back == 2 and second.last == 5
        store = ChainStore("ETH", home)
        assert _assert_balances_match(store, node, 5, None) >= 3
        hashes = dict(store.connect().sql("SELECT number, hash FROM blocks").fetchall())
        for n in range(6):
            assert hashes[n] == node.rpc("eth_getBlockByNumber", hex(n), False)["hash"]


@pytest.mark.parametrize(
    ("refused", "tracer"), [(("debug_",), "parity"), (("debug_", "trace_"), "none")]
)
def test_node_without_call_tracer_falls_back_cleanly(
    home: Path, stub_node: Any, refused: tuple[str, ...], tracer: str
) -> None:
    """A proxy in front of anvil refuses some method families: ingest uses what is left."""
    with DevNode() as node:
        a, b = node.accounts[:2]
        fwd = node.deploy("Forwarder", sender=a)
        node.transact(fwd, "split(address,address)", [b, a], sender=a, value=10**17 + 1)
        stub = stub_node()

        def proxy(method: str, params: list[Any]) -> Any:
            if method.startswith(refused):
                return None  # fall through: the stub answers "method does not exist"
            return node.rpc_raw(method, params)

        stub.override = proxy
        # the first blocks come from anvil itself, which traces with debug_*: the store
        # remembers that, and must probe again when the next node lacks it
        assert ingest_rpc(node.url, home=home, confirmations=0, stop=1).tracer == "debug"
        report = ingest_rpc(stub.url, home=home, confirmations=0)
        assert report.tracer == tracer
        store = ChainStore("ETH", home)
        kinds = reads.stats(store)["transfers_by_kind"]
        if tracer == "parity":  # trace_block: same internal transfers, balances still exact
            assert kinds["internal"] == 2
            assert _assert_balances_match(store, node, node.block_number(), None) >= 3
        else:
            assert "internal" not in kinds and any("internal transfers" in n for n in report.notes)


def test_cli_ingest_and_reads(anvil: DevNode, anvil_activity: dict[str, Any], home: Path) -> None:
    runner = CliRunner()
    res = runner.invoke(app, ["ingest", "evm", "--rpc", anvil.url, "--chain", "eth", "--json"])
    assert res.exit_code == 0, res.output
    body = json.loads(res.output)
    assert body["blocks"] == anvil.block_number() - 12 + 1
    b = reads.display(anvil_activity["accounts"][1])
    res = runner.invoke(app, ["address", b, "--chain", "eth", "--json"])
    assert res.exit_code == 0, res.output
    shown = json.loads(res.output)
    assert shown["address"] == b and shown["balance"] == anvil.balance(b, body["last"])
    assert shown["tokens"][0]["symbol"] == "FTT"
    stats = json.loads(runner.invoke(app, ["stats", "--chain", "eth", "--json"]).output)
    assert stats["blocks"] == body["blocks"] and stats["transfers"] == body["transfers"]
    tx = anvil_activity["txs"]["token"]
    res = runner.invoke(app, ["tx", tx, "--chain", "eth", "--json"])
    assert [t["kind"] for t in json.loads(res.output)["transfers"]] == ["burn", "fee", "token"]
    i = next(k for k in range(2, 42) if b[k].isalpha())
    wrong = b[:i] + b[i].swapcase() + b[i + 1 :]  # one letter's case flipped
    res = runner.invoke(app, ["address", wrong, "--chain", "eth", "--json"])
    assert res.exit_code != 0 and "EIP-55 checksum mismatch" in str(res.exception)
