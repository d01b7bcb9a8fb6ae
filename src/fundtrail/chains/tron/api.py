"""A client for a java-tron node's HTTP API: bounded concurrency, retries, an API key.

Hosted TRON APIs (TronGrid and others) take a key in a header (``TRON-PRO-API-KEY``) and
rate-limit with HTTP 429; a full node answers 5xx when busy. Those are retried with
backoff; anything else becomes a :class:`SourceError` naming the path and the body sent.
``wait_seconds`` counts the wall time spent waiting on the node (the benchmark compares it
with fundtrail's own work).

Paths used (all POST with a JSON body):

===========================================  ==========================================
``/wallet/getnowblock``                      the head block
``/walletsolidity/getnowblock``              the newest solidified (irreversible) block
``/wallet/getblockbylimitnext``              blocks ``startNum .. endNum-1`` (<= 100)
``/wallet/getblockbynum``                    one block
``/wallet/gettransactioninfobyblocknum``     fees, logs, internal txs of one block
===========================================  ==========================================
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

API_KEY_HEADER = "TRON-PRO-API-KEY"
MAX_RANGE = 100  # getblockbylimitnext refuses more
_TRANSIENT_HTTP = {408, 425, 429, 500, 502, 503, 504}
T = TypeVar("T")
U = TypeVar("U")


class _Transient(Exception):
    pass


class TronClient:
    """Talks to one java-tron HTTP endpoint. Thread-safe."""

    def __init__(
        self,
        url: str,
        *,
        api_key: str | None = None,
        concurrency: int = 4,
        retries: int = 4,
        backoff: float = 0.25,
        timeout: float = 60.0,
    ) -> None:
        if not url.startswith(("http://", "https://")):
            raise SourceError(f"TRON API URL {url!r} must start with http:// or https://")
        self.url = url.rstrip("/")
        self.concurrency = max(1, concurrency)
        self.retries = retries
        self.backoff = backoff
        headers = {"content-type": "application/json"}
        if api_key:
            headers[API_KEY_HEADER] = api_key
        self._http = httpx.Client(
            timeout=timeout,
            limits=httpx.Limits(max_connections=self.concurrency),
            headers=headers,
        )
        self._pool = ThreadPoolExecutor(max_workers=self.concurrency, thread_name_prefix="tron")
        self._lock = threading.Lock()
        self.wait_seconds = 0.0
        self.requests = 0

    def close(self) -> None:
        self._pool.shutdown(wait=False)
        self._http.close()

    def __enter__(self) -> TronClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- the calls ingest makes -------------------------------------------------------
    def now_block(self, *, solidified: bool = False) -> dict[str, Any]:
        path = "/walletsolidity/getnowblock" if solidified else "/wallet/getnowblock"
        return self._dict(self.post(path, {}), path)

    def block(self, number: int) -> dict[str, Any]:
        path = "/wallet/getblockbynum"
        answer = self._dict(self.post(path, {"num": number}), path)
        if not answer:
            raise SourceError(f"node at {self.url} has no block {number}")
        return answer

    def blocks(self, numbers: Sequence[int]) -> list[dict[str, Any]]:
        """Blocks ``numbers`` (consecutive), by ranges of up to 100, in order."""
        if not numbers:
            return []
        first, last = numbers[0], numbers[-1]
        if list(numbers) != list(range(first, last + 1)):
            raise ValueError("blocks() takes consecutive numbers")
        ranges = [(a, min(a + MAX_RANGE, last + 1)) for a in range(first, last + 1, MAX_RANGE)]
        parts = self.map(self._range, ranges)
        out = [b for part in parts for b in part]
        got = [int(b.get("block_header", {}).get("raw_data", {}).get("number", -1)) for b in out]
        if got != list(numbers):
            missing = sorted(set(numbers) - set(got))
            if missing:
                raise SourceError(
                    f"node at {self.url} has no block {missing[0]} (asked for {first}..{last}; "
                    "a lite node keeps only recent blocks: start later with --from)"
                )
            raise SourceError(
                f"node at {self.url} answered blocks {got[:3]}... for {first}..{last}"
            )
        return out

    def tx_infos(self, number: int) -> list[dict[str, Any]]:
        path = "/wallet/gettransactioninfobyblocknum"
        answer = self.post(path, {"num": number})
        if isinstance(answer, dict) and not answer:
            return []
        if not isinstance(answer, list):
            raise SourceError(f"node at {self.url} answered {path} with {str(answer)[:120]}")
        return answer

    def map(self, fn: Callable[[T], U], items: Sequence[T]) -> list[U]:
        if len(items) <= 1:
            return [fn(x) for x in items]
        return list(self._pool.map(fn, items))

    # ---- internals ----------------------------------------------------------------------
    def _range(self, bounds: tuple[int, int]) -> list[dict[str, Any]]:
        path = "/wallet/getblockbylimitnext"
        answer = self.post(path, {"startNum": bounds[0], "endNum": bounds[1]})
        if isinstance(answer, dict):
            blocks = answer.get("block") or []
            if not blocks and answer:
                raise SourceError(f"node at {self.url} answered {path}: {str(answer)[:160]}")
            return list(blocks)
        raise SourceError(f"node at {self.url} answered {path} with {str(answer)[:120]}")

    def _dict(self, answer: Any, path: str) -> dict[str, Any]:
        if not isinstance(answer, dict):
            raise SourceError(f"node at {self.url} answered {path} with {str(answer)[:120]}")
        if "Error" in answer or "error" in answer:
            raise SourceError(f"node at {self.url} refused {path}: {str(answer)[:160]}")
        return answer

    def post(self, path: str, body: dict[str, Any]) -> Any:
        started = time.perf_counter()
        what = f"{path} {json.dumps(body)}"
        delay = self.backoff
        try:
            for attempt in range(self.retries + 1):
                try:
                    return self._post(path, body, what)
                except _Transient as exc:
                    if attempt == self.retries:
                        raise SourceError(
                            f"node at {self.url} kept failing on {what} after "
                            f"{self.retries + 1} tries: {exc}"
                        ) from exc
                    time.sleep(delay)
                    delay = min(delay * 2, 8.0)
            raise AssertionError("unreachable")
        finally:
            with self._lock:
                self.wait_seconds += time.perf_counter() - started

    def _post(self, path: str, body: dict[str, Any], what: str) -> Any:
        with self._lock:
            self.requests += 1
        try:
            resp = self._http.post(self.url + path, content=json.dumps(body))
        except (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError) as exc:
            raise _Transient(f"{type(exc).__name__}: {exc}") from exc
        except httpx.HTTPError as exc:
            raise SourceError(f"cannot reach node at {self.url} for {what}: {exc}") from exc
        if resp.status_code in _TRANSIENT_HTTP:
            raise _Transient(f"HTTP {resp.status_code}")
        if resp.status_code in (401, 403):
            raise SourceError(
                f"node at {self.url} refused {path} (HTTP {resp.status_code}): "
                f"check the API key (--api-key / FUNDTRAIL_TRON_API_KEY)"
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
