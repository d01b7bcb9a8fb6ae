"""The chains fundtrail knows: their ledger model, native asset and decimals."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from fundtrail.errors import InvalidInputError

LedgerModel = Literal["utxo", "account", "other"]


@dataclass(frozen=True, slots=True)
class Chain:
    code: str  # upper-case ticker used in the API: BTC, ETH, BSC, TRX
    name: str
    model: LedgerModel
    native_asset: str
    decimals: int

    @property
    def store(self) -> str:
        """Name of the chain-store folder (lower case)."""
        return self.code.lower()


CHAINS: dict[str, Chain] = {
    c.code: c
    for c in (
        Chain("BTC", "Bitcoin", "utxo", "BTC", 8),
        Chain("LTC", "Litecoin", "utxo", "LTC", 8),
        Chain("BCH", "Bitcoin Cash", "utxo", "BCH", 8),
        Chain("DASH", "Dash", "utxo", "DASH", 8),
        Chain("ZEC", "Zcash", "utxo", "ZEC", 8),
        Chain("ETH", "Ethereum", "account", "ETH", 18),
        Chain("BSC", "BNB Smart Chain", "account", "BNB", 18),
        Chain("ETC", "Ethereum Classic", "account", "ETC", 18),
        Chain("ARB", "Arbitrum One", "account", "ETH", 18),
        Chain("POLYGON", "Polygon PoS", "account", "POL", 18),
        Chain("TRX", "TRON", "account", "TRX", 6),
        Chain("XMR", "Monero", "other", "XMR", 12),
        Chain("XRP", "XRP Ledger", "account", "XRP", 6),
    )
}

ALIASES = {
    "XBT": "BTC",
    "BITCOIN": "BTC",
    "ETHEREUM": "ETH",
    "BNB": "BSC",
    "TRON": "TRX",
    "MATIC": "POLYGON",
    "USDT": "ETH",
    "USDC": "ETH",
}

EVM_CHAINS = frozenset({"ETH", "BSC", "ETC", "ARB", "POLYGON"})


def get_chain(code: str) -> Chain:
    key = code.strip().upper()
    key = ALIASES.get(key, key)
    try:
        return CHAINS[key]
    except KeyError:
        known = ", ".join(sorted(CHAINS))
        raise InvalidInputError(f"unknown chain {code!r}; known: {known}", field="chain") from None


def evm_chain(code: str) -> Chain:
    """Any EVM chain by name; an unknown name is accepted as a custom EVM chain."""
    key = code.strip().upper()
    key = ALIASES.get(key, key)
    if key in CHAINS:
        return CHAINS[key]
    if not key.replace("-", "").replace("_", "").isalnum():
        raise InvalidInputError(f"invalid chain name {code!r}", field="chain")
    return Chain(key, key, "account", key, 18)
