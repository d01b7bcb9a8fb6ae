"""A real local EVM node (anvil, from Foundry) for tests, demos and the simulator.

    with DevNode() as node:                      # anvil on 127.0.0.1, a free port
        alice, bob = node.accounts[:2]          # unlocked, prefunded dev accounts
        node.send(alice, bob, value=10**18)     # a native transfer, mined at once
        token = node.deploy_token("FTT", 6, 10**12, sender=alice)
        node.transfer_token(token, alice, bob, 5_000_000)
        fwd = node.deploy("Forwarder", sender=alice)
        node.transact(fwd, "forward(address)", [bob], sender=alice, value=10**17)

Contracts come precompiled from ``contracts/artifacts.json`` (sources next to it;
``contracts/compile.js`` rebuilds it with the project's solcjs).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import httpx

from fundtrail.errors import FundtrailError, SourceError
from fundtrail.model.encoding import keccak256
from fundtrail.testing import free_port

ROOT = Path(__file__).resolve().parents[4]
ANVIL = ROOT / "tools/node/node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil"
ARTIFACTS = Path(__file__).resolve().parent / "contracts" / "artifacts.json"


class DevNodeError(FundtrailError):
    """The local node could not be started or refused a transaction."""


def anvil_path() -> Path:
    """The anvil binary installed by ``make setup`` (or one on PATH)."""
    if ANVIL.is_file():
        return ANVIL
    found = shutil.which("anvil")
    if found:
        return Path(found)
    raise DevNodeError(f"anvil is not installed at {ANVIL}: run `make setup` (it installs it)")


@lru_cache(maxsize=1)
def artifacts() -> dict[str, Any]:
    return dict(json.loads(ARTIFACTS.read_text())["contracts"])


def selector(signature: str) -> str:
    return keccak256(signature.encode()).hex()[:8]


def encode_args(types: Sequence[str], values: Sequence[Any]) -> str:
    """ABI-encode arguments (address, bool, uintN, string): enough for the test contracts."""
    head: list[str] = []
    tail: list[str] = []
    offset = 32 * len(types)
    for t, v in zip(types, values, strict=True):
        if t == "string":
            raw = str(v).encode()
            body = len(raw).to_bytes(32, "big").hex() + raw.hex().ljust(
                -(-len(raw) // 32) * 64, "0"
            )
            head.append(offset.to_bytes(32, "big").hex())
            tail.append(body)
            offset += len(body) // 2
        elif t == "address":
            head.append(str(v).lower().removeprefix("0x").rjust(64, "0"))
        elif t == "bool":
            head.append(int(bool(v)).to_bytes(32, "big").hex())
        elif t.startswith("uint"):
            head.append(int(v).to_bytes(32, "big").hex())
        else:
            raise ValueError(f"unsupported ABI type {t}")
    return "".join(head + tail)


class DevNode:
    """An anvil process: chain id 1, automining, ten prefunded unlocked accounts."""

    def __init__(
        self, *, chain_id: int = 1, port: int | None = None, extra_args: Sequence[str] = ()
    ) -> None:
        self.chain_id = chain_id
        self.port = port
        self.extra_args = list(extra_args)
        self.proc: subprocess.Popen[bytes] | None = None
        self.url = ""
        self.accounts: list[str] = []
        self._http = httpx.Client(timeout=30.0)
        self._ids = 0

    def start(self, timeout: float = 30.0) -> DevNode:
        binary = anvil_path()
        for _ in range(3):  # a free port can be taken between probe and bind: retry
            port = self.port or free_port()
            self.proc = subprocess.Popen(
                [str(binary), "--host", "127.0.0.1", "--port", str(port),
                 "--chain-id", str(self.chain_id), "--silent", *self.extra_args],
                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            )  # fmt: skip
            self.url = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline and self.proc.poll() is None:
                try:
                    self.accounts = [a.lower() for a in self.rpc("eth_accounts")]
                    return self
                except (httpx.HTTPError, SourceError):
                    time.sleep(0.05)
            self.stop()
        raise DevNodeError(f"anvil ({binary}) did not start on 127.0.0.1")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc is not None and self.proc.stderr is not None:
            self.proc.stderr.close()
        self.proc = None

    def close(self) -> None:
        self.stop()
        self._http.close()

    def __enter__(self) -> DevNode:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- JSON-RPC -------------------------------------------------------------------
    def rpc(self, method: str, *params: Any) -> Any:
        self._ids += 1
        body = {"jsonrpc": "2.0", "id": self._ids, "method": method, "params": list(params)}
        answer = self._http.post(self.url, json=body).json()
        if answer.get("error"):
            raise SourceError(f"anvil: {method} failed: {answer['error'].get('message')}")
        return answer["result"]

    def rpc_raw(self, method: str, params: list[Any]) -> dict[str, Any]:
        """The node's whole answer (``result`` or ``error``), for proxies in tests."""
        self._ids += 1
        body = {"jsonrpc": "2.0", "id": self._ids, "method": method, "params": params}
        answer = dict(self._http.post(self.url, json=body).json())
        return {k: v for k, v in answer.items() if k in ("result", "error")}

    def block_number(self) -> int:
        return int(self.rpc("eth_blockNumber"), 16)

    def mine(self, blocks: int = 1) -> None:
        self.rpc("anvil_mine", hex(blocks))

    def balance(self, address: str, block: int | str = "latest") -> int:
        tag = hex(block) if isinstance(block, int) else block
        return int(self.rpc("eth_getBalance", address, tag), 16)

    # ---- transactions -----------------------------------------------------------------
    def send(
        self, sender: str, to: str | None, *, value: int = 0, data: str = "", gas: int | None = None
    ) -> dict[str, Any]:
        """Send from an unlocked account, wait for the receipt, return it (failed ones too)."""
        tx: dict[str, Any] = {"from": sender, "value": hex(value)}
        if to is not None:
            tx["to"] = to
        if data:
            tx["data"] = data if data.startswith("0x") else "0x" + data
        if gas is not None:  # an explicit gas limit skips estimation, so a failing tx is mined
            tx["gas"] = hex(gas)
        tx_hash = self.rpc("eth_sendTransaction", tx)
        for _ in range(200):
            receipt = self.rpc("eth_getTransactionReceipt", tx_hash)
            if receipt is not None:
                return dict(receipt)
            time.sleep(0.02)
        raise DevNodeError(f"transaction {tx_hash} was not mined")

    def deploy(self, name: str, types: Sequence[str] = (), args: Sequence[Any] = (), *,
               sender: str, value: int = 0) -> str:  # fmt: skip
        code = artifacts()[name]["bytecode"] + encode_args(types, args)
        receipt = self.send(sender, None, value=value, data=code)
        if int(receipt["status"], 16) != 1:
            raise DevNodeError(f"deploying {name} failed")
        return str(receipt["contractAddress"]).lower()

    def transact(self, contract: str, signature: str, args: Sequence[Any] = (), *, sender: str,
                 value: int = 0, gas: int | None = None) -> dict[str, Any]:  # fmt: skip
        types = signature[signature.index("(") + 1 : -1]
        data = selector(signature) + encode_args([t for t in types.split(",") if t], args)
        return self.send(sender, contract, value=value, data=data, gas=gas)

    def call(self, contract: str, signature: str, args: Sequence[Any] = ()) -> str:
        types = signature[signature.index("(") + 1 : -1]
        data = "0x" + selector(signature) + encode_args([t for t in types.split(",") if t], args)
        return str(self.rpc("eth_call", {"to": contract, "data": data}, "latest"))

    def deploy_token(self, symbol: str, decimals: int, supply: int, *, sender: str) -> str:
        return self.deploy(
            "TestToken", ["string", "string", "uint8", "uint256"],
            [f"{symbol} Test Token", symbol, decimals, supply], sender=sender,
        )  # fmt: skip

    def transfer_token(self, token: str, sender: str, to: str, amount: int) -> dict[str, Any]:
        return self.transact(token, "transfer(address,uint256)", [to, amount], sender=sender)

    def token_balance(self, token: str, holder: str) -> int:
        return int(self.call(token, "balanceOf(address)", [holder]), 16)


def sample_activity(node: DevNode) -> dict[str, Any]:
    """Every kind of movement fundtrail must see: native, token, failed, internal, create,
    self-destruct. Returns the contracts and the hashes of the interesting transactions."""
    a, b, c, d = node.accounts[:4]
    out: dict[str, Any] = {"accounts": [a, b, c, d], "txs": {}}
    txs = out["txs"]
    txs["native"] = node.send(a, b, value=3 * 10**18 + 12345)["transactionHash"]
    node.send(b, c, value=10**17)
    token = node.deploy_token("FTT", 6, 10**15, sender=a)
    txs["token"] = node.transfer_token(token, a, b, 2_500_000)["transactionHash"]
    node.transfer_token(token, b, c, 1_000_000)
    fwd = node.deploy("Forwarder", sender=c)
    txs["internal"] = node.transact(fwd, "forward(address)", [d], sender=a, value=7 * 10**17)[
        "transactionHash"
    ]
    node.transact(fwd, "split(address,address)", [b, c], sender=d, value=10**15 + 1)
    # the inner call fails (the token has no receive function): value stays in the forwarder
    txs["inner_failed"] = node.transact(
        fwd, "tryForward(address)", [token], sender=b, value=5 * 10**16
    )["transactionHash"]
    # the whole tx reverts: only gas is paid
    txs["failed"] = node.transact(
        fwd, "forwardThenRevert(address)", [d], sender=a, value=10**18, gas=200_000
    )["transactionHash"]
    # a failed token transfer (more than the balance): gas only
    txs["failed_token"] = node.transact(
        token, "transfer(address,uint256)", [a, 10**30], sender=d, gas=100_000
    )["transactionHash"]
    spawn = node.transact(fwd, "spawn()", [], sender=c, value=4 * 10**16)
    child = "0x" + spawn["logs"][0]["data"][-40:]
    txs["create"] = spawn["transactionHash"]
    txs["selfdestruct"] = node.transact(child, "destroy(address)", [a], sender=b)["transactionHash"]
    out.update(token=token, forwarder=fwd, child=child)
    return out


def main() -> None:
    """``python -m fundtrail.chains.evm.devnode``: a node with sample activity, for demos."""
    import argparse

    parser = argparse.ArgumentParser(description="anvil with fundtrail's sample activity")
    parser.add_argument("--port", type=int, default=None)
    args = parser.parse_args()
    with DevNode(port=args.port) as node:
        activity = sample_activity(node)
        node.mine(12)
        print(f"anvil at {node.url} (chain id 1), head block {node.block_number()}", flush=True)
        print(json.dumps(activity, indent=1), flush=True)
        try:
            while node.proc is not None and node.proc.poll() is None:
                time.sleep(0.5)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
