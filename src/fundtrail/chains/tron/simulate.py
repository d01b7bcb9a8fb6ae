"""`fundtrail simulate --chain tron`: the USDT investment scam in a TRON node's answers.

The account economy of the EVM simulation (exchanges with a deposit address per customer,
topped up with TRX for energy and swept to hot wallets; the gang's collection addresses,
consolidation, hops through fresh addresses and cash-outs at several exchanges) is run
with TRON's habits and written as a java-tron node would answer for it:

* ``tron/node.json``: every block as ``/wallet/getblockbynum`` answers it (TRX moves as
  ``TransferContract``, USDT moves as ``TriggerSmartContract`` calls of
  ``transfer(address,uint256)`` on USDT's mainnet contract ``TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t``),
  and every block's ``/wallet/gettransactioninfobyblocknum`` answer (fee burned, the
  ``Transfer`` logs, internal transactions);
* ``truth.json``, ``complaints.csv`` (chain ``TRX``, USDT in token units, the log index
  within the transaction), ``tags.yaml`` (a GraphSense TagPack, ``currency: TRX``: the
  exchanges' hot wallets and the swap pool, ``category: defi_dex``).

A SunSwap-like swap pool (constant product, 0.3% fee) holds USDT and TRX: users trade
with it both ways, and the gang swaps part of its USDT to TRX (``tokenToTrxSwapInput``:
a USDT ``Transfer`` log into the pool and an internal transaction paying TRX back to the
caller, in one transaction) and cashes the TRX out at exchanges. ``truth.json`` lists
each such swap under ``swaps`` and the TRX cash-outs with ``via: swap``.

``--style`` (``simulate.style.Style``, the presets Bitcoin and EVM read) sets the gang's and
the exchanges' habits through the shared account economy, so every knob means on TRON what
it means on EVM: ``deposits`` (one deposit address per customer, or a fresh one per
deposit), ``sweep_chance`` (the sweep cadence: each deposit address is its own sweep, an
account chain has no multi-input sweep to batch), ``unswept_end`` (deposits still holding
their USDT or TRX at the end), ``peel_share`` (hop-chain length), ``gang_exchanges``,
``withdrawal_batch`` (TRX withdrawals paid by one multi-send contract call, internal
transactions to each customer), ``user_deposits`` (busy exchanges) and
``mules_are_customers``. Bitcoin's CoinJoin, consolidation and victims-pay knobs change
nothing here (the scam has no mixer step and its victims pay its few collection
addresses). The default style writes the same bytes as before styles existed.

``fundtrail.chains.tron.stub.TronStub`` serves ``node.json`` over HTTP, so the whole story
goes through ``fundtrail ingest tron --rpc``. Fees are burned (no tip to the block
producer), priced per unit of energy; TRX amounts are the economy's, scaled (1 ETH of
the shared economy is 100 TRX) and exact in sun. Genesis balances are block 0
``TransferContract`` transactions from the all-zero owner, as TRON's genesis block holds.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from fundtrail.chains.simulate.draws import Draws
from fundtrail.chains.simulate.evm.chain import GWEI, EvmChain
from fundtrail.chains.simulate.evm.economy import EvmSim, sim_summary
from fundtrail.chains.simulate.evm.writer import EtlWriter
from fundtrail.chains.simulate.registry import Registry
from fundtrail.chains.simulate.service import SimulationSummary
from fundtrail.chains.simulate.style import Style
from fundtrail.chains.simulate.truth import Tag, TruthWriter
from fundtrail.chains.tron.stub import NodeData, make_block
from fundtrail.model.encoding import b58check_encode

SCALE = 10**10  # the shared economy's native unit per sun
ENERGY_PRICE = 40 * GWEI  # per unit of gas/energy, in the economy's unit (multiple of SCALE)
USDT_HEX = "a614f803b6fd780986a42c78ec9c7f77e6ded13c"
ZERO_OWNER = "41" + "00" * 20


def encode_tron(records: np.ndarray) -> list[str]:
    return [b58check_encode(b"\x41" + bytes(r[2:22])) for r in np.asarray(records)]


def _h41(evm_hex: str) -> str:
    return "41" + evm_hex[2:].lower()


class TronNodeWriter(EtlWriter):
    """Receives the economy's rows (ethereum-etl columns) and keeps TRON node answers."""

    def __init__(self, folder: Path) -> None:  # no CSV files
        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder
        self.node = NodeData()
        self.token_hex: str | None = None  # the economy's token address -> USDT's contract
        self._txs: list[dict[str, Any]] = []
        self._infos: dict[str, dict[str, Any]] = {}
        self._parent = "0" * 64
        self._genesis = 0

    def _addr(self, evm_hex: str) -> str:
        if self.token_hex is not None and evm_hex.lower() == self.token_hex:
            return "41" + USDT_HEX
        return _h41(evm_hex)

    def row(self, table: str, values: list[Any] | tuple[Any, ...]) -> None:
        if table == "transactions":
            self._tx(values)
        elif table == "logs":
            _, txh, _, _, _, address, data, topics = values
            info = self._infos[str(txh)[2:]]
            words = [t[2:] for t in str(topics).split(",")]
            log = {"address": self._addr(str(address))[2:], "topics": words, "data": data[2:]}
            info.setdefault("log", []).append(log)
        elif table == "traces":
            self._trace(values)
        elif table == "blocks":
            self._block(values)

    def _tx(self, v: Sequence[Any]) -> None:
        txh, n, frm, to, value, data, t = v[0], v[3], v[5], v[6], int(v[7]), str(v[10]), v[11]
        gas_used, price = int(v[16]), int(v[20])
        txid = str(txh)[2:]
        owner, target = self._addr(str(frm)), self._addr(str(to))
        if data == "0x":
            kind = "TransferContract"
            param: dict[str, Any] = {"amount": value // SCALE, "owner_address": owner,
                                     "to_address": target}  # fmt: skip
        else:
            kind = "TriggerSmartContract"
            param = {"data": data[2:], "owner_address": owner, "contract_address": target}
            if value:
                param["call_value"] = value // SCALE
        fee = gas_used * price // SCALE
        tx = {
            "ret": [{"contractRet": "SUCCESS"}],
            "txID": txid,
            "raw_data": {
                "contract": [{"parameter": {"value": param, "type_url":
                              f"type.googleapis.com/protocol.{kind}"}, "type": kind}],
                "timestamp": int(t) * 1000,
            },
        }  # fmt: skip
        receipt: dict[str, Any] = {"result": "SUCCESS"}
        if kind == "TriggerSmartContract":
            receipt.update(energy_usage_total=gas_used, energy_fee=fee)
        else:
            receipt.update(net_usage=268, net_fee=fee)
        info: dict[str, Any] = {"id": txid, "fee": fee, "blockNumber": int(n),
                                "blockTimeStamp": int(t) * 1000, "contractResult": [""],
                                "receipt": receipt}  # fmt: skip
        if kind == "TriggerSmartContract":
            info["contract_address"] = target
        self._txs.append(tx)
        self._infos[txid] = info

    def _trace(self, v: Sequence[Any]) -> None:
        trace_type, trace_address = str(v[8]), str(v[14])
        if trace_type == "genesis":
            self._genesis += 1
            txid = hashlib.sha256(f"tron-sim genesis {self._genesis}".encode()).hexdigest()
            param = {"amount": int(v[5]) // SCALE, "owner_address": ZERO_OWNER,
                     "to_address": _h41(str(v[4]))}  # fmt: skip
            contract = {"parameter": {"value": param}, "type": "TransferContract"}
            self._txs.append(
                {"ret": [{"contractRet": "SUCCESS"}], "txID": txid,
                 "raw_data": {"contract": [contract]}}
            )  # fmt: skip
            self._infos[txid] = {"id": txid, "blockNumber": 0, "receipt": {}}
            return
        if trace_address == "" or not int(v[5] or 0):
            return  # the top-level call: its value is the transaction's own
        info = self._infos[str(v[1])[2:]]
        k = len(info.get("internal_transactions", []))
        itx = {
            "hash": hashlib.sha256(f"{v[1]} {k}".encode()).hexdigest(),
            "caller_address": self._addr(str(v[3])),
            "transferTo_address": self._addr(str(v[4])),
            "callValueInfo": [{"callValue": int(v[5]) // SCALE}],
            "note": "63616c6c",
        }
        info.setdefault("internal_transactions", []).append(itx)

    def _block(self, v: Sequence[Any]) -> None:
        n, miner, t = int(v[0]), str(v[9]), int(v[16])
        block = make_block(n, self._parent, t * 1000, self._txs, witness=_h41(miner))
        self.node.blocks[n] = block
        if self._txs:
            self.node.infos[n] = [self._infos[x["txID"]] for x in self._txs]
        self._parent = block["blockID"]
        self._txs, self._infos = [], {}

    def close(self, tokens: Sequence[Sequence[object]] = ()) -> None:
        # the node answers symbol() and decimals() of USDT as mainnet's contract does
        self.node.trc20["41" + USDT_HEX] = ("USDT", 6)
        with open(self.folder / "node.json", "w", encoding="utf-8") as f:
            json.dump(self.node.to_json(), f, separators=(",", ":"))

    @property
    def paths(self) -> list[Path]:
        return [self.folder / "node.json"]


class TronChain(EvmChain):
    """The economy's ledger with TRON's fee habits: every fee burned at one energy price,
    native amounts exact in sun."""

    def begin_block(self, miner: int) -> None:
        super().begin_block(miner)
        self.time += 3 - 12  # three-second slots (the parent drew 12 s; keep its draws)
        self.base_fee = ENERGY_PRICE

    def fees(self, gas: int) -> tuple[int, int, int]:
        return 0, self.base_fee, gas * self.base_fee

    def send(self, sender: int, to: int, value: int, gas_used: int = 21_000) -> str:
        return super().send(sender, to, value - value % SCALE, gas_used)

    def call_with_internal(
        self, sender: int, to: int, value: int, internal: list[tuple[int, int, int]]
    ) -> str:
        moves = [(a, b, v - v % SCALE) for a, b, v in internal]
        if value and value == sum(v for _, _, v in internal):  # a multi-send pays out all it
            value = sum(v for _, _, v in moves)  # got: whole sun each, no dust left behind
        return super().call_with_internal(sender, to, value - value % SCALE, moves)

    def genesis(self, allocations: list[tuple[int, int]]) -> None:
        super().genesis([(a, v - v % SCALE) for a, v in allocations])


class TronSim(EvmSim):
    chain_code = "TRX"
    swaps = True

    def native_units(self, value: int) -> int:
        return value - value % SCALE

    def make_chain(self, reg: Registry, d: Draws, out: Path, start: int) -> EvmChain:
        self.writer = self.tron_writer = TronNodeWriter(out / "tron")
        return TronChain(reg, d, self.writer, start)

    def finish(self) -> None:
        self.mark_swept()
        for c in self.truth.complaints:
            c.chain = "TRX"
            c.txid = c.txid.removeprefix("0x")
            c.vout = None if c.vout is None or c.vout < 0 else 0  # one log per USDT call
            if c.asset in ("ETH", "TRX"):  # native amounts: economy units -> sun
                c.asset, c.amount = "TRX", c.amount // SCALE
        for x in self.truth.cashouts:
            x.txid = x.txid.removeprefix("0x")
            x.vout = None if x.vout is None or x.vout < 0 else 0
            if x.asset in ("ETH", "TRX"):
                x.asset, x.amount = "TRX", x.amount // SCALE
        for s in self.truth.swaps:
            s.txid = s.txid.removeprefix("0x")
            s.bought //= SCALE
        for camp in self.truth.campaigns:
            if "ETH" in camp.total_loss:
                camp.total_loss["TRX"] = camp.total_loss.pop("ETH") // SCALE
        for ex in self.exchanges[:3:2]:
            for addr in ex.hot:
                self.truth.tags.append(Tag(addr, ex.name))
        if self.swap_pool is not None:
            self.truth.tags.append(Tag(self.swap_pool, "SunSwap-sim USDT/TRX pool", "defi_dex"))
        self.truth.campaigns.sort(key=lambda c: c.id)
        TruthWriter(self.registry, encode_tron, "TRX").write_all(self.truth, self.out)
        self.registry.discard()


def run_tron(
    scenario: str,
    out: Path,
    seed: int,
    txs: int,
    start: int,
    progress: Callable[[int, int], None] | None,
    style: Style | None = None,
) -> SimulationSummary:
    sim = TronSim(scenario, out, seed, txs, start, style)
    sim.tron_writer.token_hex = sim.chain.hex[sim.chain.token_addr].lower()
    sim.run(None if progress is None else (lambda n: progress(n, txs)))
    sim.finish()
    files = ["tron/node.json", "truth.json", "complaints.csv", "tags.yaml"]
    return sim_summary(sim, scenario, seed, "tron", files)
