"""One HTTP JSON client for every node fundtrail reads: a connection pool, bounded
concurrency, retries with backoff, an optional API-key header, and the time spent waiting.

Nodes and hosted APIs differ in what they answer, not in how they fail: connection
trouble, timeouts and HTTP 408/425/429/5xx are transient and retried with exponential
backoff (0.25 s, 0.5 s, ... at most 8 s); anything else becomes a
:class:`~fundtrail.errors.SourceError` naming the node and what was asked. A caller that
recognises a transient failure inside an answer (a JSON-RPC "limit exceeded") passes a
``check`` that raises :class:`Transient`.

``wait_seconds`` is the wall time during which at least one request was in flight
(concurrent requests are not counted twice), so ``wait_seconds / elapsed`` is the share of
an ingest spent waiting on the node. Used by the EVM JSON-RPC client
(:mod:`fundtrail.chains.evm.rpc`) and the java-tron HTTP client
(:mod:`fundtrail.chains.tron.api`).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import httpx

from fundtrail.errors import SourceError

TRANSIENT_HTTP = frozenset({408, 425, 429, 500, 502, 503, 504})
T = TypeVar("T")
U = TypeVar("U")


class Transient(Exception):
    """A failure worth retrying."""


class JsonHttp:
    """POSTs JSON to one base URL. Thread-safe; ``map`` runs ``concurrency`` calls at a time."""

    def __init__(
        self,
        url: str,
        *,
        label: str = "RPC URL",
        headers: dict[str, str] | None = None,
        auth_hint: str | None = None,
        concurrency: int = 4,
        retries: int = 4,
        backoff: float = 0.25,
        timeout: float = 60.0,
        thread_name: str = "node-http",
    ) -> None:
        if not url.startswith(("http://", "https://")):
            raise SourceError(f"{label} {url!r} must start with http:// or https://")
        self.url = url
        self.concurrency = max(1, concurrency)
        self.retries = retries
        self.backoff = backoff
        self.auth_hint = auth_hint
        self._http = httpx.Client(
            timeout=timeout,
            limits=httpx.Limits(max_connections=self.concurrency),
            headers={"content-type": "application/json", **(headers or {})},
        )
        self._pool = ThreadPoolExecutor(
            max_workers=self.concurrency, thread_name_prefix=thread_name
        )
        self._lock = threading.Lock()
        self._in_flight = 0
        self._since = 0.0
        self.wait_seconds = 0.0
        self.requests = 0  # HTTP requests sent, retries included

    def close(self) -> None:
        self._pool.shutdown(wait=False)
        self._http.close()

    def map(self, fn: Callable[[T], U], items: Sequence[T]) -> list[U]:
        """``fn`` over ``items`` in order, ``concurrency`` at a time."""
        if len(items) <= 1:
            return [fn(x) for x in items]
        return list(self._pool.map(fn, items))

    def post(
        self,
        path: str,
        payload: Any,
        what: str,
        *,
        check: Callable[[Any], None] | None = None,
    ) -> Any:
        """The decoded JSON answer to ``payload`` POSTed at ``url + path``, retrying transient
        failures (and those ``check`` raises :class:`Transient` for)."""
        self._started()
        try:
            delay = self.backoff
            for attempt in range(self.retries + 1):
                try:
                    answer = self._post(path, payload, what)
                    if check is not None:
                        check(answer)
                    return answer
                except Transient as exc:
                    if attempt == self.retries:
                        raise SourceError(
                            f"node at {self.url} kept failing on {what} after "
                            f"{self.retries + 1} tries: {exc}"
                        ) from exc
                    time.sleep(delay)
                    delay = min(delay * 2, 8.0)
            raise AssertionError("unreachable")
        finally:
            self._finished()

    # ---- internals ----------------------------------------------------------------------
    def _started(self) -> None:
        with self._lock:
            if self._in_flight == 0:
                self._since = time.perf_counter()
            self._in_flight += 1

    def _finished(self) -> None:
        with self._lock:
            self._in_flight -= 1
            if self._in_flight == 0:
                self.wait_seconds += time.perf_counter() - self._since

    def _post(self, path: str, payload: Any, what: str) -> Any:
        with self._lock:
            self.requests += 1
        try:
            resp = self._http.post(self.url + path, content=json.dumps(payload))
        except (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError) as exc:
            raise Transient(f"{type(exc).__name__}: {exc}") from exc
        except httpx.HTTPError as exc:
            raise SourceError(f"cannot reach node at {self.url} for {what}: {exc}") from exc
        if resp.status_code in TRANSIENT_HTTP:
            raise Transient(f"HTTP {resp.status_code}")
        if resp.status_code in (401, 403) and self.auth_hint:
            raise SourceError(
                f"node at {self.url} refused {what} (HTTP {resp.status_code}): {self.auth_hint}"
            )
        if resp.status_code >= 400:
            raise SourceError(
                f"node at {self.url} answered HTTP {resp.status_code} to {what}: {resp.text[:200]}"
            )
        try:
            return resp.json()
        except ValueError as exc:
            raise SourceError(
                f"node at {self.url} answered {what} with something that is not JSON: "
                f"{resp.text[:120]!r}"
            ) from exc
