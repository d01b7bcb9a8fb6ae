"""Replay a simulated EVM scenario as real transactions on a local dev node (anvil).

The node impersonates every simulated address (``anvil_autoImpersonateAccount``),
genesis allocations become ``anvil_setBalance``, the USDT-style token is a real
ERC-20 deployed from the project's test contracts (mints become transfers from
the issuer, which holds the supply), and each transaction is sent with the
simulated gas limit and fee caps, so whatever the simulation could afford the
node accepts. ``DIR/evm/rpc_txmap.csv`` maps simulated hashes to the node's.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import TYPE_CHECKING

from fundtrail.errors import SourceError

if TYPE_CHECKING:
    from fundtrail.chains.simulate.evm.economy import EvmSim

GAS_MARGIN = 10**18  # extra wei per genesis account: the node's fees differ from ours


def _rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def replay(sim: EvmSim, url: str) -> int:
    """Send the scenario in ``sim``'s files to the node at ``url``; returns txs sent."""
    import httpx

    from fundtrail.chains.evm.devnode import DevNode

    node = DevNode()
    node.url = url.rstrip("/")
    folder = sim.out / "evm"
    try:
        node.rpc("anvil_autoImpersonateAccount", True)
        for t in _rows(folder / "traces.csv"):
            if t["trace_type"] == "genesis":
                node.rpc("anvil_setBalance", t["to_address"], hex(int(t["value"]) + GAS_MARGIN))
        ch = sim.chain
        token_sim = ch.hex[ch.token_addr]
        issuer = ch.hex[sim.issuer]
        pool = ch.hex[sim.mixer_pool]
        minted = sum(
            int(t["value"])
            for t in _rows(folder / "token_transfers.csv")
            if t["from_address"] == "0x" + "00" * 20
        )
        node.rpc("anvil_setBalance", pool, hex(GAS_MARGIN))
        token = node.deploy_token("USDT", 6, max(1, minted), sender=issuer)
        internal: dict[str, list[dict[str, str]]] = {}
        for t in _rows(folder / "traces.csv"):
            if t["trace_address"]:
                internal.setdefault(t["transaction_hash"], []).append(t)
        sent = 0
        with open(folder / "rpc_txmap.csv", "w", newline="") as out:
            w = csv.writer(out, lineterminator="\n")
            w.writerow(["simulated_hash", "node_hash"])
            for tx in _rows(folder / "transactions.csv"):
                for node_hash in _send(node, tx, token_sim, token, pool, internal):
                    w.writerow([tx["hash"], node_hash])
                    sent += 1
        return sent
    except httpx.HTTPError as exc:
        raise SourceError(f"dev node at {url} failed: {exc}") from exc
    finally:
        node._http.close()


def _send(node: object, tx: dict[str, str], token_sim: str, token: str, pool: str,
          internal: dict[str, list[dict[str, str]]]) -> list[str]:  # fmt: skip
    from fundtrail.chains.evm.devnode import DevNode

    assert isinstance(node, DevNode)
    fees = {
        "gas": hex(int(tx["gas"])),
        "maxFeePerGas": tx["max_fee_per_gas"] and hex(int(tx["max_fee_per_gas"])),
        "maxPriorityFeePerGas": hex(int(tx["max_priority_fee_per_gas"] or 0)),
    }
    body = {"from": tx["from_address"], "value": hex(int(tx["value"])), **fees}
    if tx["to_address"] == token_sim:
        # transfer(to, amount), or the issuer's mint(to, amount) sent as a transfer
        body.update(to=token, value="0x0", data="0xa9059cbb" + tx["input"][10:138])
    elif tx["hash"] in internal:  # the pool pays out: impersonate it for each internal move
        hashes = []
        for move in internal[tx["hash"]]:
            hashes.append(_mined(node, {"from": pool, "to": move["to_address"],
                                        "value": hex(int(move["value"]))}))  # fmt: skip
        return hashes
    else:
        body["to"] = tx["to_address"]
    return [_mined(node, body)]


def _mined(node: object, body: dict[str, str]) -> str:
    from fundtrail.chains.evm.devnode import DevNode

    assert isinstance(node, DevNode)
    tx_hash = str(node.rpc("eth_sendTransaction", body))
    receipt = node.rpc("eth_getTransactionReceipt", tx_hash)
    if receipt is None:
        node.rpc("evm_mine")
        receipt = node.rpc("eth_getTransactionReceipt", tx_hash)
    if receipt is None or int(receipt["status"], 16) != 1:
        raise SourceError(f"dev node did not execute simulated tx {body} (receipt {receipt})")
    return tx_hash
