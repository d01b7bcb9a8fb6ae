"""Benchmark: EVM ingest throughput, and how the time splits between the node and fundtrail.

Two sources:

1. replay: real mainnet blocks (ethereum-etl's export of blocks 17173049-17173050 when
   ../shared/data is present, else the project's small fixture) turned back into
   JSON-RPC answers, copied ``--copies`` times with fresh hashes into a longer chain,
   and served by a separate process (so the node's work does not share our GIL);
2. anvil: a real local node after ``--anvil-txs`` mixed transactions (native, ERC-20,
   internal transfers through a contract), traced with debug_traceBlockByNumber.

For each it prints transfers/s of the full ingest (fetch, decode, store), the share of
that time spent waiting on the node, and the ratio against a reference run in the same
process: a fetch-only pass over the same blocks (same client, batching and
concurrency; answers parsed but not decoded or stored), the floor set by the node.
One warm-up pass, then ``--runs`` rounds alternating the reference and the full ingest
(so neither always meets a warmer node); medians. ``--record`` keeps the run for the
EVM guide.

    .venv/bin/python bench/ingest_evm.py [--copies 50] [--anvil-txs 300] [--batch-blocks 10]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import statistics
import sys
import tempfile
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from fundtrail.chains.evm.devnode import DevNode  # noqa: E402
from fundtrail.chains.evm.ingest import ingest_rpc  # noqa: E402
from fundtrail.chains.evm.rpc import RpcClient  # noqa: E402

sys.path.insert(0, str(ROOT / "bench"))
from _record import add_record_flag, recording  # noqa: E402

SHARED = ROOT.parent / "shared/data/ethereum-etl-fixtures/tests/resources/test_stream"
BIG = SHARED / "blocks_17173049_17173050"
SMALL = ROOT / "tests/data/evm/etl/json_1755634_1755635"


# ---- replay node: ethereum-etl export -> JSON-RPC answers -------------------------------------
def _lines(folder: Path, table: str) -> list[dict[str, Any]]:
    for name in (f"{table}.json", f"expected_{table}.json"):
        if (folder / name).exists():
            text = (folder / name).read_text().splitlines()
            return [json.loads(x) for x in text if x.strip()]
    return []


def _hx(v: Any) -> str | None:
    return None if v is None else hex(int(v))


def _retag(h: str, copy: int) -> str:
    return h[:-8] + f"{copy:08x}"


def build_answers(folder: Path, copies: int) -> tuple[dict[str, bytes], int, int]:
    """(answers keyed by 'method:param', first block, last block) of the scaled chain."""
    blocks = sorted(_lines(folder, "blocks"), key=lambda b: b["number"])
    txs = _lines(folder, "transactions")
    logs = _lines(folder, "logs")
    by_block: dict[int, list[dict[str, Any]]] = {}
    for t in txs:
        by_block.setdefault(t["block_number"], []).append(t)
    logs_by_tx: dict[str, list[dict[str, Any]]] = {}
    for lg in logs:
        logs_by_tx.setdefault(lg["transaction_hash"], []).append(lg)
    answers: dict[str, bytes] = {}
    first = blocks[0]["number"]
    number, parent = first, blocks[0]["parent_hash"]
    for copy in range(copies):
        for b in blocks:
            bhash = _retag(b["hash"], copy)
            rpc_txs, receipts = [], []
            for t in sorted(by_block.get(b["number"], []), key=lambda t: t["transaction_index"]):
                h = _retag(t["hash"], copy)
                rpc_txs.append(
                    {"hash": h, "transactionIndex": _hx(t["transaction_index"]),
                     "from": t["from_address"], "to": t["to_address"],
                     "value": _hx(t["value"]), "gasPrice": _hx(t["gas_price"])}
                )  # fmt: skip
                receipts.append({
                    "transactionHash": h, "gasUsed": _hx(t["receipt_gas_used"]),
                    "effectiveGasPrice": _hx(t["receipt_effective_gas_price"]),
                    "status": _hx(t["receipt_status"]),
                    "contractAddress": t["receipt_contract_address"],
                    "logs": [{"address": lg["address"], "topics": lg["topics"], "data": lg["data"],
                              "logIndex": _hx(lg["log_index"]), "transactionHash": h,
                              "transactionIndex": _hx(lg["transaction_index"])}
                             for lg in logs_by_tx.get(t["hash"], [])],
                })  # fmt: skip
            block = {"number": hex(number), "hash": bhash, "parentHash": parent,
                     "timestamp": _hx(b["timestamp"]), "miner": b["miner"],
                     "baseFeePerGas": _hx(b.get("base_fee_per_gas")), "gasUsed": _hx(b["gas_used"]),
                     "transactions": rpc_txs,
                     "withdrawals": [{"address": w["address"], "amount": _hx(w["amount"])}
                                     for w in b.get("withdrawals") or []]}  # fmt: skip
            answers[f"eth_getBlockByNumber:{hex(number)}"] = json.dumps(block).encode()
            answers[f"eth_getBlockReceipts:{hex(number)}"] = json.dumps(receipts).encode()
            parent = bhash
            number += 1
    return answers, first, number - 1


def _serve(folder: str, copies: int, port_q: Any) -> None:
    answers, first, last = build_answers(Path(folder), copies)

    def one(req: dict[str, Any]) -> bytes:
        method, params = req["method"], req.get("params") or []
        rid = json.dumps(req.get("id"))
        if method == "eth_blockNumber":
            body = json.dumps(hex(last)).encode()
        else:
            found = answers.get(f"{method}:{params[0] if params else ''}")
            if found is None:
                code = -32000 if method == "eth_call" else -32601
                err = json.dumps({"code": code, "message": f"{method} not available"})
                return f'{{"jsonrpc":"2.0","id":{rid},"error":{err}}}'.encode()
            body = found
        return b'{"jsonrpc":"2.0","id":' + rid.encode() + b',"result":' + body + b"}"

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            req = json.loads(self.rfile.read(int(self.headers["content-length"])))
            data = (
                b"[" + b",".join(one(r) for r in req) + b"]" if isinstance(req, list) else one(req)
            )
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    port_q.put((server.server_address[1], first, last))
    server.serve_forever()


# ---- measuring --------------------------------------------------------------------------------
def fetch_only(url: str, first: int, last: int, batch: int, traced: bool) -> float:
    """Reference: the same round trips, answers parsed, nothing decoded or stored."""
    started = time.perf_counter()
    with RpcClient(url) as client:
        for n in range(first, last + 1, batch):
            numbers = [hex(k) for k in range(n, min(n + batch, last + 1))]
            blocks = client.batch([("eth_getBlockByNumber", [k, True]) for k in numbers])
            with_txs = [k for k, b in zip(numbers, blocks, strict=True) if b["transactions"]]
            client.batch([("eth_getBlockReceipts", [k]) for k in with_txs])
            if traced:
                tracer = {"tracer": "callTracer"}
                client.batch([("debug_traceBlockByNumber", [k, tracer]) for k in with_txs])
    return time.perf_counter() - started


def measure(label: str, key: str, url: str, first: int, last: int, batch: int, traced: bool,
            confirmations: int, runs: int, rec: Any) -> None:  # fmt: skip
    """One warm-up fetch-only pass (the node's caches, ours and the reference's alike), then
    ``runs`` rounds alternating reference and full ingest; medians of each."""
    fetch_only(url, first, last, batch, traced)
    refs, reports = [], []
    for _ in range(runs):
        refs.append(fetch_only(url, first, last, batch, traced))
        with tempfile.TemporaryDirectory() as home:
            reports.append(ingest_rpc(url, start=first, stop=last, confirmations=confirmations,
                                      home=Path(home), batch_blocks=batch))  # fmt: skip
    ref = statistics.median(refs)
    report = sorted(reports, key=lambda r: r.seconds)[len(reports) // 2]
    ours = report.seconds - report.node_seconds
    print(f"== {label}: blocks {first}..{last}, {report.txs} txs, {report.transfers} transfers "
          f"(median of {runs} runs each, alternating, after one warm-up)")  # fmt: skip
    total, wait = report.seconds, report.node_seconds
    print(f"   full ingest       {total:7.2f} s  {report.transfers / total:10,.0f} transfers/s")
    print(f"   waiting on node   {wait:7.2f} s  ({wait / total:.0%})")
    print(f"   in fundtrail      {ours:7.2f} s  (node wait : fundtrail = {wait / ours:.2f} : 1)")
    print(f"   reference (fetch only, same batches) {ref:.2f} s; full ingest / reference = "
          f"{report.seconds / ref:.2f}x")  # fmt: skip
    rate = report.transfers / total
    rec.figure(f"{key}_transfers_s", rate, f"{rate:,.0f}", f"{label}: transfers/s, full ingest")
    rec.figure(f"{key}_node_share", wait / total, f"{wait / total:.0%}",
               f"{label}: share of the ingest spent waiting on the node")  # fmt: skip
    rec.figure(f"{key}_vs_fetch", report.seconds / ref, f"{report.seconds / ref:.2f}×",
               f"{label}: full ingest / fetch-only reference, same batches")  # fmt: skip
    rec.figure(f"{key}_txs", report.txs, f"{report.txs:,}", f"{label}: transactions")
    rec.figure(f"{key}_transfers", report.transfers, f"{report.transfers:,}",
               f"{label}: transfers")  # fmt: skip


def anvil_chain(node: DevNode, txs: int) -> None:
    a, b, c, d = node.accounts[:4]
    token = node.deploy_token("FTT", 6, 10**15, sender=a)
    fwd = node.deploy("Forwarder", sender=a)
    node.rpc("evm_setAutomine", False)
    for i in range(txs):  # many txs per block, mined together
        kind = i % 3
        if kind == 0:
            node.rpc("eth_sendTransaction", {"from": a, "to": b, "value": hex(10**15 + i)})
        elif kind == 1:
            data = "0xa9059cbb" + c[2:].rjust(64, "0") + hex(1000 + i)[2:].rjust(64, "0")
            node.rpc(
                "eth_sendTransaction", {"from": a, "to": token, "data": data, "gas": hex(80000)}
            )
        else:
            data = "0x101e8952" + d[2:].rjust(64, "0")  # forward(address)
            tx = {"from": b, "to": fwd, "value": hex(10**14), "data": data, "gas": hex(90000)}
            node.rpc("eth_sendTransaction", tx)
        if i % 50 == 49:
            node.mine(1)
    node.mine(13)
    node.rpc("evm_setAutomine", True)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--copies", type=int, default=50, help="copies of the mainnet blocks")
    p.add_argument("--anvil-txs", type=int, default=300, help="transactions sent to anvil")
    p.add_argument("--batch-blocks", type=int, default=10, help="blocks per batch and commit")
    p.add_argument("--runs", type=int, default=3, help="measured runs of each (after a warm-up)")
    add_record_flag(p)
    args = p.parse_args()
    folder = BIG if BIG.is_dir() else SMALL
    data = (
        f"real mainnet blocks ({folder.name}, ethereum-etl) x{args.copies} replayed by a stub "
        f"node in another process; anvil with {args.anvil_txs} mixed txs"
    )
    with recording("ingest_evm", args.record, data=data) as rec:
        run(args, folder, rec)


def run(args: argparse.Namespace, folder: Path, rec: Any) -> None:
    q: Any = mp.get_context("spawn").Queue()
    proc = mp.get_context("spawn").Process(
        target=_serve, args=(str(folder), args.copies, q), daemon=True
    )
    proc.start()
    try:
        port, first, last = q.get(timeout=120)
        measure(f"replay of {folder.name} x{args.copies}", "replay", f"http://127.0.0.1:{port}",
                first, last, args.batch_blocks, traced=False, confirmations=0, runs=args.runs,
                rec=rec)  # fmt: skip
    finally:
        proc.terminate()
    with DevNode() as node:
        anvil_chain(node, args.anvil_txs)
        last = node.block_number() - 12
        measure(f"anvil, {args.anvil_txs} mixed txs", "anvil", node.url, 0, last,
                args.batch_blocks, traced=True, confirmations=12, runs=args.runs,
                rec=rec)  # fmt: skip


if __name__ == "__main__":
    main()
