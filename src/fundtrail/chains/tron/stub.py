"""A local stand-in for a java-tron node's HTTP API, serving answers held in memory.

No TRON node can be installed here (no java-tron package on PyPI or npm), so tests, the
simulator and the benchmark talk to this stub over real HTTP: it answers the paths the
ingest uses, in the node's own answer format, from a :class:`NodeData`
(block answers and transaction infos by block number):

``/wallet/getnowblock``, ``/walletsolidity/getnowblock``, ``/wallet/getblockbynum``,
``/wallet/getblockbylimitnext``, ``/wallet/gettransactioninfobyblocknum`` (and the
``/walletsolidity/`` forms of the last three), and for token metadata
``/wallet/triggerconstantcontract`` (a TRC-20's ``symbol()`` and ``decimals()``, ABI
encoded as a node returns them) and ``/wallet/getassetissuebyid`` /
``getassetissuebyname`` (a TRC-10's record); for the built-in markets,
``/wallet/getexchangebyid`` and ``/wallet/getmarketorderbyid``.

It can require an API key header, fail the first requests with HTTP 503 or 429 (to
exercise retries), and swap its chain for another (to exercise reorgs).

:func:`node_from_records` wraps recorded transactions (as TronGrid's ``/v1`` API returns
them: the node's transaction plus ``blockNumber``, ``block_timestamp`` and fee fields)
into consecutive block answers, deriving each transaction's info from the recorded fee
fields when no recorded info is given. The block envelopes (blockID, parentHash, witness)
are made up; the transactions inside are the recorded ones, byte for byte.
"""

from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from fundtrail.chains.tron.api import API_KEY_HEADER, MAX_RANGE

ZERO_WITNESS = "410000000000000000000000000000000000000000"
_TRANSFER_SELECTOR = "a9059cbb"
_TRANSFER_TOPIC = "ddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef"
_NODE_TX_KEYS = ("ret", "signature", "txID", "raw_data", "raw_data_hex")


@dataclass
class NodeData:
    """What the stub serves: block answers by number and transaction infos by number."""

    blocks: dict[int, dict[str, Any]] = field(default_factory=dict)
    infos: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    solidified: int | None = None  # default: the head
    trc20: dict[str, tuple[str, int]] = field(default_factory=dict)  # 41-hex -> symbol, decimals
    trc10: dict[str, dict[str, Any]] = field(default_factory=dict)  # id -> getassetissuebyid
    exchanges: dict[int, dict[str, Any]] = field(default_factory=dict)  # id -> getexchangebyid
    orders: dict[str, dict[str, Any]] = field(default_factory=dict)  # hex id -> market order

    @property
    def head(self) -> int:
        return max(self.blocks) if self.blocks else 0

    def to_json(self) -> dict[str, Any]:
        return {
            "blocks": [self.blocks[n] for n in sorted(self.blocks)],
            "infos": {str(n): v for n, v in sorted(self.infos.items())},
            "solidified": self.solidified,
            "trc20": {k: list(v) for k, v in self.trc20.items()},
            "trc10": self.trc10,
            "exchanges": {str(k): v for k, v in self.exchanges.items()},
            "orders": self.orders,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> NodeData:
        blocks = {int(b["block_header"]["raw_data"]["number"]): b for b in data["blocks"]}
        infos = {int(k): v for k, v in (data.get("infos") or {}).items()}
        trc20 = {k.lower(): (str(v[0]), int(v[1])) for k, v in (data.get("trc20") or {}).items()}
        exchanges = {int(k): v for k, v in (data.get("exchanges") or {}).items()}
        return cls(blocks, infos, data.get("solidified"), trc20, dict(data.get("trc10") or {}),
                   exchanges, dict(data.get("orders") or {}))  # fmt: skip


def block_id(number: int, header: dict[str, Any]) -> str:
    """A TRON-shaped block id: the number in its first 8 bytes, then a header digest."""
    digest = hashlib.sha256(json.dumps(header, sort_keys=True).encode()).hexdigest()
    return f"{number:016x}{digest[16:]}"


def make_block(
    number: int,
    parent: str,
    timestamp_ms: int,
    txs: list[dict[str, Any]],
    witness: str = ZERO_WITNESS,
) -> dict[str, Any]:
    raw = {
        "number": number,
        "txTrieRoot": hashlib.sha256("".join(t["txID"] for t in txs).encode()).hexdigest(),
        "witness_address": witness,
        "parentHash": parent,
        "version": 31,
        "timestamp": timestamp_ms,
    }
    block: dict[str, Any] = {
        "blockID": block_id(number, raw),
        "block_header": {"raw_data": raw, "witness_signature": "00" * 65},
    }
    if txs:
        block["transactions"] = txs
    return block


def contract_tx(kind: str, value: dict[str, Any], ret: str = "SUCCESS") -> dict[str, Any]:
    """A node transaction of one contract ``kind`` with ``value``; its id a digest of both,
    so the same constructed transaction always has the same id."""
    txid = hashlib.sha256(json.dumps([kind, value], sort_keys=True).encode()).hexdigest()
    return {"txID": txid, "ret": [{"contractRet": ret}],
            "raw_data": {"contract": [{"type": kind, "parameter": {"value": value}}]}}  # fmt: skip


def list_trc10(
    node: NodeData, owner: str, names: dict[str, str], *, num: int = 10, trx_num: int = 1_000_000
) -> None:
    """Serve a ``getassetissuebyid`` record for each TRC-10 ``id -> name`` (abbreviation the
    name upper-cased, precision 0, sold at ``num`` tokens for ``trx_num`` sun)."""
    for token, name in names.items():
        node.trc10[token] = {"id": token, "owner_address": owner, "name": name.encode().hex(),
                             "abbr": name.upper().encode().hex(), "precision": 0,
                             "trx_num": trx_num, "num": num}  # fmt: skip


def open_exchange(
    node: NodeData, exchange_id: int, creator: str, first: tuple[str, int], second: tuple[str, int]
) -> None:
    """Serve a ``getexchangebyid`` record: a built-in Bancor pool of two assets (each as
    the hex the node uses, ``b"_".hex()`` for TRX) and their balances."""
    node.exchanges[exchange_id] = {"exchange_id": exchange_id, "creator_address": creator,
                                   "first_token_id": first[0], "first_token_balance": first[1],
                                   "second_token_id": second[0],
                                   "second_token_balance": second[1]}  # fmt: skip


OLD_TOKEN, ZEN_TOKEN, TRX_TOKEN = b"1000001".hex(), b"000000".hex(), b"_".hex()


def add_old_zen_market(node: NodeData, issuer: str) -> None:
    """The protocol-venue tests' small market: TRC-10 tokens Old (1000001) and Zen (000000,
    the shielded token) issued by ``issuer``, and exchange 3 trading OLD against TRX."""
    list_trc10(node, issuer, {"1000001": "Old", "000000": "Zen"})
    open_exchange(node, 3, issuer, (OLD_TOKEN, 10_000), (TRX_TOKEN, 10**10))


def info_from_record(tx: dict[str, Any]) -> dict[str, Any]:
    """The ``gettransactioninfobyblocknum`` entry of a TronGrid ``/v1`` transaction record:
    fee and receipt from its fee fields; for a successful TRC-20 ``transfer(to, amount)``
    call, the ``Transfer`` log such a call emits (the call data names both)."""
    ret = (tx.get("ret") or [{}])[0]
    result = str(ret.get("contractRet") or "SUCCESS")
    receipt = {
        k: tx[k]
        for k in ("net_usage", "net_fee", "energy_usage", "energy_fee", "energy_usage_total")
        if tx.get(k)
    }
    receipt["result"] = result
    info: dict[str, Any] = {
        "id": tx["txID"],
        "fee": int(ret.get("fee") or 0),
        "blockNumber": tx.get("blockNumber"),
        "blockTimeStamp": tx.get("block_timestamp"),
        "contractResult": [""],
        "receipt": receipt,
    }
    if result != "SUCCESS":
        info["result"] = "FAILED"
    if tx.get("internal_transactions"):
        info["internal_transactions"] = tx["internal_transactions"]
    contract = tx["raw_data"]["contract"][0]
    value = contract["parameter"]["value"]
    data = str(value.get("data") or "")
    if contract["type"] == "TriggerSmartContract" and data.startswith(_TRANSFER_SELECTOR):
        info["contract_address"] = value["contract_address"]
        if result == "SUCCESS" and len(data) >= 8 + 128:
            to_word, amount_word = data[8:72], data[72:136]
            info["log"] = [
                {
                    "address": value["contract_address"][2:],
                    "topics": [_TRANSFER_TOPIC, "0" * 24 + value["owner_address"][2:],
                               "0" * 24 + to_word[-40:]],
                    "data": amount_word,
                }
            ]  # fmt: skip
    for k in ("unfreeze_amount", "withdraw_amount", "withdraw_expire_amount"):
        if tx.get(k):
            info[k] = tx[k]
    return info


def node_from_records(
    records: list[dict[str, Any]],
    infos: list[dict[str, Any]] | None = None,
    *,
    first: int | None = None,
    last: int | None = None,
) -> NodeData:
    """Consecutive block answers ``first..last`` holding the recorded transactions at
    their recorded block numbers (empty blocks between), with their infos."""
    given = {i["id"]: i for i in infos or []}
    by_block: dict[int, list[dict[str, Any]]] = {}
    times: dict[int, int] = {}
    for tx in records:
        n = int(tx["blockNumber"])
        by_block.setdefault(n, []).append(tx)
        times[n] = int(tx["block_timestamp"])
    lo = min(by_block) if first is None else first
    hi = max(by_block) if last is None else last
    node = NodeData()
    parent = "0" * 64
    prev_time = times.get(lo, 1_500_000_000_000) - 3000
    for n in range(lo, hi + 1):
        txs = by_block.get(n, [])
        ts = times.get(n, prev_time + 3000)
        body = [{k: t[k] for k in _NODE_TX_KEYS if k in t} for t in txs]
        for b in body:
            b["ret"] = [{"contractRet": b.get("ret", [{}])[0].get("contractRet", "SUCCESS")}]
        block = make_block(n, parent, ts, body)
        node.blocks[n] = block
        if txs:
            node.infos[n] = [given.get(t["txID"]) or info_from_record(t) for t in txs]
        parent, prev_time = block["blockID"], ts
    return node


class TronStub:
    """The stub server on a free loopback port; use as a context manager."""

    def __init__(
        self,
        node: NodeData,
        *,
        api_key: str | None = None,
        fail_first: int = 0,
        fail_status: int = 503,
        port: int = 0,
    ) -> None:
        self.node = node
        self.port = port
        self.api_key = api_key
        self.fail_left = fail_first
        self.fail_status = fail_status
        self.lock = threading.Lock()
        self.calls: dict[str, int] = {}
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        assert self._server is not None, "stub not started"
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> TronStub:
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length) if length else b"{}"
                status, answer = stub.answer(self.path, raw, self.headers.get(API_KEY_HEADER))
                body = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> TronStub:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def answer(self, path: str, raw: bytes, key: str | None) -> tuple[int, Any]:
        with self.lock:
            self.calls[path] = self.calls.get(path, 0) + 1
            if self.fail_left > 0:
                self.fail_left -= 1
                return self.fail_status, {"Error": "busy"}
            node = self.node
        if self.api_key is not None and key != self.api_key:
            return 401, {"Error": "ApiKey not exists"}
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            return 400, {"Error": "body is not JSON"}
        solid = path.startswith("/walletsolidity/")
        head = node.head
        limit = node.solidified if solid and node.solidified is not None else head
        name = path.rsplit("/", 1)[-1].lower()
        if name == "getnowblock":
            return 200, node.blocks.get(limit, {})
        if name == "getblockbynum":
            n = int(body.get("num", -1))
            return 200, node.blocks.get(n, {}) if n <= limit else {}
        if name == "getblockbylimitnext":
            lo, hi = int(body.get("startNum", 0)), int(body.get("endNum", 0))
            if hi <= lo or hi - lo > MAX_RANGE:
                return 200, {"Error": f"startNum {lo} endNum {hi}: at most {MAX_RANGE}"}
            found = [node.blocks[n] for n in range(lo, hi) if n in node.blocks and n <= limit]
            return 200, {"block": found} if found else {}
        if name == "triggerconstantcontract":
            return 200, _constant_answer(node, body)
        if name == "getassetissuebyid":
            return 200, node.trc10.get(str(body.get("value")), {})
        if name == "getassetissuebyname":
            wanted = str(body.get("value") or "").lower()
            named = [t for t in node.trc10.values() if str(t.get("name", "")).lower() == wanted]
            return 200, named[0] if named else {}
        if name == "getexchangebyid":
            return 200, node.exchanges.get(int(body.get("id", -1)), {})
        if name == "getmarketorderbyid":
            return 200, node.orders.get(str(body.get("value") or "").lower(), {})
        if name == "gettransactioninfobyblocknum":
            n = int(body.get("num", -1))
            return 200, node.infos.get(n, []) if n <= limit else []
        return 404, {"Error": f"unknown path {path}"}


def _constant_answer(node: NodeData, body: dict[str, Any]) -> dict[str, Any]:
    """``symbol()`` / ``decimals()`` of a TRC-20 the node knows, ABI encoded; else the
    REVERT a node answers for a function the contract lacks."""
    token = node.trc20.get(str(body.get("contract_address", "")).lower())
    selector = body.get("function_selector")
    if token is None or selector not in ("symbol()", "decimals()"):
        return {"result": {"code": "CONTRACT_EXE_ERROR", "message": "5245564552540000"}}
    if selector == "decimals()":
        word = f"{token[1]:064x}"
    else:
        raw = token[0].encode()
        word = f"{32:064x}{len(raw):064x}" + raw.hex().ljust(64, "0")
    return {"result": {"result": True}, "energy_used": 246, "constant_result": [word]}


def main(argv: list[str] | None = None) -> None:
    """``python -m fundtrail.chains.tron.stub NODE_JSON``: serve a simulation's TRON chain
    (``fundtrail simulate --chain tron`` writes ``DIR/tron/node.json``) until stopped."""
    import argparse
    import time
    from pathlib import Path

    parser = argparse.ArgumentParser(description="a local java-tron HTTP API stub")
    parser.add_argument("node", type=Path, help="node.json written by simulate --chain tron")
    parser.add_argument("--port", type=int, default=8090)
    parser.add_argument("--api-key", help="require this TRON-PRO-API-KEY header")
    args = parser.parse_args(argv)
    try:
        node = NodeData.from_json(json.loads(args.node.read_text()))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        msg = f"{args.node}: not a node.json written by simulate --chain tron ({exc})"
        raise SystemExit(msg) from None
    with TronStub(node, api_key=args.api_key, port=args.port) as stub:
        print(f"java-tron stub at {stub.url}: blocks {min(node.blocks)}..{node.head}", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
