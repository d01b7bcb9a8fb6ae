"""The JSON-RPC client against a local HTTP server: batching, retries, clear errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from fundtrail.chains.evm.rpc import RpcClient, RpcError
from fundtrail.errors import SourceError


def test_batches_are_split_and_answered_in_order(stub_node: Any, evm_data: Path) -> None:
    stub = stub_node(evm_data / "rpc" / "block_483920")
    hashes = [
        p.name.split("_")[-1][:-5] for p in (evm_data / "rpc" / "block_483920").glob("*Receipt*")
    ]
    with RpcClient(stub.url, batch_size=2, concurrency=2) as client:
        receipts = client.batch([("eth_getTransactionReceipt", [h]) for h in hashes])
        assert [r["transactionHash"] for r in receipts] == hashes
        assert client.http_requests == 2 and client.calls == 4 and client.wait_seconds > 0


def test_transient_http_errors_are_retried(stub_node: Any, evm_data: Path) -> None:
    stub = stub_node(evm_data / "rpc" / "block_483920")
    stub.http_status = [503, 429]
    with RpcClient(stub.url, backoff=0.01) as client:
        assert client.call("eth_getBlockByNumber", "0x76250", True)["number"] == "0x76250"
        assert client.http_requests == 3
    stub.http_status = [502] * 5
    with (
        RpcClient(stub.url, backoff=0.01, retries=2) as client,
        pytest.raises(
            SourceError,
            match=r"kept failing on eth_getBlockByNumber\(\"0x76250\", true\) after 3 tries",
        ),
    ):
        client.call("eth_getBlockByNumber", "0x76250", True)


def test_node_errors_name_the_call_and_tell_missing_methods(stub_node: Any) -> None:
    stub = stub_node()
    with RpcClient(stub.url) as client:
        with pytest.raises(RpcError, match=r"debug_traceBlockByNumber\(\"0x1\"\)") as exc:
            client.call("debug_traceBlockByNumber", "0x1")
        assert exc.value.method_missing
        stub.override = lambda m, p: {"error": {"code": -32000, "message": "header not found"}}
        with pytest.raises(RpcError, match="header not found") as exc:
            client.call("eth_getBlockByNumber", "0x1", True)
        assert not exc.value.method_missing


def test_batch_refused_as_a_whole_falls_back_to_smaller_batches(
    stub_node: Any, evm_data: Path
) -> None:
    stub = stub_node(evm_data / "rpc" / "block_483920")
    stub.batch_limit = 1

    with RpcClient(stub.url) as client:
        calls = [("eth_getBlockByNumber", ["0x76250", True])] * 3
        assert len(client.batch(calls)) == 3


def test_unreachable_node_is_a_clear_error() -> None:
    with (
        RpcClient("http://127.0.0.1:9", retries=1, backoff=0.01) as client,
        pytest.raises(SourceError, match=r"127\.0\.0\.1:9"),
    ):
        client.call("eth_blockNumber")
    with pytest.raises(SourceError, match="must start with http"):
        RpcClient("ftp://example")


def test_concurrency_is_bounded(stub_node: Any, evm_data: Path) -> None:
    stub = stub_node(evm_data / "rpc" / "block_483920")
    stub.delay = 0.05
    with RpcClient(stub.url, batch_size=1, concurrency=3) as client:
        results = client.batch([("eth_getBlockByNumber", ["0x76250", True])] * 12)
    assert len(results) == 12 and client.http_requests == 12
    assert 1 < stub.max_in_flight <= 3
