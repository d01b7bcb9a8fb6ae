"""java-tron's protobuf blocks, read without generated code, into the HTTP API's JSON.

A java-tron node answers gRPC as well as HTTP. A recorded gRPC block (``getBlockByNum2``
returns a ``BlockExtention``; ``getBlockByNum`` a ``Block``) holds the exact bytes the
chain hashes, which is what :mod:`fundtrail.chains.tron.verify` checks ids and Merkle roots
against; :func:`block_answer` turns it into the answer ``/wallet/getblockbynum`` gives for
the same block, so that the stub can serve it and ingest read it like any other.

Only the protobuf wire format is needed (varints and length-delimited fields); field
numbers and names come from tronprotocol/protocol (``core/Tron.proto``,
``core/contract/*.proto``). Contract parameters are written the way java-tron's
``JsonFormat`` writes them with ``visible=false``: bytes as hex, enums by name, fields at
their default value left out.
"""

from __future__ import annotations

from typing import Any

from fundtrail.errors import SourceError

Fields = dict[int, list[int | bytes]]

CONTRACT_TYPES = {
    0: "AccountCreateContract", 1: "TransferContract", 2: "TransferAssetContract",
    3: "VoteAssetContract", 4: "VoteWitnessContract", 5: "WitnessCreateContract",
    6: "AssetIssueContract", 8: "WitnessUpdateContract", 9: "ParticipateAssetIssueContract",
    10: "AccountUpdateContract", 11: "FreezeBalanceContract", 12: "UnfreezeBalanceContract",
    13: "WithdrawBalanceContract", 14: "UnfreezeAssetContract", 15: "UpdateAssetContract",
    16: "ProposalCreateContract", 17: "ProposalApproveContract", 18: "ProposalDeleteContract",
    19: "SetAccountIdContract", 20: "CustomContract", 30: "CreateSmartContract",
    31: "TriggerSmartContract", 32: "GetContract", 33: "UpdateSettingContract",
    41: "ExchangeCreateContract", 42: "ExchangeInjectContract", 43: "ExchangeWithdrawContract",
    44: "ExchangeTransactionContract", 45: "UpdateEnergyLimitContract",
    46: "AccountPermissionUpdateContract", 48: "ClearABIContract", 49: "UpdateBrokerageContract",
    51: "ShieldedTransferContract", 52: "MarketSellAssetContract", 53: "MarketCancelOrderContract",
    54: "FreezeBalanceV2Contract", 55: "UnfreezeBalanceV2Contract",
    56: "WithdrawExpireUnfreezeContract", 57: "DelegateResourceContract",
    58: "UnDelegateResourceContract", 59: "CancelAllUnfreezeV2Contract",
}  # fmt: skip
CONTRACT_RESULTS = (
    "DEFAULT", "SUCCESS", "REVERT", "BAD_JUMP_DESTINATION", "OUT_OF_MEMORY",
    "PRECOMPILED_CONTRACT", "STACK_TOO_SMALL", "STACK_TOO_LARGE", "ILLEGAL_OPERATION",
    "STACK_OVERFLOW", "OUT_OF_ENERGY", "OUT_OF_TIME", "JVM_STACK_OVER_FLOW", "UNKNOWN",
    "TRANSFER_FAILED", "INVALID_CODE",
)  # fmt: skip
RESOURCES = ("BANDWIDTH", "ENERGY", "TRON_POWER")

# field number -> (JSON name, how it is written): "hex" bytes, "int", "text" (a proto
# string), "resource" (the ResourceCode enum), "bool". Owner first, as every contract has one.
_OWNER = {1: ("owner_address", "hex")}
_RESOURCE_FIELDS = {**_OWNER, 2: ("resource", "resource"), 3: ("balance", "int"),
                    4: ("receiver_address", "hex")}  # fmt: skip
_TOKEN_QUANT = {**_OWNER, 2: ("exchange_id", "int"), 3: ("token_id", "hex"), 4: ("quant", "int")}
CONTRACT_FIELDS: dict[str, dict[int, tuple[str, str]]] = {
    "AccountCreateContract": {**_OWNER, 2: ("account_address", "hex"), 3: ("type", "int")},
    "TransferContract": {**_OWNER, 2: ("to_address", "hex"), 3: ("amount", "int")},
    "TransferAssetContract": {1: ("asset_name", "hex"), 2: ("owner_address", "hex"),
                              3: ("to_address", "hex"), 4: ("amount", "int")},
    "ParticipateAssetIssueContract": {**_OWNER, 2: ("to_address", "hex"),
                                      3: ("asset_name", "hex"), 4: ("amount", "int")},
    "TriggerSmartContract": {**_OWNER, 2: ("contract_address", "hex"), 3: ("call_value", "int"),
                             4: ("data", "hex"), 5: ("call_token_value", "int"),
                             6: ("token_id", "int")},
    "FreezeBalanceContract": {**_OWNER, 2: ("frozen_balance", "int"),
                              3: ("frozen_duration", "int"), 10: ("resource", "resource"),
                              15: ("receiver_address", "hex")},
    "UnfreezeBalanceContract": {**_OWNER, 10: ("resource", "resource"),
                                15: ("receiver_address", "hex")},
    "FreezeBalanceV2Contract": {**_OWNER, 2: ("frozen_balance", "int"),
                                3: ("resource", "resource")},
    "UnfreezeBalanceV2Contract": {**_OWNER, 2: ("unfreeze_balance", "int"),
                                  3: ("resource", "resource")},
    "DelegateResourceContract": {**_RESOURCE_FIELDS, 5: ("lock", "bool"),
                                 6: ("lock_period", "int")},
    "UnDelegateResourceContract": _RESOURCE_FIELDS,
    "ExchangeCreateContract": {**_OWNER, 2: ("first_token_id", "hex"),
                               3: ("first_token_balance", "int"), 4: ("second_token_id", "hex"),
                               5: ("second_token_balance", "int")},
    "ExchangeInjectContract": _TOKEN_QUANT,
    "ExchangeWithdrawContract": _TOKEN_QUANT,
    "ExchangeTransactionContract": {**_TOKEN_QUANT, 5: ("expected", "int")},
    "MarketSellAssetContract": {**_OWNER, 2: ("sell_token_id", "hex"),
                                3: ("sell_token_quantity", "int"), 4: ("buy_token_id", "hex"),
                                5: ("buy_token_quantity", "int")},
    "MarketCancelOrderContract": {**_OWNER, 2: ("order_id", "hex")},
    "ShieldedTransferContract": {1: ("transparent_from_address", "hex"),
                                 2: ("from_amount", "int"), 5: ("binding_signature", "hex"),
                                 6: ("transparent_to_address", "hex"), 7: ("to_amount", "int")},
}  # fmt: skip


def _varint(buf: bytes, i: int) -> tuple[int, int]:
    out = shift = 0
    while True:
        if i >= len(buf):
            raise SourceError("protobuf: a varint runs past the end of the bytes")
        byte = buf[i]
        i += 1
        out |= (byte & 0x7F) << shift
        if byte < 0x80:
            return out, i
        shift += 7
        if shift > 63:
            raise SourceError("protobuf: a varint is longer than 10 bytes")


def read(buf: bytes) -> Fields:
    """Every field of one message, by number, in order (repeated fields keep all values)."""
    out: Fields = {}
    i = 0
    while i < len(buf):
        key, i = _varint(buf, i)
        number, wire = key >> 3, key & 7
        value: int | bytes
        if wire == 0:
            value, i = _varint(buf, i)
        elif wire == 2:
            size, i = _varint(buf, i)
            if i + size > len(buf):
                raise SourceError(f"protobuf: field {number} is cut short")
            value, i = buf[i : i + size], i + size
        elif wire in (1, 5):
            width = 8 if wire == 1 else 4
            value, i = int.from_bytes(buf[i : i + width], "little"), i + width
        else:
            raise SourceError(f"protobuf: field {number} has unsupported wire type {wire}")
        out.setdefault(number, []).append(value)
    return out


def one_bytes(fields: Fields, number: int) -> bytes:
    """The (last) bytes value of ``number``, ``b""`` when absent (proto3 default)."""
    values = fields.get(number) or [b""]
    value = values[-1]
    if not isinstance(value, bytes):
        raise SourceError(f"protobuf: field {number} is a number where bytes were expected")
    return value


def one_int(fields: Fields, number: int) -> int:
    """The (last) integer value of ``number`` (int64 two's complement), 0 when absent."""
    values = fields.get(number) or [0]
    value = values[-1]
    if not isinstance(value, int):
        raise SourceError(f"protobuf: field {number} is bytes where a number was expected")
    return value - (1 << 64) if value >= 1 << 63 else value


def all_bytes(fields: Fields, number: int) -> list[bytes]:
    return [v for v in fields.get(number, []) if isinstance(v, bytes)]


def contract_value(kind: str, raw: bytes) -> dict[str, Any]:
    """A contract's parameter as the HTTP API writes it (only the fields named in
    :data:`CONTRACT_FIELDS`; for other contract types, the owner alone)."""
    fields = read(raw)
    table = CONTRACT_FIELDS.get(kind, _OWNER)
    out: dict[str, Any] = {}
    for number, (name, how) in table.items():
        if number not in fields:
            continue
        if how == "hex":
            out[name] = one_bytes(fields, number).hex()
        elif how == "text":
            out[name] = one_bytes(fields, number).decode("utf-8", "replace")
        elif how == "resource":
            code = one_int(fields, number)
            out[name] = RESOURCES[code] if 0 <= code < len(RESOURCES) else code
        elif how == "bool":
            out[name] = bool(one_int(fields, number))
        else:
            out[name] = one_int(fields, number)
    return out


def transaction_answer(tx: bytes, txid: str) -> dict[str, Any]:
    """One ``Transaction`` message as a block answer's transaction (txID given: it is the
    SHA-256 of ``raw_data``, which the caller checks)."""
    top = read(tx)
    raw_bytes = one_bytes(top, 1)
    raw = read(raw_bytes)
    contracts = []
    for c in all_bytes(raw, 11):
        cf = read(c)
        code = one_int(cf, 1)
        kind = CONTRACT_TYPES.get(code, f"ContractType{code}")
        any_msg = read(one_bytes(cf, 2))
        contracts.append({
            "parameter": {"value": contract_value(kind, one_bytes(any_msg, 2)),
                          "type_url": one_bytes(any_msg, 1).decode("ascii", "replace")},
            "type": kind,
        })  # fmt: skip
    rets = []
    for r in all_bytes(top, 5):
        rf = read(r)
        code = one_int(rf, 3)
        ret: dict[str, Any] = {"contractRet": CONTRACT_RESULTS[code]
                               if 0 <= code < len(CONTRACT_RESULTS) else str(code)}  # fmt: skip
        if one_int(rf, 1):
            ret["fee"] = one_int(rf, 1)
        rets.append(ret)
    raw_json: dict[str, Any] = {"contract": contracts,
                                "ref_block_bytes": one_bytes(raw, 1).hex(),
                                "ref_block_hash": one_bytes(raw, 4).hex(),
                                "expiration": one_int(raw, 8),
                                "timestamp": one_int(raw, 14)}  # fmt: skip
    if one_int(raw, 18):
        raw_json["fee_limit"] = one_int(raw, 18)
    if one_bytes(raw, 10):
        raw_json["data"] = one_bytes(raw, 10).hex()
    return {"ret": rets, "signature": [s.hex() for s in all_bytes(top, 2)], "txID": txid,
            "raw_data": raw_json, "raw_data_hex": raw_bytes.hex()}  # fmt: skip


def header_answer(header: bytes) -> dict[str, Any]:
    """A ``BlockHeader`` message as the answer's ``block_header``."""
    top = read(header)
    raw = read(one_bytes(top, 1))
    raw_json: dict[str, Any] = {"number": one_int(raw, 7),
                                "txTrieRoot": one_bytes(raw, 2).hex(),
                                "witness_address": one_bytes(raw, 9).hex(),
                                "parentHash": one_bytes(raw, 3).hex(),
                                "version": one_int(raw, 10),
                                "timestamp": one_int(raw, 1)}  # fmt: skip
    return {"raw_data": raw_json, "witness_signature": one_bytes(top, 2).hex()}


def block_answer(extension: bytes) -> dict[str, Any]:
    """A ``BlockExtention`` (gRPC ``getBlockByNum2``) as ``/wallet/getblockbynum`` answers
    the same block: blockID, block_header and every transaction, in block order."""
    top = read(extension)
    txs = []
    for te in all_bytes(top, 1):
        tef = read(te)
        txs.append(transaction_answer(one_bytes(tef, 1), one_bytes(tef, 2).hex()))
    out: dict[str, Any] = {"blockID": one_bytes(top, 3).hex(),
                           "block_header": header_answer(one_bytes(top, 2))}  # fmt: skip
    if txs:
        out["transactions"] = txs
    return out
