"""A JSON-RPC client for EVM nodes: batched requests, bounded concurrency, retries.

Nodes differ: some refuse large batches, some rate-limit, some lack whole method
families (``debug_*``, ``trace_*``, ``eth_getBlockReceipts``). The client retries
only what is transient (connection trouble, timeouts, HTTP 429/5xx, JSON-RPC
"limit exceeded"), and turns everything else into a :class:`RpcError` that names
the method and its parameters, so a caller can say which block was at fault.
It also counts the wall time spent waiting on the node, which the benchmark
compares with the time fundtrail spends on its own work.
"""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Sequence
from typing import Any

from fundtrail.chains.http import JsonHttp, Transient
from fundtrail.errors import SourceError

Call = tuple[str, list[Any]]

_TRANSIENT_RPC = {-32005, 429}  # "limit exceeded" / rate limited (geth, erigon, infura)
_MISSING_RPC = {-32601, -32004}  # method not found / not supported
_MISSING_WORDS = ("not found", "not supported", "not available", "does not exist", "unsupported")


class RpcError(SourceError):
    """The node answered a call with an error, or with something that is not JSON-RPC."""

    def __init__(self, message: str, *, method: str = "", code: int | None = None) -> None:
        super().__init__(message)
        self.method = method
        self.code = code

    @property
    def method_missing(self) -> bool:
        """True when the node does not offer the method (fall back to another)."""
        text = str(self).lower()
        return self.code in _MISSING_RPC or (
            self.code in (-32600, -32602, -32603, -32000, None)
            and any(w in text for w in _MISSING_WORDS)
            and ("method" in text or "tracer" in text or "namespace" in text)
        )


class RpcClient:
    """Talks to one node. Thread-safe; batches run ``concurrency`` HTTP requests at a time
    (over the shared :class:`~fundtrail.chains.http.JsonHttp`: pool, retries, wait time)."""

    def __init__(
        self,
        url: str,
        *,
        batch_size: int = 100,
        concurrency: int = 4,
        retries: int = 4,
        backoff: float = 0.25,
        timeout: float = 60.0,
        headers: dict[str, str] | None = None,
    ) -> None:
        self._http = JsonHttp(
            url,
            headers=headers,
            concurrency=concurrency,
            retries=retries,
            backoff=backoff,
            timeout=timeout,
            thread_name="evm-rpc",
        )
        self.url = url
        self.batch_size = max(1, batch_size)
        self.concurrency = self._http.concurrency
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self.calls = 0

    @property
    def wait_seconds(self) -> float:
        """Wall time spent waiting for answers."""
        return self._http.wait_seconds

    @property
    def http_requests(self) -> int:
        return self._http.requests

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> RpcClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- public ---------------------------------------------------------------------
    def call(self, method: str, *params: Any) -> Any:
        result = self.batch([(method, list(params))], allow_errors=True)[0]
        if isinstance(result, RpcError):
            raise result
        return result

    def batch(self, calls: Sequence[Call], *, allow_errors: bool = False) -> list[Any]:
        """Results of ``calls`` in order. With ``allow_errors`` a failed call yields its
        :class:`RpcError` in place of a result; otherwise the first one is raised."""
        if not calls:
            return []
        chunks = [
            list(calls[i : i + self.batch_size]) for i in range(0, len(calls), self.batch_size)
        ]
        parts = self._http.map(self._send_chunk, chunks)
        results = [r for part in parts for r in part]
        if not allow_errors:
            for r in results:
                if isinstance(r, RpcError):
                    raise r
        return results

    # ---- internals ------------------------------------------------------------------
    def _send_chunk(self, chunk: list[Call]) -> list[Any]:
        ids = [next(self._ids) for _ in chunk]
        body = [
            {"jsonrpc": "2.0", "id": i, "method": m, "params": p}
            for i, (m, p) in zip(ids, chunk, strict=True)
        ]
        what = _describe(*chunk[0]) + (f" and {len(chunk) - 1} more" if len(chunk) > 1 else "")
        with self._lock:
            self.calls += len(body)
        payload = body if len(body) > 1 else body[0]
        answer = self._http.post("", payload, what, check=_rate_limited)
        if isinstance(answer, dict) and "error" in answer and len(chunk) > 1:
            # Some nodes refuse batches (or big ones) with one error object: go smaller.
            half = len(chunk) // 2
            return self._send_chunk(chunk[:half]) + self._send_chunk(chunk[half:])
        if not isinstance(answer, list):
            answer = [answer]
        by_id: dict[Any, Any] = {}
        for item in answer:
            if isinstance(item, dict) and "id" in item:
                by_id[item["id"]] = item
        out: list[Any] = []
        for i, (method, params) in zip(ids, chunk, strict=True):
            item = by_id.get(i)
            if item is None:
                out.append(
                    RpcError(
                        f"node at {self.url} gave no answer to {_describe(method, params)}",
                        method=method,
                    )
                )
            elif item.get("error") is not None:
                err = item["error"]
                code = err.get("code") if isinstance(err, dict) else None
                msg = err.get("message", err) if isinstance(err, dict) else err
                out.append(
                    RpcError(
                        f"node error on {_describe(method, params)}: {msg} (code {code})",
                        method=method,
                        code=code if isinstance(code, int) else None,
                    )
                )
            elif "result" not in item:
                out.append(
                    RpcError(
                        f"answer to {_describe(method, params)} has neither result nor error",
                        method=method,
                    )
                )
            else:
                out.append(item["result"])
        return out


def _rate_limited(answer: Any) -> None:
    items = answer if isinstance(answer, list) else [answer]
    for item in items:
        err = item.get("error") if isinstance(item, dict) else None
        if isinstance(err, dict) and err.get("code") in _TRANSIENT_RPC:
            raise Transient(f"rate limited: {err.get('message')}")


def _describe(method: str, params: list[Any]) -> str:
    shown = ", ".join(json.dumps(p) for p in params)
    return f"{method}({shown[:120]})"
