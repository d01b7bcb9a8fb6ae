"""Addresses parsed and validated per chain, with their checksums, before any lookup.

A mistyped address gets an error naming the problem (bad character, checksum,
length), never a silent "not found".
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from fundtrail.errors import InvalidInputError
from fundtrail.model.chains import find_chain, get_chain
from fundtrail.model.encoding import (
    B58_ALPHABET,
    b58check_decode,
    b58check_encode,
    eip55,
    segwit_decode,
)

_HEX40 = re.compile(r"^0x[0-9a-fA-F]{40}$")
_TRON_HEX = re.compile(r"^(0x)?41[0-9a-fA-F]{40}$")
_CASHADDR = re.compile(r"^(bitcoincash:)?[qp][02-9ac-hj-np-z]{41}$")
_XRP_ALPHABET = set("rpshnaf39wBUDNEGHJKLM4PQRST7VWXYZ2bcdeCg65jkm8oFqi1tuvAxyz")
_B58_SET = frozenset(B58_ALPHABET)

# base58check version bytes -> script type, per chain
_B58_VERSIONS: dict[str, dict[int, str]] = {
    # Bitcoin's test networks (testnet, testnet4, signet, regtest) write m/n... and 2...,
    # as bech32 takes tb1/bcrt1 below: a workspace holds one network (chains/bitcoin/network)
    "BTC": {0x00: "p2pkh", 0x05: "p2sh", 0x6F: "p2pkh", 0xC4: "p2sh"},
    "BCH": {0x00: "p2pkh", 0x05: "p2sh"},
    "LTC": {0x30: "p2pkh", 0x32: "p2sh", 0x05: "p2sh"},
    "DASH": {0x4C: "p2pkh", 0x10: "p2sh"},
}
_SEGWIT_HRP = {"BTC": ("bc", "tb", "bcrt"), "LTC": ("ltc",)}


@dataclass(frozen=True, slots=True)
class Address:
    chain: str  # chain code
    value: str  # normalised key: what stores and hashes use
    display: str  # what people see (EIP-55 for EVM)
    kind: str  # p2pkh, p2sh, p2wpkh, p2wsh, p2tr, witness_vN, evm, tron, ...

    def __str__(self) -> str:
        return self.display


def parse_address(text: str, chain: str = "BTC") -> Address:
    """Validate ``text`` as an address on ``chain`` and return its normalised form."""
    if not isinstance(text, str) or not text.strip():
        raise InvalidInputError("address is empty", field="address")
    s = text.strip()
    if len(s) > 128:
        raise InvalidInputError("address is longer than any known format", field="address")
    c = get_chain(chain)
    code = c.code
    if c.family == "evm":
        return _parse_evm(s, code)
    if c.family == "tron":
        return _parse_tron(s)
    if code in _B58_VERSIONS:
        return _parse_utxo(s, code)
    if code == "ZEC":
        return _parse_zcash(s)
    if code == "XRP":
        if not (s.startswith("r") and 25 <= len(s) <= 35 and set(s) <= _XRP_ALPHABET):
            raise InvalidInputError(f"{s!r} is not an XRP Ledger address", field="address")
        return Address(code, s, s, "xrp")
    if code == "XMR":
        if len(s) in (95, 106) and set(s) <= _B58_SET:
            return Address(code, s, s, "monero")
        if re.fullmatch(r"[0-9a-f]{64}", s):  # OFAC lists some XMR entries as tx keys / hex
            return Address(code, s, s, "monero_hex")
        raise InvalidInputError(f"{s!r} is not a Monero address", field="address")
    raise InvalidInputError(f"addresses on {code} are not supported", field="chain")


def format_address(value: str | None, chain: str) -> str | None:
    """What people see for a stored address key: EIP-55 on EVM chains, base58check ``T…``
    on TRON, the key itself elsewhere. Pseudo-addresses (``coinbase``, ``fee``) and other
    text that is not an address of the chain are returned unchanged."""
    if value is None:
        return None
    c = find_chain(chain)
    family = c.family if c is not None else "evm" if _HEX40.match(value) else "other"
    if family == "evm" and _HEX40.match(value):
        return eip55(value[2:])
    if family == "tron" and _TRON_HEX.match(value):
        return b58check_encode(bytes.fromhex(value[-42:]))
    return value


def _parse_evm(s: str, code: str) -> Address:
    if not _HEX40.match(s):
        raise InvalidInputError(
            f"{s!r} is not an EVM address (expected 0x followed by 40 hex digits)", field="address"
        )
    body = s[2:]
    checksummed = eip55(body)
    if body != body.lower() and body != body.upper() and checksummed != s:
        raise InvalidInputError(
            f"EIP-55 checksum mismatch in {s!r} (expected {checksummed}); mistyped character?",
            field="address",
        )
    return Address(code, "0x" + body.lower(), checksummed, "evm")


def _parse_tron(s: str) -> Address:
    if _TRON_HEX.match(s):
        raw = bytes.fromhex(s[-42:])
        s = b58check_encode(raw)
    payload = b58check_decode(s)
    if len(payload) != 21 or payload[0] != 0x41:
        raise InvalidInputError(f"{s!r} is not a TRON address (T..., 21 bytes)", field="address")
    return Address("TRX", s, s, "tron")


def _parse_utxo(s: str, code: str) -> Address:
    hrps = _SEGWIT_HRP.get(code, ())
    low = s.lower()
    for hrp in hrps:
        if low.startswith(hrp + "1"):
            _, version, program = segwit_decode(s)
            kind = (
                ("p2wpkh" if len(program) == 20 else "p2wsh")
                if version == 0
                else "p2tr"
                if version == 1 and len(program) == 32
                else f"witness_v{version}"
            )
            return Address(code, low, low, kind)
    if code == "BCH" and _CASHADDR.match(low):
        value = low if low.startswith("bitcoincash:") else "bitcoincash:" + low
        return Address(code, value, value, "cashaddr")
    if not set(s) <= _B58_SET:
        bad = next(c for c in s if c not in B58_ALPHABET)
        raise InvalidInputError(
            f"invalid character {bad!r} in {code} address {s!r}", field="address"
        )
    payload = b58check_decode(s)
    versions = _B58_VERSIONS[code]
    if len(payload) != 21 or payload[0] not in versions:
        raise InvalidInputError(
            f"{s!r} is not a {code} address (unexpected version byte or length)",
            field="address",
        )
    return Address(code, s, s, versions[payload[0]])


def _parse_zcash(s: str) -> Address:
    if s.startswith("t1") or s.startswith("t3"):
        payload = b58check_decode(s)
        if len(payload) == 22:
            return Address("ZEC", s, s, "transparent")
    if s.startswith("zs1") or s.startswith("u1"):
        return Address("ZEC", s, s, "shielded")
    raise InvalidInputError(f"{s!r} is not a Zcash address", field="address")


def guess_chain(text: str) -> str:
    """Best guess of the chain an address belongs to, for search boxes and imports."""
    s = text.strip()
    if _HEX40.match(s):
        return "ETH"
    if (s.startswith("T") and len(s) == 34) or _TRON_HEX.match(s):
        return "TRX"
    if s.lower().startswith("ltc1") or (s[:1] in "LM" and len(s) == 34):
        return "LTC"
    return "BTC"
