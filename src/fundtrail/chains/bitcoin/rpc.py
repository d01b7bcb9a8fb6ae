"""A small Bitcoin Core JSON-RPC client: getblockcount, getblockhash, getblock verbosity 0.

Auth is user/password or the node's ``.cookie`` file (``__cookie__:secret``), or
credentials in the URL. Every answer crosses a trust boundary, so its shape is checked
and anything odd (an RPC error, a non-JSON body, a hash that does not match the block
returned) is a :class:`~fundtrail.errors.SourceError` naming the call and the height.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx

from fundtrail.chains.bitcoin.blkfile import RawBlock
from fundtrail.chains.bitcoin.parse import ParseError, parse_header
from fundtrail.errors import SourceError

_HEX = re.compile(r"[0-9a-fA-F]*")


class BitcoinRpc:
    def __init__(
        self,
        url: str,
        *,
        user: str | None = None,
        password: str | None = None,
        cookie: Path | None = None,
        timeout: float = 60.0,
    ) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise SourceError(f"RPC URL {url!r} must look like http://host:8332")
        if parts.username and user is None:
            user, password = parts.username, parts.password or ""
        netloc = parts.hostname + (f":{parts.port}" if parts.port else "")
        self.url = urlunsplit((parts.scheme, netloc, parts.path or "/", "", ""))
        if cookie is not None:
            user, password = _read_cookie(Path(cookie))
        auth = (user, password or "") if user is not None else None
        self._client = httpx.Client(auth=auth, timeout=timeout)
        self._ids = itertools.count(1)

    def call(self, method: str, *params: Any) -> Any:
        body = {"jsonrpc": "1.0", "id": next(self._ids), "method": method, "params": list(params)}
        what = f"RPC {method}({', '.join(map(repr, params))}) at {self.url}"
        try:
            resp = self._client.post(self.url, json=body)
        except httpx.HTTPError as exc:
            raise SourceError(f"{what}: cannot reach the node: {exc}") from exc
        if resp.status_code in (401, 403):
            raise SourceError(f"{what}: the node refused our credentials (HTTP {resp.status_code})")
        try:
            answer = resp.json()
        except ValueError:
            raise SourceError(
                f"{what}: answer is not JSON (HTTP {resp.status_code}): {resp.text[:120]!r}"
            ) from None
        if not isinstance(answer, dict) or ("result" not in answer and "error" not in answer):
            raise SourceError(f"{what}: answer is not a JSON-RPC response: {str(answer)[:120]}")
        if answer.get("error"):
            err = answer["error"]
            msg = err.get("message", err) if isinstance(err, dict) else err
            raise SourceError(f"{what}: node answered with an error: {msg}")
        if resp.status_code >= 400:
            raise SourceError(f"{what}: HTTP {resp.status_code}")
        return answer.get("result")

    def getblockcount(self) -> int:
        count = self.call("getblockcount")
        if not isinstance(count, int) or isinstance(count, bool) or count < 0:
            raise SourceError(f"RPC getblockcount at {self.url}: expected a height, got {count!r}")
        return count

    def getblockhash(self, height: int) -> str:
        h = self.call("getblockhash", height)
        if not isinstance(h, str) or len(h) != 64 or not _is_hex(h):
            raise SourceError(f"RPC getblockhash({height}): expected a block hash, got {h!r}")
        return h.lower()

    def getblock_raw(self, block_hash: str, height: int | None = None) -> bytes:
        where = f"block {height} ({block_hash})" if height is not None else f"block {block_hash}"
        text = self.call("getblock", block_hash, 0)
        if not isinstance(text, str) or not _is_hex(text) or len(text) % 2:
            raise SourceError(
                f"RPC getblock for {where}: expected the block as hex, got {str(text)[:80]!r}"
            )
        raw = bytes.fromhex(text)
        try:
            got = parse_header(raw).block_hash
        except ParseError as exc:
            raise SourceError(f"RPC getblock for {where}: {exc}") from None
        if got != block_hash:
            raise SourceError(f"RPC getblock for {where}: the node returned block {got} instead")
        return raw

    def iter_blocks(self, first: int, last: int) -> Iterator[RawBlock]:
        for height in range(first, last + 1):
            h = self.getblockhash(height)
            yield RawBlock(self.getblock_raw(h, height), f"rpc block {height} ({h})", None)

    def close(self) -> None:
        self._client.close()


def _is_hex(text: str) -> bool:
    return _HEX.fullmatch(text) is not None


def _read_cookie(path: Path) -> tuple[str, str]:
    try:
        text = path.read_text().strip()
    except OSError as exc:
        raise SourceError(f"cannot read the RPC cookie file {path}: {exc}") from exc
    user, sep, password = text.partition(":")
    if not sep:
        raise SourceError(f"RPC cookie file {path} is not 'user:password'")
    return user, password
