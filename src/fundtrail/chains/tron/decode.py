"""A java-tron HTTP API block and its transaction infos, decoded into ledger records.

What one block contributes, exact in base units (sun for TRX, token units for tokens):

* ``TransferContract``: TRX ``owner -> to_address`` (kind ``native``);
* ``TransferAssetContract``: a TRC-10 token ``owner -> to_address`` (kind ``token``; the
  asset is the token id, e.g. ``1002000``);
* ``TriggerSmartContract``: TRX ``call_value`` (and TRC-10 ``call_token_value``) into the
  contract; every TRC-20 ``Transfer(address,address,uint256)`` log of the transaction info
  (kind ``token``); internal transactions carrying TRX or TRC-10 (kind ``internal``);
* ``CreateSmartContract``: the new contract's ``call_value``;
* the fee: every sun the transaction info says was burned (bandwidth, energy, account
  activation, memo, multi-signature), ``owner -> burn`` (kind ``burn``).

* the built-in markets (TRC-10 sales, Bancor exchanges, the order book, the shielded
  pool): see :mod:`fundtrail.chains.tron.legacy`, which needs some chain records looked up
  (:class:`~fundtrail.chains.tron.legacy.Records`).

A transaction whose ``contractRet`` is not ``SUCCESS`` pays its fee and moves nothing
else. Staking, voting, delegation, account and witness contracts are recorded as
transactions (status and fee) without inventing transfers.

Addresses arrive as hex ``41…`` (21 bytes) in block answers and as 20-byte hex in logs;
both are stored as base58check ``T…`` (the key ``model.addresses`` parses to).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fundtrail.chains.evm.records import SHIELDED_POOL, TRANSFER_TOPIC, BlockRecord, Move, TxRecord
from fundtrail.chains.tron import legacy
from fundtrail.chains.tron.fields import address, integer, trc10_id
from fundtrail.errors import SourceError

__all__ = ["NO_TRANSFER_CONTRACTS", "TronTx", "address", "block_number", "decode_block", "trc10_id"]

_TRANSFER = TRANSFER_TOPIC.removeprefix("0x")
NO_TRANSFER_CONTRACTS = frozenset(
    {
        "FreezeBalanceContract", "UnfreezeBalanceContract", "FreezeBalanceV2Contract",
        "UnfreezeBalanceV2Contract", "WithdrawExpireUnfreezeContract",
        "DelegateResourceContract", "UnDelegateResourceContract", "CancelAllUnfreezeV2Contract",
        "VoteWitnessContract", "WithdrawBalanceContract", "AccountCreateContract",
        "AccountUpdateContract", "AccountPermissionUpdateContract", "WitnessCreateContract",
        "WitnessUpdateContract", "AssetIssueContract", "UpdateAssetContract",
        "UpdateSettingContract", "UpdateEnergyLimitContract",
        "ClearABIContract", "ProposalCreateContract", "ProposalApproveContract",
        "ProposalDeleteContract", "SetAccountIdContract", "UpdateBrokerageContract",
        "UnfreezeAssetContract",
    }
)  # fmt: skip


@dataclass(slots=True)
class TronTx(TxRecord):
    """A TRON transaction: its TRX value, the sun it burned and its contract type."""

    burned: int = 0
    contract_type: str = ""

    @property
    def fee(self) -> int:
        return self.burned


def block_number(block: dict[str, Any]) -> int:
    try:
        return int(block["block_header"]["raw_data"].get("number", 0))
    except (KeyError, TypeError, AttributeError) as exc:
        raise SourceError(
            f"not a TRON block (no block_header.raw_data): {str(block)[:80]}"
        ) from exc


def decode_block(
    block: dict[str, Any],
    infos: list[dict[str, Any]] | None,
    records: legacy.Records | None = None,
) -> BlockRecord:
    """One block answer (``getblockbynum``) and its transaction infos
    (``gettransactioninfobyblocknum``) as a :class:`BlockRecord` of :class:`TronTx`;
    ``records``: what :func:`legacy.needs` asked for (token issues, exchanges, orders)."""
    n = block_number(block)
    raw = block["block_header"]["raw_data"]
    block_id = str(block.get("blockID") or "")
    if len(block_id) != 64:
        raise SourceError(f"block {n}: blockID {block_id!r} is not 64 hex digits")
    parent = str(raw.get("parentHash") or "0" * 64)
    t = integer(raw.get("timestamp"), f"block {n} timestamp") // 1000
    witness = address(raw.get("witness_address")) or "burn"
    by_id = {str(i.get("id")): i for i in infos or [] if isinstance(i, dict)}
    rec = BlockRecord(n, block_id, parent, t, witness, None, 0)
    found = records or legacy.Records()
    for index, tx in enumerate(block.get("transactions") or []):
        _decode_tx(rec, tx, index, by_id, found)
    missing = [x.hash for x in rec.txs if x.hash not in by_id]
    if missing:
        raise SourceError(
            f"block {n}: no transaction info for {len(missing)} of its transactions "
            f"(first {missing[0]}); the node's answers disagree"
        )
    return rec


def _decode_tx(
    rec: BlockRecord,
    tx: dict[str, Any],
    index: int,
    infos: dict[str, Any],
    records: legacy.Records,
) -> None:
    n = rec.number
    txid = str(tx.get("txID") or "").lower()
    if len(txid) != 64:
        raise SourceError(f"block {n}: transaction {index} has no 64-hex txID")
    contracts = (tx.get("raw_data") or {}).get("contract") or []
    if not contracts:
        raise SourceError(f"block {n}: transaction {txid} has no contract")
    contract = contracts[0]
    kind = str(contract.get("type") or "")
    value = (contract.get("parameter") or {}).get("value") or {}
    ret = (tx.get("ret") or [{}])[0] or {}
    info = infos.get(txid) or {}
    receipt = info.get("receipt") or {}
    status_text = str(ret.get("contractRet") or receipt.get("result") or "SUCCESS")
    ok = status_text == "SUCCESS" and info.get("result") != "FAILED"
    owner = address(value.get("owner_address"))
    if kind == "ShieldedTransferContract":  # no owner: the transparent sender or the pool
        owner = address(value.get("transparent_from_address")) or SHIELDED_POOL
    if owner is None:
        raise SourceError(f"block {n}: transaction {txid} ({kind}) has no owner_address")
    burned = integer(info.get("fee", ret.get("fee")), f"tx {txid} fee")
    to: str | None = None
    trx = 0
    moves: list[Move] = []
    if kind == "TransferContract":
        to = address(value.get("to_address"))
        trx = integer(value.get("amount"), f"tx {txid} amount")
    elif kind == "TransferAssetContract":
        to = address(value.get("to_address"))
        amount = integer(value.get("amount"), f"tx {txid} amount")
        token = trc10_id(value.get("asset_name"))
        if amount and to is not None:
            moves.append(Move("token", owner, to, amount, txid, index, -1, -1, token))
    elif kind == "TriggerSmartContract":
        to = address(value.get("contract_address"))
        trx = integer(value.get("call_value"), f"tx {txid} call_value")
        tokens = integer(value.get("call_token_value"), f"tx {txid} call_token_value")
        if tokens and to is not None:
            token = str(value.get("token_id"))
            moves.append(Move("token", owner, to, tokens, txid, index, -1, -1, token))
    elif kind == "CreateSmartContract":
        to = address(info.get("contract_address"))
        new = value.get("new_contract") or {}
        trx = integer(new.get("call_value"), f"tx {txid} call_value")
    elif kind in legacy.LEGACY_CONTRACTS:
        if ok:
            found = legacy.moves(kind, value, info, owner, txid, index, records)
            to, trx = found.to, found.trx
            moves.extend(found.moves)
    elif kind not in NO_TRANSFER_CONTRACTS:
        to = address(value.get("to_address")) if value.get("to_address") else None
    if ok:
        moves.extend(_logs(info, txid, index))
        moves.extend(_internal(info, txid, index))
    energy = integer(receipt.get("energy_usage_total"), f"tx {txid} energy")
    rec.txs.append(
        TronTx(txid, index, owner, to, trx, energy, 0, 1 if ok else 0, None, 0, burned, kind)
    )
    if ok:
        rec.moves.extend(moves)


def _logs(info: dict[str, Any], txid: str, index: int) -> list[Move]:
    out: list[Move] = []
    for li, log in enumerate(info.get("log") or []):
        topics = [str(x).lower().removeprefix("0x") for x in log.get("topics") or []]
        if len(topics) != 3 or topics[0] != _TRANSFER:
            continue  # not an ERC-20 style Transfer (ERC-721 has 4 topics)
        data = str(log.get("data") or "").removeprefix("0x")
        if not data:
            continue
        try:
            amount = int(data[:64], 16)
        except ValueError as exc:
            raise SourceError(f"tx {txid} log {li}: data is not hex") from exc
        contract = address(str(log.get("address") or ""))
        sender, receiver = address(topics[1]), address(topics[2])
        if contract is None or sender is None or receiver is None:
            continue
        out.append(Move("token", sender, receiver, amount, txid, index, li, -1, contract))
    return out


def _internal(info: dict[str, Any], txid: str, index: int) -> list[Move]:
    out: list[Move] = []
    for ti, itx in enumerate(info.get("internal_transactions") or []):
        if itx.get("rejected"):
            continue
        sender = address(itx.get("caller_address"))
        receiver = address(itx.get("transferTo_address"))
        if sender is None or receiver is None:
            continue
        for cv in itx.get("callValueInfo") or []:
            amount = integer(cv.get("callValue"), f"tx {txid} internal {ti}")
            if not amount:
                continue
            token = cv.get("tokenId")
            contract = str(token) if token not in (None, "") else None
            out.append(Move("internal", sender, receiver, amount, txid, index, -1, ti, contract))
    return out
