"""A local JSON-RPC HTTP server that replays recorded node answers (ethereum-etl fixtures).

A request ``method(params)`` is answered from ``web3_response.<method>_<params>.json``
(ethereum-etl's naming: params joined by ``_``, objects as sorted ``key_value`` pairs,
lower case). Methods with no recording get JSON-RPC error -32601, as a node lacking
them would. ``overrides`` can replace answers (garbage, errors, HTTP failures) to test
how fundtrail copes.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

Override = Callable[[str, list[Any]], Any]


def request_key(method: str, params: list[Any]) -> str:
    parts: list[str] = []
    for p in params:
        if isinstance(p, dict):
            for k in sorted(p):
                parts += [str(k), str(p[k])]
        else:
            parts.append(str(p))
    return "_".join([method, *parts]).lower()


class StubNode:
    """Serve recorded answers on 127.0.0.1:<free port> until ``close()``."""

    def __init__(self, *folders: Path) -> None:
        self.answers: dict[str, Any] = {}
        for folder in folders:
            for f in folder.glob("web3_response.*.json"):
                key = f.name.removeprefix("web3_response.").removesuffix(".json").lower()
                self.answers[key] = json.loads(f.read_text())["result"]
        self.head: int | None = None
        self.override: Override | None = None
        self.http_status: list[int] = []  # statuses to answer with before the real answer
        self.requests: list[tuple[str, list[Any]]] = []
        self.batch_limit: int | None = None  # refuse bigger batches with one error object
        self.delay = 0.0  # seconds each HTTP request takes
        self.in_flight = 0
        self.max_in_flight = 0
        lock = threading.Lock()
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                # A request is in flight until its answer is sent: count down *before*
                # writing it, or the client's next request can race the decrement.
                with lock:
                    stub.in_flight += 1
                    stub.max_in_flight = max(stub.max_in_flight, stub.in_flight)
                try:
                    time.sleep(stub.delay)
                finally:
                    with lock:
                        stub.in_flight -= 1
                self._post()

            def _post(self) -> None:
                body = self.rfile.read(int(self.headers["content-length"]))
                if stub.http_status:
                    code = stub.http_status.pop(0)
                    self.send_response(code)
                    self.end_headers()
                    return
                try:
                    req = json.loads(body)
                except ValueError:
                    self.send_response(400)
                    self.end_headers()
                    return
                if isinstance(req, list) and stub.batch_limit and len(req) > stub.batch_limit:
                    out: Any = {
                        "jsonrpc": "2.0",
                        "id": None,
                        "error": {"code": -32600, "message": "batch too large"},
                    }
                elif isinstance(req, list):
                    out = [stub.answer(r) for r in req]
                else:
                    out = stub.answer(req)
                data = out if isinstance(out, bytes) else json.dumps(out).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self.thread.start()

    def answer(self, req: dict[str, Any]) -> Any:
        method, params = req["method"], req.get("params", [])
        self.requests.append((method, params))
        ok = {"jsonrpc": "2.0", "id": req["id"]}
        if self.override is not None:
            result = self.override(method, params)
            if result is not None:
                return {**ok, **result} if isinstance(result, dict) else result
        if method == "eth_blockNumber" and self.head is not None:
            return {**ok, "result": hex(self.head)}
        key = request_key(method, params)
        if key in self.answers:
            return {**ok, "result": self.answers[key]}
        known = {k.split("_0x")[0] for k in self.answers}
        if method in known or method == "eth_call":
            return {**ok, "error": {"code": -32000, "message": f"no recorded answer for {key}"}}
        return {**ok, "error": {"code": -32601, "message": f"the method {method} does not exist"}}

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
