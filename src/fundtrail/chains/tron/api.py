"""A client for a java-tron node's HTTP API: bounded concurrency, retries, an API key.

Hosted TRON APIs (TronGrid and others) take a key in a header (``TRON-PRO-API-KEY``) and
rate-limit with HTTP 429; a full node answers 5xx when busy. Those are retried with
backoff by the shared :class:`~fundtrail.chains.http.JsonHttp` (the EVM client's too);
anything else becomes a :class:`SourceError` naming the path and the body sent.
``wait_seconds`` counts the wall time spent waiting on the node (the benchmark compares it
with fundtrail's own work).

Paths used (all POST with a JSON body):

===========================================  ==========================================
``/wallet/getnowblock``                      the head block
``/walletsolidity/getnowblock``              the newest solidified (irreversible) block
``/wallet/getblockbylimitnext``              blocks ``startNum .. endNum-1`` (<= 100)
``/wallet/getblockbynum``                    one block
``/wallet/gettransactioninfobyblocknum``     fees, logs, internal txs of one block
``/wallet/triggerconstantcontract``          a TRC-20's ``symbol()`` / ``decimals()``
``/wallet/getassetissuebyid``                a TRC-10 token's abbreviation, precision and
                                             sale price (``trx_num`` / ``num``)
``/wallet/getassetissuebyname``              the same for a token from before token ids
``/wallet/getexchangebyid``                  a Bancor exchange's token pair
``/wallet/getmarketorderbyid``               an order book order's owner and sell token
===========================================  ==========================================
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from fundtrail.chains.http import JsonHttp
from fundtrail.errors import SourceError

API_KEY_HEADER = "TRON-PRO-API-KEY"
MAX_RANGE = 100  # getblockbylimitnext refuses more
ZERO_OWNER = "41" + "00" * 20  # the caller of read-only contract calls
T = TypeVar("T")
U = TypeVar("U")


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
        self._http = JsonHttp(
            url.rstrip("/"),
            label="TRON API URL",
            headers={API_KEY_HEADER: api_key} if api_key else None,
            auth_hint="check the API key (--api-key / FUNDTRAIL_TRON_API_KEY)",
            concurrency=concurrency,
            retries=retries,
            backoff=backoff,
            timeout=timeout,
            thread_name="tron",
        )
        self.url = self._http.url
        self.concurrency = self._http.concurrency

    @property
    def wait_seconds(self) -> float:
        """Wall time during which a request to the node was in flight."""
        return self._http.wait_seconds

    @property
    def requests(self) -> int:
        return self._http.requests

    def close(self) -> None:
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

    def constant_call(self, contract_hex: str, selector: str) -> str | None:
        """The ``0x…`` hex a read-only call of ``selector`` (``"decimals()"``) on the contract
        (``41…`` hex) returns, or None where the contract does not answer it."""
        path = "/wallet/triggerconstantcontract"
        body = {"owner_address": ZERO_OWNER, "contract_address": contract_hex,
                "function_selector": selector, "parameter": ""}  # fmt: skip
        answer = self.post(path, body)
        if not isinstance(answer, dict):
            return None
        result = answer.get("result") or {}
        out = answer.get("constant_result") or []
        if not (isinstance(result, dict) and result.get("result")) or not out:
            return None
        return "0x" + str(out[0])

    def asset_issue(self, token_id: str) -> dict[str, Any]:
        """A TRC-10 token's issue record (``abbr``, ``name`` in hex, ``precision``); {} when
        the node has no such token."""
        path = "/wallet/getassetissuebyid"
        answer = self.post(path, {"value": token_id})
        return answer if isinstance(answer, dict) and "Error" not in answer else {}

    def asset_issue_by_name(self, name: str) -> dict[str, Any]:
        """A TRC-10 token's issue record by its name (hex of UTF-8), for tokens from before
        token ids; {} when the node has none."""
        path = "/wallet/getassetissuebyname"
        answer = self.post(path, {"value": name})
        return answer if isinstance(answer, dict) and "Error" not in answer else {}

    def exchange(self, exchange_id: int) -> dict[str, Any]:
        """A Bancor exchange's record (``first_token_id``, ``second_token_id`` in hex, the
        balances); {} when the node has none."""
        path = "/wallet/getexchangebyid"
        answer = self.post(path, {"id": exchange_id})
        return answer if isinstance(answer, dict) and "Error" not in answer else {}

    def market_order(self, order_id: str) -> dict[str, Any]:
        """An order book order (``owner_address``, ``sell_token_id``,
        ``sell_token_quantity_return``…); {} when the node has none."""
        path = "/wallet/getmarketorderbyid"
        answer = self.post(path, {"value": order_id})
        return answer if isinstance(answer, dict) and "Error" not in answer else {}

    def map(self, fn: Callable[[T], U], items: Sequence[T]) -> list[U]:
        return self._http.map(fn, items)

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
        return self._http.post(path, body, f"{path} {json.dumps(body)}")
