"""The RPC path against a local JSON-RPC server that serves the real blocks, auth checked."""

from __future__ import annotations

import base64
import contextlib
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from btc_blocks import HAL_TX, TIP_255, block_hash

from fundtrail.chains.bitcoin.genesis import genesis_raw
from fundtrail.chains.bitcoin.ingest import ingest_rpc
from fundtrail.chainstore import ChainStore
from fundtrail.chainstore.utxo_reads import stats, tx_summary
from fundtrail.errors import SourceError


class FakeNode:
    """What a Bitcoin Core node answers, with switches to make it misbehave."""

    def __init__(self, blocks: list[bytes], user: str, password: str) -> None:
        self.blocks = blocks
        self.by_hash = {block_hash(b): b for b in blocks}
        self.auth = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
        self.fault: dict[str, Any] = {}
        self.calls: list[str] = []

    def answer(self, method: str, params: list[Any]) -> tuple[Any, Any]:
        self.calls.append(method)
        if method in self.fault:
            return self.fault[method](params)
        if method == "getblockcount":
            return len(self.blocks) - 1, None
        if method == "getblockhash":
            if not 0 <= params[0] < len(self.blocks):
                return None, {"code": -8, "message": "Block height out of range"}
            return block_hash(self.blocks[params[0]]), None
        if method == "getblock" and params[1] == 0:
            raw = self.by_hash.get(params[0])
            if raw is None:
                return None, {"code": -5, "message": "Block not found"}
            return raw.hex(), None
        return None, {"code": -32601, "message": "Method not found"}


@pytest.fixture
def node(early_blocks: list[bytes]) -> Iterator[tuple[str, FakeNode]]:
    with serve([genesis_raw(), *early_blocks]) as served:
        yield served


@contextlib.contextmanager
def serve(blocks: list[bytes]) -> Iterator[tuple[str, FakeNode]]:
    """A local JSON-RPC server answering for ``blocks`` (height = index), user alice."""
    fake = FakeNode(blocks, "alice", "s3cret")

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as bitcoind
        disable_nagle_algorithm = True

        def do_POST(self) -> None:
            if self.headers.get("Authorization") != fake.auth:
                self.send_response(401)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            req = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            result, error = fake.answer(req["method"], req["params"])
            body = (
                result
                if isinstance(result, bytes)
                else json.dumps({"result": result, "error": error, "id": req["id"]}).encode()
            )
            self.send_response(500 if error else 200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/", fake
    finally:
        server.shutdown()
        server.server_close()


def test_ingest_over_rpc_with_password(home: Path, node: tuple[str, FakeNode]) -> None:
    url, fake = node
    report = ingest_rpc(url, user="alice", password="s3cret")
    assert (report.blocks_added, report.tip_height, report.tip_hash) == (256, 255, TIP_255)
    assert tx_summary(ChainStore("BTC"), HAL_TX)["block_height"] == 170
    assert fake.calls.count("getblock") == 255  # genesis is built in, heights 1..255 fetched


def test_incremental_with_cookie_auth(
    home: Path, node: tuple[str, FakeNode], tmp_path: Path
) -> None:
    url, _ = node
    cookie = tmp_path / ".cookie"
    cookie.write_text("alice:s3cret")
    first = ingest_rpc(url, stop=100, cookie=cookie)
    assert first.tip_height == 100
    second = ingest_rpc(url, cookie=cookie)  # re-reads the last 6 to notice a node reorg
    assert (second.blocks_added, second.duplicates, second.tip_height) == (155, 6, 255)


def test_wrong_password_is_refused(home: Path, node: tuple[str, FakeNode]) -> None:
    url, _ = node
    with pytest.raises(SourceError, match="refused our credentials"):
        ingest_rpc(url, user="alice", password="wrong")
    with pytest.raises(SourceError, match="refused our credentials"):
        ingest_rpc(url)


@pytest.mark.parametrize(
    ("method", "fault", "message"),
    [
        (
            "getblock",
            lambda p: (None, {"code": -1, "message": "database corrupted"}),
            r"getblock\(.*node answered with an error: database corrupted",
        ),
        ("getblock", lambda p: ("zz" * 100, None), r"block 21 \(.*expected the block as hex"),
        ("getblock", lambda p: (genesis_raw().hex(), None), "returned block 000000000019d6"),
        (  # height 0 answers: the node's network is read from its genesis first
            "getblockhash",
            lambda p: ([1, 2], None) if p[0] else (block_hash(genesis_raw()), None),
            r"getblockhash\(21\): expected a block hash",
        ),
        ("getblockcount", lambda p: ("many", None), "expected a height"),
        ("getblockcount", lambda p: (b"<html>oops</html>", None), "answer is not JSON"),
    ],
)
def test_rpc_errors_and_nonsense_lose_nothing(
    home: Path, node: tuple[str, FakeNode], method: str, fault: Any, message: str
) -> None:
    url, fake = node
    ingest_rpc(url, stop=20, user="alice", password="s3cret")
    store = ChainStore("BTC")
    before, version = stats(store), store.version
    fake.fault[method] = fault
    with pytest.raises(SourceError, match=message):
        ingest_rpc(url, start=21, user="alice", password="s3cret")
    store.refresh()
    assert stats(store) == before and store.version == version


def test_unreachable_node(home: Path) -> None:
    with pytest.raises(SourceError, match="cannot reach the node"):
        ingest_rpc("http://127.0.0.1:9/", user="a", password="b")
    with pytest.raises(SourceError, match="must look like"):
        ingest_rpc("ftp://node", user="a", password="b")
